#!/usr/bin/env bash
# The README's run command: installs dependencies, builds, and analyzes a bundled sample core
# (a Go 1.26 program whose map directory pointer was sent into unmapped memory).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target gomapcore corpus
sample=build/default/tests/corpus/go1.26
echo "== gomapcore analyze $sample/buckets-unmapped.core --exe $sample/mapcrash"
build/default/analyzer/gomapcore analyze "$sample/buckets-unmapped.core" --exe "$sample/mapcrash" --fail-on never
