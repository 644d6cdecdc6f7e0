#!/usr/bin/env bash
# Fails when a C++ source of the project is not clang-format clean.
set -u
cd "$(dirname "$0")/.."
formatter=$(command -v clang-format-14 || command -v clang-format) || { echo "clang-format not installed"; exit 1; }
files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find analyzer gui plugins tests -name '*.cpp' -o -name '*.h')
"$formatter" --dry-run -Werror $files
