#!/usr/bin/env bash
# Regenerates abort.zst and abort.core.zst: a small C program (abort.c, built as an ordinary
# dynamically linked PIE) run until it calls abort() and the kernel writes its core.
# Needs cc, zstd and a kernel.core_pattern that writes "core" (or "core.PID") into the working
# directory; run from anywhere: the program runs in /tmp/gomapcore-malformed-abort so the paths
# recorded in the core do not depend on the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
  core | core.%p) ;;
  *) echo "make-core.sh: kernel.core_pattern is '$pattern'; it must be 'core' (or 'core.%p')" >&2; exit 1 ;;
esac
work=/tmp/gomapcore-malformed-abort
rm -rf "$work"
mkdir -p "$work"
cd "$work"
cc -O1 -o abort "$here/abort.c"
set +e
(ulimit -c unlimited; exec ./abort)
status=$?
set -e
if [ "$status" -ne 134 ]; then
  echo "make-core.sh: expected the program to die of SIGABRT (status 134), got $status" >&2
  exit 1
fi
core=
for candidate in core core.*; do
  if [ -f "$candidate" ]; then core=$candidate; break; fi
done
[ -n "$core" ] || { echo "make-core.sh: no core file was written in $work" >&2; exit 1; }
zstd -q -19 -f abort -o "$here/abort.zst"
zstd -q -19 --long=31 -f "$core" -o "$here/abort.core.zst"
chmod 644 "$here/abort.core.zst"
ls -l "$here/abort.zst" "$here/abort.core.zst"
rm -rf "$work"
