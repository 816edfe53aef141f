#!/usr/bin/env bash
# Regenerates the golden outputs in tests/golden/ from the built binary. Review the diff: a
# golden file changes only when the model changed on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LPUSIM_BUILD_DIR:-$root/build}
cd "$root"
"$build/lpusim" compare > tests/golden/compare_default.txt
"$build/lpusim" gemm --k 256 --n 64 --quant int4 --vcd tests/golden/tiny_gemm.vcd >/dev/null
git --no-pager diff --stat -- tests/golden/ || true
