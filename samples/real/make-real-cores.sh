#!/usr/bin/env bash
# Builds real programs from the Go toolchain's own source (cmd/go, cmd/compile, cmd/vet,
# cmd/gofmt) with DWARF, runs them on real work, and kills them from outside the way production
# does (SIGABRT, or SIGQUIT, under GOTRACEBACK=crash) at chosen moments, including right after a
# GC cycle ended (GODEBUG=gctrace=1). Each case leaves CASE.core, the runtime's own traceback
# CASE.stderr, and CASE.json in OUT/go1.N/. See samples/real/README.md.
#
# usage: samples/real/make-real-cores.sh [--out DIR] [--go 1.23,1.26] [--cases a,b] [--force]
#
#   --out DIR    where everything goes (default: build/real-cores in the repository; never commit it)
#   --go LIST    toolchains, as 1.N (default: 1.23,1.26 — one classic-map, one swiss-map runtime)
#   --cases LIST cases to run (default: all; --list prints them)
#   --force      redo a case whose core is already there (default: skip it)
#   --list       print the cases and exit
#
# Environment: GOMAPCORE_GO_DIR (toolchains, default ~/.cache/gomapcore/go; a missing one is
# fetched with samples/fetch-go-toolchains.sh). Needs python3, readelf, and a kernel.core_pattern
# that writes a file in the dumping process's working directory (e.g. "core").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/build/real-cores
GODIR=${GOMAPCORE_GO_DIR:-$HOME/.cache/gomapcore/go}
VERSIONS=(1.23 1.26)
FORCE=0
ATTEMPTS=3

# case -> "program signal delay after-gc"; program: go-build (the built go running `go build -a std`,
# signalled itself), gofmt (the built gofmt running `gofmt -l` on GOROOT/src), vet (the built vet
# run by the toolchain's `go vet -vettool` on go/types; the vet process of go/types is signalled),
# compile (the built compile substituted for the toolchain's through -toolexec in
# `go build go/types`; the compile process of go/types is signalled).
ALL_CASES=(go-build-abrt-1s go-build-quit-3s go-build-quit-gc go-build-abrt-gc gofmt-abrt-1s gofmt-quit-gc
  vet-abrt-gc compile-quit-gc)
declare -A CASE=(
  [go-build-abrt-1s]="go-build ABRT 1 no"
  [go-build-quit-3s]="go-build QUIT 3 no"
  [go-build-quit-gc]="go-build QUIT 2 yes"
  [go-build-abrt-gc]="go-build ABRT 5 yes"
  [gofmt-abrt-1s]="gofmt ABRT 1 no"
  [gofmt-quit-gc]="gofmt QUIT 0.5 yes"
  [vet-abrt-gc]="vet ABRT 0.2 yes"
  [compile-quit-gc]="compile QUIT 0.2 yes"
)
CASES=("${ALL_CASES[@]}")

die() { echo "make-real-cores: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    --go) [ $# -ge 2 ] || die "--go needs a value"; IFS=, read -ra VERSIONS <<<"$2"; shift 2 ;;
    --go=*) IFS=, read -ra VERSIONS <<<"${1#*=}"; shift ;;
    --cases) [ $# -ge 2 ] || die "--cases needs a value"; IFS=, read -ra CASES <<<"$2"; shift 2 ;;
    --cases=*) IFS=, read -ra CASES <<<"${1#*=}"; shift ;;
    --force) FORCE=1; shift ;;
    --list) for c in "${ALL_CASES[@]}"; do printf '%-18s %s\n' "$c" "${CASE[$c]}"; done; exit 0 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
for c in "${CASES[@]}"; do [ -n "${CASE[$c]:-}" ] || die "unknown case $c (known: ${ALL_CASES[*]})"; done
for v in "${VERSIONS[@]}"; do [[ $v =~ ^1\.[0-9]+$ ]] || die "--go wants versions like 1.23, not $v"; done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

command -v python3 >/dev/null || die "python3 is needed"
command -v readelf >/dev/null || die "readelf is needed (binutils)"
pattern=$(cat /proc/sys/kernel/core_pattern)
case $pattern in
  '|'*) die "kernel.core_pattern is '$pattern' (a pipe: cores go to a helper such as systemd-coredump or apport, not to a file here); set it to write into the working directory: sysctl -w kernel.core_pattern=core" ;;
  */*) die "kernel.core_pattern is '$pattern'; cores must be written to the working directory (sysctl -w kernel.core_pattern=core)" ;;
esac
ulimit -c unlimited || die "cannot raise the core size limit (ulimit -c unlimited)"
exec 9>"$OUT/.lock"
flock -n 9 || die "another make-real-cores.sh is using $OUT"

FAILED=()
T_ALL=$(now)
for v in "${VERSIONS[@]}"; do
  goroot=$GODIR/go$v
  if [ ! -x "$goroot/bin/go" ]; then
    echo "== go$v missing: fetching it"
    "$REPO/samples/fetch-go-toolchains.sh" "$GODIR" "$v"
  fi
  version=$(GOROOT="$goroot" GOTOOLCHAIN=local GOENV=off "$goroot/bin/go" env GOVERSION)
  out=$OUT/go$v
  bin=$out/bin
  mkdir -p "$bin" "$out/run"
  echo "== go$v: $version (GOROOT $goroot)"
  # The programs: built from the toolchain's own source with DWARF (no -ldflags=-s -w, no
  # -trimpath). Incremental through the build folder's GOCACHE.
  benv=(env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GOTOOLCHAIN=local GOENV=off GOFLAGS= CGO_ENABLED=0
    GOOS=linux GOARCH=amd64 GOEXPERIMENT= GODEBUG= GOTRACEBACK= GOMAXPROCS=2 GOCACHE="$out/gocache"
    GOPATH="$OUT/gopath")
  # Only the programs the chosen cases run (the go command alone takes minutes to build cold).
  needed=()
  for c in "${CASES[@]}"; do
    read -r prog _ <<<"${CASE[$c]}"
    case $prog in go-build) p=go ;; *) p=$prog ;; esac
    [[ " ${needed[*]} " == *" $p "* ]] || needed+=("$p")
  done
  for p in "${needed[@]}"; do
    t=$(now)
    (cd "$goroot/src" && nice -n 10 "${benv[@]}" go build -buildvcs=false -o "$bin/$p-real" "cmd/$p" 9>&-) ||
      die "go$v: building cmd/$p failed"
    readelf -S -W "$bin/$p-real" | grep -qE '\.z?debug_info' || die "go$v: $bin/$p-real has no .debug_info"
    printf '   built %-13s %6s KiB  DWARF ok  %s\n' "$p-real" $(($(stat -c %s "$bin/$p-real") / 1024)) "$(since "$t")"
  done
  srcdir=$(cd "$goroot/src" && pwd -P)

  for c in "${CASES[@]}"; do
    read -r prog sig delay aftergc <<<"${CASE[$c]}"
    if [ -e "$out/$c.core" ] && [ $FORCE = 0 ]; then
      echo "   $c: core exists, skipped (--force redoes it)"
      continue
    fi
    rm -f "$out/$c.core" "$out/$c.stderr" "$out/$c.json"
    run=$out/run/$c
    renv=(env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GOTOOLCHAIN=local GOENV=off GOFLAGS= CGO_ENABLED=0
      GOEXPERIMENT= GOMAXPROCS=2 GOTRACEBACK=crash GOCACHE="$run/gocache" GOPATH="$run/gopath"
      GOMAPCORE_REAL_SUBST= GOMAPCORE_REAL_TARGET=)
    [ "$aftergc" = yes ] && renv+=(GODEBUG=gctrace=1) || renv+=(GODEBUG=)
    child=()
    case $prog in
      go-build)
        exe=$bin/go-real
        cmd=("$exe" build -a -toolexec "$HERE/toolexec.sh" std) ;;
      gofmt)
        exe=$bin/gofmt-real
        cmd=("$exe" -l "$srcdir") ;;
      vet)
        exe=$bin/vet-real
        renv+=(GOMAPCORE_REAL_TARGET="$exe")
        child=(--child-match '/src/go/types\n')
        cmd=(go vet -toolexec "$HERE/toolexec.sh" -vettool="$exe" go/types) ;;
      compile)
        exe=$bin/compile-real
        renv+=(GOMAPCORE_REAL_SUBST="compile=$exe" GOMAPCORE_REAL_TARGET="$exe")
        child=(--child-match '^-p\ngo/types$')
        cmd=(go build -toolexec "$HERE/toolexec.sh" go/types) ;;
    esac
    gcflag=()
    [ "$aftergc" = yes ] && gcflag=(--after-gc)
    ok=0
    for attempt in $(seq 1 $ATTEMPTS); do
      t=$(now)
      echo "   $c: attempt $attempt: SIG$sig to $(basename "$exe") after ${delay} s$([ "$aftergc" = yes ] && echo ', then at the next gc line')"
      if "${renv[@]}" python3 "$HERE/realcase.py" run --name "$c" --out "$out" --rundir "$run" --exe "$exe" \
        --signal "$sig" --delay "$delay" "${gcflag[@]}" "${child[@]}" \
        --meta program="$prog" --meta toolchain="$version" --meta goroot="$goroot" \
        -- nice -n 10 "${cmd[@]}" 9>&-; then
        ok=1
        echo "   $c: done in $(since "$t")"
        break
      fi
      echo "   $c: attempt $attempt failed after $(since "$t")"
    done
    rm -rf "$run"
    [ $ok = 1 ] || FAILED+=("go$v/$c")
  done
done
echo "== all done in $(since "$T_ALL")"
for v in "${VERSIONS[@]}"; do
  ls "$OUT/go$v"/*.core >/dev/null 2>&1 || continue
  echo "== go$v cores"
  for j in "$OUT/go$v"/*.json; do
    python3 - "$j" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
tb = r['traceback']
print(f"   {r['case']:<18} {r['core']['size'] / 2**20:7.1f} MiB ({r['core']['disk_bytes'] / 2**20:.1f} on disk) "
      f"{r['signal_sent']} at {r['signal_after_s']} s gc={r['gc_line_just_appeared']} | "
      f"{tb.get('signal', '?')} | {tb.get('first_goroutine', '?')}")
PY
  done
done
[ ${#FAILED[@]} = 0 ] || die "failed cases: ${FAILED[*]}"
