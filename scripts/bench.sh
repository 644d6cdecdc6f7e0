#!/usr/bin/env bash
# Measures gomapcore on generated large cores (samples/bigcore), one run per core, and prints a
# Markdown table of ratios against reading the core sequentially (docs/performance.md).
#
# usage: scripts/bench.sh [--sizes 400M,2G,8G] [--go 1.23,1.26] [--work DIR] [--keep]
#   Needs the toolchains in GOMAPCORE_GO_DIR (samples/fetch-go-toolchains.sh), a kernel
#   core_pattern of "core", memory and disk for the largest core, and build/default built.
#   Benchmarks are not tests: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=400M GOS=1.23,1.26 WORK=${TMPDIR:-/tmp}/gomapcore-bench KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) SIZES=$2; shift 2 ;;
    --go) GOS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
GOMAPCORE=${GOMAPCORE:-build/default/analyzer/gomapcore}
TIME_TO_CRASH=${TIME_TO_CRASH:-build/default/benchmarks/time_to_crash}
for tool in "$GOMAPCORE" "$TIME_TO_CRASH"; do
  [ -x "$tool" ] || { echo "bench: $tool is not built (cmake --build --preset default)" >&2; exit 2; }
done
mkdir -p "$WORK"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); gomapcore $("$GOMAPCORE" --version)"
echo
echo "| core | size (MiB) | warm read (s) | crash first (s) | analyze (s) | × read | CPU user+sys (s) | peak RSS (MiB) | RSS / core | maps | maps/s | show largest (s) | × read |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
IFS=, read -ra sizes <<<"$SIZES"
IFS=, read -ra gos <<<"$GOS"
for size in "${sizes[@]}"; do
  for go in "${gos[@]}"; do
    dir=$WORK/go$go-$size
    samples/bigcore/make-bigcore.sh --go "$go" --size "$size" --out "$dir" >"$dir.gen.log" 2>&1 ||
      { echo "bench: generating $dir failed, see $dir.gen.log" >&2; continue; }
    core=$dir/core exe=$dir/bigcore
    cat "$core" >/dev/null
    read_s=$( { /usr/bin/time -f %e cat "$core" >/dev/null; } 2>&1 )
    # Seconds from the start until the engine delivers the crash (its onCrash), open included.
    crash_s=$("$TIME_TO_CRASH" "$core" "$exe" | sed -n 's/^open [0-9.]* s, crash \([0-9.]*\) s:.*/\1/p')
    stats=$( { /usr/bin/time -f '%e %U %S %M' "$GOMAPCORE" analyze "$core" --exe "$exe" --format json \
      --output "$dir/report.json" --fail-on never; } 2>&1 | tail -1 )
    read -r wall user sys rss_kb <<<"$stats"
    maps=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["maps"])' "$dir/report.json")
    show_s=$( { /usr/bin/time -f %e "$GOMAPCORE" show "$core" main.huge --exe "$exe" --max-entries 10 >/dev/null; } 2>&1 | tail -1 )
    core_mib=$(( $(stat -c %s "$core") >> 20 ))
    python3 - "$go" "$size" "$core_mib" "$read_s" "$crash_s" "$wall" "$user" "$sys" "$rss_kb" "$maps" "$show_s" <<'PY'
import sys
go, size, core_mib, read_s, crash_s, wall, user, sys_s, rss_kb, maps, show_s = sys.argv[1:]
core_mib, read_s, wall, rss = int(core_mib), float(read_s), float(wall), int(rss_kb) / 1024
ratio = lambda t: f"{t / read_s:.0f}" if read_s > 0 else "-"
print(f"| go{go} {size} | {core_mib} | {read_s:.2f} | {crash_s or '?'} | {wall:.1f} | {ratio(wall)} | {float(user) + float(sys_s):.1f} | "
      f"{rss:.0f} | {rss / core_mib:.2f} | {int(maps):,} | {int(maps) / wall:,.0f} | {float(show_s):.1f} | {ratio(float(show_s))} |")
PY
    [ "$KEEP" = 1 ] || rm -f "$core"
  done
done
