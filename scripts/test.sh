#!/usr/bin/env bash
# README command 2: installs what lpusim needs, builds it and runs every test, plus the format
# check. `.ci/run` calls exactly this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/check-format.sh"
bash "$root/scripts/build.sh"
build=${LPUSIM_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j "${LPUSIM_JOBS:-$(nproc)}" --timeout 600
