#!/usr/bin/env bash
# Installs every Debian package lpusim needs to build, test and benchmark. clang and its
# sanitizer/libFuzzer runtimes (libclang-rt-14-dev; llvm for llvm-symbolizer's stack traces) build
# the sanitizer suite and the fuzz harnesses that scripts/test.sh runs.
# Safe to run twice: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libsystemc-dev libyaml-cpp-dev libfmt-dev libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libbenchmark-dev zlib1g-dev python3
  python3-matplotlib
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
