#!/usr/bin/env bash
# Fetches Debian's packaged Go toolchains (golang-1.N-go + golang-1.N-src) into a private folder,
# without touching the system's apt sources or dpkg database: each Debian suite gets its own
# apt state directory, and the packages are unpacked with dpkg-deb -x.
#
# usage: samples/fetch-go-toolchains.sh [DEST] [VERSION...]
#   DEST defaults to $GOMAPCORE_GO_DIR or ~/.cache/gomapcore/go
#   VERSIONs default to every release the corpus uses.
# Afterwards DEST/go1.N is a GOROOT (DEST/go1.N/bin/go).
set -euo pipefail
DEST=${1:-${GOMAPCORE_GO_DIR:-$HOME/.cache/gomapcore/go}}
shift || true
declare -A SUITE=([1.19]=bookworm [1.21]=bookworm-backports [1.22]=bookworm-backports
  [1.23]=bookworm-backports [1.24]=trixie [1.25]=trixie-backports [1.26]=sid [1.27]=sid)
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(1.19 1.23 1.24 1.25 1.26 1.27)
mkdir -p "$DEST"
for v in "${VERSIONS[@]}"; do
  suite=${SUITE[$v]:-}
  if [ -z "$suite" ]; then echo "go$v: no Debian suite known for this release" >&2; exit 1; fi
  if [ -x "$DEST/go$v/bin/go" ]; then echo "go$v: present ($("$DEST/go$v/bin/go" version))"; continue; fi
  state="$DEST/.apt-$suite"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts.d" "$DEST/.dl-$v"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    >"$state/sources.list"
  opts=(-o Dir::Etc::sourcelist="$state/sources.list" -o Dir::Etc::sourceparts="$state/parts.d"
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o APT::Sandbox::User=root)
  if [ ! -e "$state/updated" ]; then
    apt-get "${opts[@]}" update >"$state/update.log" 2>&1 || { cat "$state/update.log" >&2; exit 1; }
    touch "$state/updated"
  fi
  if ! (cd "$DEST/.dl-$v" && apt-get "${opts[@]}" download "golang-$v-go" "golang-$v-src" >download.log 2>&1); then
    echo "go$v: could not download golang-$v-go/golang-$v-src from $suite:" >&2
    cat "$DEST/.dl-$v/download.log" >&2
    exit 1
  fi
  for deb in "$DEST/.dl-$v"/*.deb; do dpkg-deb -x "$deb" "$DEST/.root"; done
  rm -rf "$DEST/.dl-$v"
  # The packages' relative links (usr/lib/go-1.N/src -> ../../share/go-1.N/src) resolve inside .root.
  ln -sfn ".root/usr/lib/go-$v" "$DEST/go$v"
  echo "go$v: $("$DEST/go$v/bin/go" version)"
done
