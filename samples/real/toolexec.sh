#!/bin/sh
# -toolexec wrapper used by samples/real/make-real-cores.sh: `go build -toolexec toolexec.sh`
# runs every tool as `toolexec.sh TOOL ARGS...`.
#
#   GOMAPCORE_REAL_PROCS   folder where the target's records go (set by realcase.py)
#   GOMAPCORE_REAL_SUBST   NAME=PATH: run PATH instead of the toolchain's tool NAME (e.g.
#                          compile=/out/go1.26/bin/compile-real); version queries (-V=full)
#                          still go to the toolchain's tool, whose answer the go command checks
#   GOMAPCORE_REAL_TARGET  the executable whose runs are candidate targets: each is recorded in
#                          PROCS/PID.info (the directory the go command started it in, then its
#                          arguments, one a line), writes its
#                          stderr to PROCS/PID.stderr and runs in PROCS/PID/, where its core lands
#                          (its file arguments are absolute, so the directory does not matter)
# Every other tool runs with GODEBUG unset, so that only the target writes gc trace lines.
tool=$1
shift
case ${1:-} in
  -V* | -flags) exec env -u GODEBUG "$tool" "$@" ;;
esac
if [ -n "${GOMAPCORE_REAL_SUBST:-}" ] && [ "${tool##*/}" = "${GOMAPCORE_REAL_SUBST%%=*}" ]; then
  tool=${GOMAPCORE_REAL_SUBST#*=}
fi
if [ -n "${GOMAPCORE_REAL_TARGET:-}" ] && [ "$tool" = "$GOMAPCORE_REAL_TARGET" ]; then
  procs=${GOMAPCORE_REAL_PROCS:?GOMAPCORE_REAL_PROCS is not set}
  mkdir "$procs/$$"
  { pwd; printf '%s\n' "$@"; } >"$procs/$$.info.tmp"
  mv "$procs/$$.info.tmp" "$procs/$$.info"
  cd "$procs/$$" || exit 1
  exec "$tool" "$@" 2>"$procs/$$.stderr"
fi
exec env -u GODEBUG "$tool" "$@"
