#!/usr/bin/env bash
# Wall time and peak memory (max RSS) of whole lpusim processes on seed-80gbps: `gemm` for the
# 1x8192x28672 GEMV, and `run` of llama2-70b (the decode step alone, then decode + the prefill of
# 128 tokens), in int4 and q3.5.
# Prints the median of N runs (default 5). Usage: bash bench/run_bench.sh [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LPUSIM_BUILD_DIR:-$root/build}
runs=${1:-5}
cd "$root"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() {  # label, then lpusim arguments
  local label=$1
  shift
  local times=() rss=()
  for _ in $(seq "$runs"); do
    local start end out
    start=$(date +%s.%N)
    out=$( { /usr/bin/time -f "%M" "$build/lpusim" "$@" >/dev/null; } 2>&1 | tail -n 1)
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
    rss+=("$out")
  done
  printf '%-28s wall %7.3f s   peak RSS %7.1f MB   (median of %d)\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median | awk '{print $1/1024}')" "$runs"
}

for q in int4 q3.5; do
  measure "gemm 1x8192x28672 $q" gemm --m 1 --k 8192 --n 28672 --quant "$q"
done
for q in int4 q3.5; do
  measure "decode $q" run --model llama2-70b --quant "$q" --no-prefill
  measure "decode+prefill128 $q" run --model llama2-70b --quant "$q" --prompt 128
done
measure "compare (default)" compare
