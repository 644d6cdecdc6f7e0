#!/usr/bin/env bash
# expect_absent.sh REGEX COMMAND...: runs COMMAND, passes when it exits with 0 or 1 (an
# analysis ran) and nothing it prints matches REGEX. Used to check that --redact leaks nothing.
set -u
regex=$1
shift
out=$("$@" 2>&1)
got=$?
if [ "$got" -gt 1 ]; then
  printf 'expected an analysis (exit 0 or 1), got %s from: %s\n%s\n' "$got" "$*" "$out" | head -c 4000
  exit 1
fi
if grep -qE -- "$regex" <<<"$out"; then
  printf 'output matches /%s/ but must not:\n' "$regex"
  grep -nE -- "$regex" <<<"$out" | head -20
  exit 1
fi
exit 0
