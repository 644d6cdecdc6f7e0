#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang-14, ASan+UBSan), prepares their seeds from
# the committed sample corpus, and runs each for SECONDS of wall time (one process, so wall time
# is CPU time). Crashes, hangs and out-of-memory inputs land in build/fuzz/artifacts/<target>/;
# copy each into tests/fuzz/regressions/<target>/ once fixed, where CTest replays it.
#
#   scripts/fuzz.sh SECONDS [TARGET...]
#   TARGET: core_file, dwarf_types, map_walkers_go1.23, map_walkers_go1.26 (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(core_file dwarf_types map_walkers_go1.23 map_walkers_go1.26)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

work=build/fuzz/work
mkdir -p "$work/inputs"
unpack() {  # unpack BUILD FILE: a corpus file, once (BUILD arm64-go1.N: from tests/corpus-arm64)
  local out="$work/inputs/$1/$2" source="tests/corpus/$1/$2.zst"
  [[ $1 == arm64-* ]] && source="tests/corpus-arm64/${1#arm64-}/$2.zst"
  if [ ! -s "$out" ]; then
    mkdir -p "$(dirname "$out")"
    zstd -q -d -f --long=31 "$source" -o "$out"
  fi
  echo "$out"
}

seed_core_file() {
  local dir=$work/seeds/core_file
  mkdir -p "$dir"
  # Heads of real cores: ELF header, program headers and the whole PT_NOTE, then as many
  # segment bytes as fit, so that the parser sees real notes and truncated segments.
  for build in go1.19 go1.23 go1.26 arm64-go1.26; do
    for scenario in healthy concurrent-writes; do
      core=$(unpack "$build" "$scenario.core")
      for size in 4096 16384 65536; do head -c "$size" "$core" >"$dir/$build-$scenario-$size"; done
    done
  done
  echo "$dir"
}

seed_dwarf_types() {
  local dir=$work/seeds/dwarf_types
  mkdir -p "$dir"
  # Uncompressed DWARF, so that mutations reach the DWARF readers rather than zlib.
  for build in go1.19 go1.23 go1.26; do
    [ -s "$dir/$build" ] || objcopy --decompress-debug-sections "$(unpack "$build" mapcrash)" "$dir/$build"
  done
  echo "$dir"
}

run() {  # run TARGET BINARY SEEDS [extra libFuzzer flags]
  local name=$1 binary=$2 seeds=$3
  shift 3
  local corpus=$work/corpus/$name artifacts=build/fuzz/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $name for ${seconds}s (corpus $corpus, artifacts $artifacts)"
  "$binary" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" 2>&1 | tee "$work/$name.log" |
    grep -E '^#[0-9]+ +(INITED|DONE|pulse)|^stat::|ERROR|^==' || true
  echo "fuzz: $name: corpus $(find "$corpus" -type f | wc -l) files, artifacts $(find "$artifacts" -type f | wc -l)"
}

for target in "${targets[@]}"; do
  case "$target" in
    core_file) run core_file build/fuzz/tests/fuzz/fuzz_core_file "$(seed_core_file)" -max_len=65536 ;;
    dwarf_types)
      seeds=$(seed_dwarf_types)
      max=$(stat -c %s "$seeds"/* | sort -n | tail -1)
      run dwarf_types build/fuzz/tests/fuzz/fuzz_dwarf_types "$seeds" -max_len="$max" -len_control=0 ;;
    map_walkers_go1.*)
      build=${target#map_walkers_}
      seeds=$work/seeds/$target
      mkdir -p "$seeds"
      export GOMAPCORE_FUZZ_CORE GOMAPCORE_FUZZ_EXE
      GOMAPCORE_FUZZ_CORE=$(unpack "$build" healthy.core)
      GOMAPCORE_FUZZ_EXE=$(unpack "$build" mapcrash)
      GOMAPCORE_FUZZ_WRITE_SEED=$seeds/recorded build/fuzz/tests/fuzz/fuzz_map_walkers -runs=0 >/dev/null 2>&1
      max=$(stat -c %s "$seeds/recorded")
      run "$target" build/fuzz/tests/fuzz/fuzz_map_walkers "$seeds" -max_len="$max" -len_control=0 ;;
    *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
  esac
done
