#!/usr/bin/env bash
# Regenerates the golden outputs in tests/golden/ from the built binary. Review the diff: a
# golden file changes only when the model changed on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LPUSIM_BUILD_DIR:-$root/build}
cd "$root"
"$build/lpusim" compare > tests/golden/compare_default.txt
git --no-pager diff --stat -- tests/golden/ || true
