#!/usr/bin/env bash
# Measures the desktop window's responsiveness on a big core (docs/performance.md, "GUI"): makes a
# core with samples/bigcore unless one is given, then opens it in the real window on the offscreen
# platform (build/default/benchmarks/gui_responsiveness) and prints when the maps table and the
# crash panel were filled, the longest GUI-thread stall, and the time to build and show the big
# map's structure with its level of detail. Benchmarks are not tests: nothing here asserts a time.
#
# usage: scripts/gui-responsiveness.sh [--go 1.26] [--size 400M] [--work DIR] [--map main.huge]
#        scripts/gui-responsiveness.sh --core CORE --exe EXE [--map NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
GO=1.26 SIZE=400M WORK=${TMPDIR:-/tmp}/gomapcore-gui-bench MAP=main.huge CORE= EXE=
while [ $# -gt 0 ]; do
  case $1 in
    --go) GO=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --map) MAP=$2; shift 2 ;;
    --core) CORE=$2; shift 2 ;;
    --exe) EXE=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "gui-responsiveness: unknown argument $1" >&2; exit 2 ;;
  esac
done
TOOL=${GUI_RESPONSIVENESS:-build/default/benchmarks/gui_responsiveness}
[ -x "$TOOL" ] || { echo "gui-responsiveness: $TOOL is not built (cmake --build --preset default)" >&2; exit 2; }
if [ -z "$CORE" ]; then
  dir=$WORK/go$GO-$SIZE
  mkdir -p "$WORK"
  samples/bigcore/make-bigcore.sh --go "$GO" --size "$SIZE" --out "$dir" >"$dir.gen.log" 2>&1 ||
    { echo "gui-responsiveness: generating $dir failed, see $dir.gen.log" >&2; exit 1; }
  CORE=$dir/core EXE=$dir/bigcore
fi
[ -n "$EXE" ] || { echo "gui-responsiveness: --core needs --exe" >&2; exit 2; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "core: $CORE ($(( $(stat -c %s "$CORE") / 1048576 )) MiB), map $MAP"
cat "$CORE" >/dev/null  # warm: the numbers are the window's, not the disk's
QT_QPA_PLATFORM=offscreen "$TOOL" "$CORE" "$EXE" "$MAP"
