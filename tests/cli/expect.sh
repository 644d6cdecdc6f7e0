#!/usr/bin/env bash
# expect.sh CODE REGEX COMMAND...: runs COMMAND, passes when it exits with CODE and its
# stdout+stderr match REGEX (an empty REGEX matches anything).
set -u
want=$1 regex=$2
shift 2
out=$("$@" 2>&1)
got=$?
if [ "$got" -ne "$want" ]; then
  printf 'expected exit %s, got %s from: %s\n%s\n' "$want" "$got" "$*" "$out" | head -c 4000
  exit 1
fi
if [ -n "$regex" ] && ! grep -qE -- "$regex" <<<"$out"; then
  printf 'output does not match /%s/:\n%s\n' "$regex" "$out" | head -c 4000
  exit 1
fi
exit 0
