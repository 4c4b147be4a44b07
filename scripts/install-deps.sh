#!/usr/bin/env bash
# Installs the Debian packages libedgeworker builds, tests and benchmarks with.
# Only what is missing is installed; `apt-get update` runs first only when something must be installed.
# Called by `make serve` and `make test` (Makefile), the latter with --test for what only tests use; safe to
# run again at any time.
set -euo pipefail

with_tests=0
if [ "${1:-}" = "--test" ]; then with_tests=1; fi

packages=(
  build-essential pkg-config meson ninja-build
  duktape-dev libevent-dev libnghttp2-dev libmbedtls-dev libsqlite3-dev libcjson-dev zlib1g-dev libbrotli-dev
  libcriterion-dev
  python3 python3-pytest python3-pip python3-setuptools python3-wheel python3-idna unicode-data
  curl wrk valgrind binutils nghttp2-server
)

# --test only: the Python WebSocket client of the chat example's test (tests/e2e/test_example_chat.py).
test_packages=(python3-websockets)
# --test only, best effort: the browser that test drives headless. Where it cannot be installed the
# browser part of the test is skipped, saying so; everything else still runs.
browser_packages=(chromium)

if [ $with_tests -eq 1 ]; then packages+=("${test_packages[@]}"); fi

missing_of() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "$p"
    fi
  done
}

mapfile -t missing < <(missing_of "${packages[@]}")
browser_missing=()
if [ $with_tests -eq 1 ]; then mapfile -t browser_missing < <(missing_of "${browser_packages[@]}"); fi

if [ ${#missing[@]} -eq 0 ] && [ ${#browser_missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#browser_missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${browser_missing[*]}"
  if ! { [ ${#missing[@]} -ne 0 ] || $sudo apt-get update -qq; } ||
     ! $sudo apt-get install -y -qq --no-install-recommends "${browser_missing[@]}"; then
    echo "install-deps: warning: could not install ${browser_missing[*]}; the headless-browser test will be skipped" >&2
  fi
fi
