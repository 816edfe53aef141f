#!/usr/bin/env bash
# README command 1: installs what lpusim needs, builds it and runs the main job on the default
# config. Extra arguments go to that command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
build=${LPUSIM_BUILD_DIR:-$root/build}
cd "$root"
exec "$build/lpusim" compare "$@"
