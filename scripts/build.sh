#!/usr/bin/env bash
# Configures and builds lpusim into build/ (or $LPUSIM_BUILD_DIR). Needs install-deps.sh first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LPUSIM_BUILD_DIR:-$root/build}
jobs=${LPUSIM_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${LPUSIM_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j "$jobs"
