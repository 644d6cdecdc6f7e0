#!/usr/bin/env bash
# Installs every Debian 12 package gomapcore needs to build, test and run all three front ends.
# Idempotent: it only calls apt-get when a package is missing.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git zstd
  libelf-dev libdw-dev libdebuginfod-dev libzstd-dev liblz4-dev liblzma-dev
  lz4 xz-utils debuginfod sqlite3 qemu-user
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  qt6-base-dev qt6-svg-dev libgl-dev xvfb xauth
  liblldb-19-dev lldb-19 python3 python3-lldb-19
  clang-format-14
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  golang-1.19-go
)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "setup-debian: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
