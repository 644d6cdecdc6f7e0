#!/usr/bin/env bash
# Builds samples/mapcrash with every Go toolchain/experiment variant, runs each scenario that
# applies to the build's map layout until it dumps core, checks the core against the truth
# the program printed (samples/corpus.py check), and stores the result in tests/corpus/.
#
# usage: samples/make-corpus.sh [--arch amd64|arm64] [--builds a,b] [--scenarios x,y] [--keep-going]
#
#   --arch        amd64 (default): native runs, kernel cores, tests/corpus/.
#                 arm64: GOARCH=arm64 builds run under qemu-aarch64 (qemu-user), whose own
#                 guest cores (qemu_<prog>_<time>_<pid>.core) go to tests/corpus-arm64/;
#                 default builds go1.23,go1.26 (see samples/README.md, "arm64 corpus")
#   --builds      regenerate only these builds (names below); default: all (arm64: go1.23,go1.26)
#   --scenarios   regenerate only these scenarios; default: all that apply to each build
#   --keep-going  go on with the next case after a case failed 5 times (exit status 1 at the end)
#
# Environment: GOMAPCORE_GO_DIR (toolchains, default ~/.cache/gomapcore/go; missing ones are
# fetched with samples/fetch-go-toolchains.sh), GOMAPCORE_CORPUS_DIR (default tests/corpus,
# or tests/corpus-arm64 with --arch arm64).
# Needs: zstd, python3, a core_pattern that writes a file (e.g. "core"); arm64: qemu-aarch64.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
GODIR=${GOMAPCORE_GO_DIR:-$HOME/.cache/gomapcore/go}
ATTEMPTS=5
RUN_TIMEOUT=120

# name -> toolchain release, GOEXPERIMENT, map layout
ALL_BUILDS=(go1.19 go1.23 go1.24-noswiss go1.25-noswiss go1.24 go1.25 go1.26 go1.27 go1.27-splitgroup)
declare -A TOOLCHAIN=([go1.19]=1.19 [go1.23]=1.23 [go1.24-noswiss]=1.24 [go1.25-noswiss]=1.25 [go1.24]=1.24
  [go1.25]=1.25 [go1.26]=1.26 [go1.27]=1.27 [go1.27-splitgroup]=1.27)
declare -A EXPERIMENT=([go1.24-noswiss]=noswissmap [go1.25-noswiss]=noswissmap [go1.27-splitgroup]=mapsplitgroup)
declare -A LAYOUT=([go1.19]=classic [go1.23]=classic [go1.24-noswiss]=classic [go1.25-noswiss]=classic
  [go1.24]=swiss [go1.25]=swiss [go1.26]=swiss [go1.27]=swiss [go1.27-splitgroup]=swiss)

die() { echo "make-corpus: $*" >&2; exit 1; }

BUILDS=("${ALL_BUILDS[@]}")
BUILDS_GIVEN=0
ARCH=amd64
ONLY_SCENARIOS=()
KEEP_GOING=0
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
    --arch=*) ARCH=${1#*=}; shift ;;
    --builds) [ $# -ge 2 ] || die "--builds needs a value"; IFS=, read -ra BUILDS <<<"$2"; BUILDS_GIVEN=1; shift 2 ;;
    --builds=*) IFS=, read -ra BUILDS <<<"${1#*=}"; BUILDS_GIVEN=1; shift ;;
    --scenarios) [ $# -ge 2 ] || die "--scenarios needs a value"; IFS=, read -ra ONLY_SCENARIOS <<<"$2"; shift 2 ;;
    --scenarios=*) IFS=, read -ra ONLY_SCENARIOS <<<"${1#*=}"; shift ;;
    --keep-going) KEEP_GOING=1; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case $ARCH in
  amd64) CORPUS=${GOMAPCORE_CORPUS_DIR:-$REPO/tests/corpus} ;;
  arm64)
    # The engine reads amd64 cores only so far (issue #20): arm64 cores live in their own
    # folder with their own manifest, out of tests/corpus/ which the test suite enumerates.
    CORPUS=${GOMAPCORE_CORPUS_DIR:-$REPO/tests/corpus-arm64}
    [ $BUILDS_GIVEN = 1 ] || BUILDS=(go1.23 go1.26)
    ;;
  *) die "unknown --arch $ARCH (amd64 or arm64)" ;;
esac
for b in "${BUILDS[@]}"; do [ -n "${TOOLCHAIN[$b]:-}" ] || die "unknown build $b (known: ${ALL_BUILDS[*]})"; done
all_scenarios=$( (python3 "$HERE/corpus.py" scenarios classic; python3 "$HERE/corpus.py" scenarios swiss) | sort -u)
for s in "${ONLY_SCENARIOS[@]}"; do grep -qx -- "$s" <<<"$all_scenarios" || die "unknown scenario $s"; done

command -v zstd >/dev/null || die "zstd is needed (apt-get install zstd)"
command -v python3 >/dev/null || die "python3 is needed"
if [ "$ARCH" = amd64 ]; then
  pattern=$(cat /proc/sys/kernel/core_pattern)
  case $pattern in
    '|'* | */*) die "kernel.core_pattern is '$pattern'; cores must be written to the working directory (sysctl -w kernel.core_pattern=core)" ;;
  esac
else
  # qemu-user writes the guest's core itself, into the working directory, whatever the
  # core_pattern; it needs only a nonzero RLIMIT_CORE (and honours it as a size limit).
  command -v qemu-aarch64 >/dev/null || die "qemu-aarch64 is needed (apt-get install qemu-user)"
fi
ulimit -c unlimited || die "cannot raise the core size limit (ulimit -c unlimited)"

# A fixed work folder keeps the paths recorded in the cores (the executable's path in
# NT_FILE and the command line in NT_PRPSINFO) the same from one generation to the next.
WORK=${TMPDIR:-/tmp}/gomapcore-corpus
KEEP_PREFIX=
RUNNER=()
if [ "$ARCH" = arm64 ]; then
  WORK=${TMPDIR:-/tmp}/gomapcore-corpus-arm64
  KEEP_PREFIX=arm64-
  RUNNER=(qemu-aarch64)
fi
command -v flock >/dev/null || die "flock is needed (util-linux)"
exec 9>"$WORK.lock"
flock -n 9 || die "another make-corpus.sh is running ($WORK.lock)"
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
FAILED=()

# run_case EXE SCENARIO LAYOUT RUNDIR: one attempt; succeeds if the run checks out.
run_case() {
  local exe=$1 scen=$2 layout=$3 dir=$4
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$ARCH" = arm64 ]; then
    run_case_qemu "$@"
    return
  fi
  # The program's stderr goes to the file; timeout's own messages do not.
  # (the trailing true keeps bash's "Aborted (core dumped)" job message in the subshell)
  (cd "$dir" && GOMAXPROCS=2 GOTRACEBACK= GODEBUG= timeout -s KILL "$RUN_TIMEOUT" \
    sh -c 'exec "$0" "$1" 2>stderr >stdout' "$exe" "$scen"; true) 2>/dev/null
  # core_uses_pid=1 names it core.PID
  if [ ! -e "$dir/core" ]; then
    local c
    for c in "$dir"/core.*; do [ -e "$c" ] && mv "$c" "$dir/core"; break; done
  fi
  python3 "$HERE/corpus.py" check "$dir" "$scen" "$layout" >"$dir/check.txt" 2>&1
}

# run_case_qemu: run_case for --arch arm64. qemu-aarch64 runs the guest; when the guest dies
# of a core-dumping signal, qemu writes the guest's aarch64 core as qemu_<prog>_<time>_<pid>.core
# in the working directory, then kills itself with the same signal. qemu 7.2 does not lower
# its own RLIMIT_CORE first (it believes the complete guest dump failed, apparently from a stale
# errno: no "qemu: uncaught target signal" line), so the kernel would also write a ~200 MB
# x86-64 core of qemu itself. An empty
# folder named like that core ("core", and "core.PID" for core_uses_pid=1: the shell's pid is
# qemu's after exec) makes the kernel's open fail, so it writes nothing.
run_case_qemu() {
  local exe=$1 scen=$2 layout=$3 dir=$4
  (cd "$dir" && GOMAXPROCS=2 GOTRACEBACK= GODEBUG= timeout -s KILL "$RUN_TIMEOUT" \
    sh -c 'mkdir core "core.$$" && exec qemu-aarch64 "$0" "$1" 2>stderr >stdout' "$exe" "$scen"; true) 2>/dev/null
  find "$dir" -maxdepth 1 -name 'core*' -type d -empty -delete
  rm -f "$dir/core" "$dir"/core.* # a core of qemu itself, if one got through after all
  local cores=("$dir"/qemu_*.core)
  if [ ${#cores[@]} -eq 1 ] && [ -e "${cores[0]}" ]; then
    basename "${cores[0]}" >"$dir/core-name"
    mv "${cores[0]}" "$dir/core"
  elif [ ${#cores[@]} -gt 1 ]; then
    echo "${#cores[@]} qemu cores: ${cores[*]}" >"$dir/check.txt"
    return 1
  fi
  python3 "$HERE/corpus.py" check "$dir" "$scen" "$layout" arm64 >"$dir/check.txt" 2>&1
}

for b in "${BUILDS[@]}"; do
  v=${TOOLCHAIN[$b]} exp=${EXPERIMENT[$b]:-} layout=${LAYOUT[$b]}
  goroot=$GODIR/go$v
  if [ ! -x "$goroot/bin/go" ]; then
    echo "== go$v missing: fetching it"
    "$HERE/fetch-go-toolchains.sh" "$GODIR" "$v"
  fi
  if [ "$ARCH" = amd64 ]; then
    echo "== $b: $("$goroot/bin/go" version) GOEXPERIMENT=${exp:-(none)} layout=$layout"
  else
    echo "== $b: $("$goroot/bin/go" version) GOARCH=$ARCH GOEXPERIMENT=${exp:-(none)} layout=$layout"
  fi
  bwork=$WORK/$b
  mkdir -p "$bwork"
  (cd "$HERE/mapcrash" && env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GOTOOLCHAIN=local GOENV=off GOFLAGS= \
    GOEXPERIMENT="$exp" GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" CGO_ENABLED=0 GOOS=linux GOARCH="$ARCH" \
    go build -buildvcs=false -o "$bwork/mapcrash" .)
  exe=$bwork/mapcrash

  scenarios=$(python3 "$HERE/corpus.py" scenarios "$layout")
  [ "$("${RUNNER[@]}" "$exe" list | sort)" = "$(sort <<<"$scenarios")" ] ||
    die "$b: the executable's scenarios ($("${RUNNER[@]}" "$exe" list | tr '\n' ' ')) differ from the $layout list"
  full=1
  if [ ${#ONLY_SCENARIOS[@]} -gt 0 ]; then
    full=0
    scenarios=$(grep -xF -f <(printf '%s\n' "${ONLY_SCENARIOS[@]}") <<<"$scenarios" || true)
  fi
  out=$CORPUS/$b
  if [ $full = 0 ]; then
    # Cases kept from an earlier run must come from the same executable.
    if [ -e "$out/mapcrash.zst" ] && ! cmp -s "$exe" <(zstd -dcq "$out/mapcrash.zst"); then
      die "$b: mapcrash differs from the stored one (any source change, even whitespace, changes the Go build ID); regenerate all of $b's scenarios (drop --scenarios)"
    fi
    stage=$out
  else
    stage=$bwork/out
  fi
  mkdir -p "$stage"

  for s in $scenarios; do
    ok=0
    for attempt in $(seq 1 $ATTEMPTS); do
      if run_case "$exe" "$s" "$layout" "$bwork/run-$s"; then
        ok=1
        break
      fi
      echo "   $s: attempt $attempt failed:" >&2
      sed 's/^/      /' "$bwork/run-$s/check.txt" >&2
    done
    if [ $ok = 0 ]; then
      FAILED+=("$b/$s")
      keep=${TMPDIR:-/tmp}/gomapcore-failed/$KEEP_PREFIX$b-$s
      rm -rf "$keep" && mkdir -p "$(dirname "$keep")" && cp -r "$bwork/run-$s" "$keep" && cp "$exe" "$keep/"
      [ $KEEP_GOING = 1 ] || die "$b/$s failed $ATTEMPTS times; last attempt kept in $keep"
      continue
    fi
    run=$bwork/run-$s
    rm -f "$stage/$s.core.zst" "$stage/$s.stderr" "$stage/$s.stderr.zst"
    zstd -19 --long -q -f "$run/core" -o "$stage/$s.core.zst"
    if [ "$(stat -c %s "$run/stderr")" -gt 65536 ]; then
      zstd -19 -q -f "$run/stderr" -o "$stage/$s.stderr.zst"
    else
      cp "$run/stderr" "$stage/$s.stderr"
    fi
    msg=$(grep -m1 -E '^(panic|fatal error): ' "$run/stderr")
    printf '   %-28s ok (attempt %d) core %6s KiB -> %5s KiB  %s\n' "$s" "$attempt" \
      $(($(du -k "$run/core" | cut -f1))) $(($(stat -c %s "$stage/$s.core.zst") / 1024)) "$msg"
    [ ! -e "$run/core-name" ] || echo "      (qemu wrote $(cat "$run/core-name"))"
    rm -rf "$run"
  done
  zstd -19 -q -f "$exe" -o "$stage/mapcrash.zst"
  chmod 644 "$stage"/*.zst "$stage"/*.stderr 2>/dev/null || true
  if [ $full = 1 ]; then
    rm -rf "$out"
    mkdir -p "$(dirname "$out")"
    mv "$stage" "$out"
  fi
done

specs=()
for b in "${ALL_BUILDS[@]}"; do specs+=("$b:${EXPERIMENT[$b]:-}"); done
if [ "$ARCH" = amd64 ]; then
  python3 "$HERE/corpus.py" manifest "$CORPUS" "${specs[@]}"
else
  python3 "$HERE/corpus.py" manifest --arch "$ARCH" --core-writer "$(qemu-aarch64 --version | head -1)" "$CORPUS" "${specs[@]}"
fi

echo "== corpus sizes (KiB)"
for b in "${ALL_BUILDS[@]}"; do [ -d "$CORPUS/$b" ] && printf '%-20s %8s\n' "$b" "$(du -sk "$CORPUS/$b" | cut -f1)"; done
printf '%-20s %8s\n' total "$(du -sk "$CORPUS" | cut -f1)"
if [ ${#FAILED[@]} -gt 0 ]; then
  die "failed cases: ${FAILED[*]}"
fi
