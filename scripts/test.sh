#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything with the default preset
# (warnings are errors) and runs the whole test suite; then builds the engine, CLI and tests
# again with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan) and runs that suite
# too, malformed-input cases included. GOMAPCORE_SKIP_ASAN=1 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
ctest --preset default -j "$(nproc)"
if [ "${GOMAPCORE_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan
  cmake --build --preset asan -j "$(nproc)"
  ctest --preset asan -j "$(nproc)"
fi
