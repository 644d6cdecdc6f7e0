#!/usr/bin/env bash
# Builds samples/bigcore with one Go toolchain, runs it in an output folder until it dumps a
# core of roughly the requested size, and checks and reports the result.
#
# usage: samples/bigcore/make-bigcore.sh --go 1.23|1.26 --size SIZE --out DIR [--many N]
#                                        [--timeout SECONDS] [--force]
#
#   --go       toolchain release: GOMAPCORE_GO_DIR/go1.N/bin/go (default dir ~/.cache/gomapcore/go;
#              fetch it with samples/fetch-go-toolchains.sh)
#   --size     target core size, binary units: 4M, 400M, 2G, 8G (bigcore -size)
#   --out      output folder; afterwards it holds bigcore (the executable), core, stderr (the
#              ground truth and the runtime's crash output) and stdout. An earlier core there
#              is deleted first.
#   --many N   len(main.many) instead of the size-scaled default (e.g. 200000 with --size 4M)
#   --timeout  kill bigcore after this many seconds (default 3600)
#   --force    skip the free memory and disk space checks
#
# The core is checked against the truth with check-core.py (python3) when python3 is there.
# Needs a kernel.core_pattern that writes a file into the working directory ("core", or
# "core" with core_uses_pid=1); a pipe (systemd-coredump, apport) or a path is refused.
# Output is never committed. See README.md next to this script.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GODIR=${GOMAPCORE_GO_DIR:-$HOME/.cache/gomapcore/go}

die() { echo "make-bigcore: $*" >&2; exit 1; }
usage() { sed -n '2,22p' "$0"; }

GOVER= SIZE= OUT= MANY= TIMEOUT=3600 FORCE=0
while [ $# -gt 0 ]; do
  case $1 in
    --go | --size | --out | --many | --timeout)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --go) GOVER=$2 ;; --size) SIZE=$2 ;; --out) OUT=$2 ;; --many) MANY=$2 ;; --timeout) TIMEOUT=$2 ;;
      esac
      shift 2 ;;
    --go=*) GOVER=${1#*=}; shift ;;
    --size=*) SIZE=${1#*=}; shift ;;
    --out=*) OUT=${1#*=}; shift ;;
    --many=*) MANY=${1#*=}; shift ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$GOVER" ] && [ -n "$SIZE" ] && [ -n "$OUT" ] || { usage >&2; exit 64; }
GOVER=${GOVER#go}
[[ $GOVER =~ ^1\.[0-9]+$ ]] || die "--go wants a release like 1.23 or 1.26, not '$GOVER'"
[ -z "$MANY" ] || [[ $MANY =~ ^[0-9]+$ ]] || die "--many wants a count, not '$MANY'"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds, not '$TIMEOUT'"

# SIZE in bytes (the same syntax as bigcore -size: a number, optional K/M/G/T, optional i/B).
size_bytes=$(awk -v s="$SIZE" 'BEGIN {
  s = toupper(s); sub(/B$/, "", s); sub(/I$/, "", s)
  m = 1; u = substr(s, length(s), 1)
  if (u == "K") m = 2^10; else if (u == "M") m = 2^20; else if (u == "G") m = 2^30; else if (u == "T") m = 2^40
  if (m > 1) s = substr(s, 1, length(s) - 1)
  if (s !~ /^[0-9]+(\.[0-9]*)?$/ || s + 0 <= 0) exit 1
  printf "%.0f\n", s * m }') || die "bad --size '$SIZE' (want e.g. 4M, 400M, 2G, 8G)"

pattern=$(cat /proc/sys/kernel/core_pattern)
case $pattern in
  '|'*) die "kernel.core_pattern is '$pattern', a pipe to a crash handler: the core would not land in --out. Set a plain file name first, e.g. sysctl -w kernel.core_pattern=core" ;;
  */*) die "kernel.core_pattern is '$pattern', a path: the core would not land in --out. Set a plain file name, e.g. sysctl -w kernel.core_pattern=core" ;;
esac
ulimit -c unlimited 2>/dev/null || die "cannot raise the core size limit (ulimit -c unlimited; hard limit $(ulimit -Hc))"

goroot=$GODIR/go$GOVER
[ -x "$goroot/bin/go" ] || die "no toolchain at $goroot/bin/go; fetch it with: samples/fetch-go-toolchains.sh $GODIR $GOVER"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/core" "$OUT"/core.[0-9]* "$OUT/stderr" "$OUT/stdout"

# The process holds about SIZE in memory; the core needs SIZE of disk (less where untouched
# memory leaves holes).
mib() { echo $((($1 + 1048575) / 1048576)); }
if [ $FORCE = 0 ]; then
  need=$((size_bytes + size_bytes / 4 + (256 << 20)))
  avail_mem=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024))
  [ "$avail_mem" -ge "$need" ] ||
    die "$(mib "$avail_mem") MiB of memory available, $(mib "$need") MiB wanted for --size $SIZE (--force to try anyway)"
  avail_disk=$(($(df -Pk "$OUT" | awk 'NR == 2 {print $4}') * 1024))
  [ "$avail_disk" -ge "$need" ] ||
    die "$(mib "$avail_disk") MiB free under $OUT, $(mib "$need") MiB wanted for the core (--force to try anyway)"
fi

echo "== building bigcore with $("$goroot/bin/go" version)"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gomapcore
(cd "$HERE" && env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GOTOOLCHAIN=local GOENV=off GOFLAGS= \
  GOEXPERIMENT= GOCACHE="$cache/gocache-bigcore" GOPATH="$cache/gopath-bigcore" CGO_ENABLED=0 \
  GOOS=linux GOARCH=amd64 nice -n 10 go build -buildvcs=false -o "$OUT/bigcore" .)

args=(-size "$SIZE")
[ -z "$MANY" ] || args+=(-many "$MANY")
echo "== running $OUT/bigcore ${args[*]} (GOTRACEBACK=crash, core_pattern '$pattern')"
t0=$(date +%s.%N)
# The program's stderr goes to the file; timeout's and the shell's messages do not.
# (the subshell waits for the command itself, so bash's "Aborted (core dumped)" goes to /dev/null)
status=$( (cd "$OUT" && GOTRACEBACK=crash GOMAXPROCS=2 GODEBUG= GOGC= GOMEMLIMIT= timeout -s KILL "$TIMEOUT" \
  nice -n 10 sh -c 'exec ./bigcore "$@" 2>stderr >stdout' bigcore "${args[@]}"; echo $?) 2>/dev/null)
t1=$(date +%s.%N)

grep -q '^GOMAPCORE-ERROR' "$OUT/stderr" && die "bigcore failed: $(grep -m1 '^GOMAPCORE-ERROR' "$OUT/stderr")"
[ $status = 137 ] && die "bigcore was killed after --timeout $TIMEOUT s (or by the OOM killer); see $OUT/stderr"
pid=$(grep -m1 '^GOMAPCORE-TRUTH {.*"record":"case"' "$OUT/stderr" | grep -o '"pid":[0-9]*' | cut -d: -f2) ||
  die "no case record in $OUT/stderr (exit status $status)"
[ -e "$OUT/core" ] || { [ -e "$OUT/core.$pid" ] && mv "$OUT/core.$pid" "$OUT/core"; } || true
[ -e "$OUT/core" ] || die "no core in $OUT (exit status $status; core_pattern '$pattern'; ulimit -c $(ulimit -c))"
[ $status = 134 ] || die "bigcore exited with status $status, not 134 (SIGABRT)"
grep -q '"record":"crash"' "$OUT/stderr" || die "no crash record in $OUT/stderr"
grep -q '^panic: bigcore: done' "$OUT/stderr" || die "no 'panic: bigcore: done' in $OUT/stderr"
[ "$(head -c 4 "$OUT/core" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "$OUT/core is not an ELF file"

if command -v python3 >/dev/null; then
  python3 "$HERE/check-core.py" "$OUT/core" "$OUT/stderr" || die "the core does not match the truth in $OUT/stderr"
else
  echo "make-bigcore: no python3; the core was not checked against the truth (check-core.py)" >&2
fi

apparent=$(stat -c %s "$OUT/core")
ondisk=$(($(du -k "$OUT/core" | cut -f1) * 1024))
build_s=$(grep -o '"build_seconds":[0-9.]*' "$OUT/stderr" | cut -d: -f2)
gib() { awk -v b="$1" 'BEGIN { printf "%.2f GiB (%d MiB)", b / 2^30, b / 2^20 }'; }
echo "== $OUT/core: $(gib "$apparent") apparent, $(gib "$ondisk") on disk (target $(gib "$size_bytes"))"
awk -v a="$t0" -v b="$t1" -v h="$build_s" 'BEGIN {
  printf "== bigcore ran %.1f s: heap built in %.1f s, crash and core dump %.1f s\n", b - a, h, b - a - h }'
grep '^GOMAPCORE-TRUTH {.*"record":"heap"' "$OUT/stderr" | sed 's/^GOMAPCORE-TRUTH /== heap: /'
