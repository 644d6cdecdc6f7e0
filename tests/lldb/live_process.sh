#!/usr/bin/env bash
# live_process.sh LLDB PLUGIN EXECUTABLE: starts EXECUTABLE under lldb (stopped at its entry
# point), runs `gomap analyze` on the live process, and kills it. The corpus executables are
# unpacked without the execute bit, so a temporary copy is run.
set -eu
lldb=$1 plugin=$2 exe=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$exe" "$tmp/program"
chmod +x "$tmp/program"
timeout 120 "$lldb" -b -x -o "target create $tmp/program" -o "process launch --stop-at-entry -- healthy" \
  -o "plugin load $plugin" -o "gomap analyze" -o "process kill" 2>&1
