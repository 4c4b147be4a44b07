#!/usr/bin/env bash
# Installs the Debian packages libedgeworker builds, tests and benchmarks with.
# Only what is missing is installed; `apt-get update` runs first only when something must be installed.
# Called by `make serve` and `make test` (Makefile); safe to run again at any time.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build
  duktape-dev libevent-dev libnghttp2-dev libmbedtls-dev libsqlite3-dev libcjson-dev zlib1g-dev libbrotli-dev
  libcriterion-dev
  python3 python3-pytest python3-pip python3-setuptools python3-wheel python3-idna unicode-data
  curl wrk valgrind binutils nghttp2-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
