#!/usr/bin/env bash
# Wall time and peak memory (max RSS) of whole `lpusim run` processes for llama2-70b on
# seed-80gbps: the decode step alone and the prefill of 128 tokens alone, in int4 and q3.5.
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
    local out
    out=$( { /usr/bin/time -f "%e %M" "$build/lpusim" "$@" >/dev/null; } 2>&1 | tail -n 1)
    times+=("${out% *}")
    rss+=("${out#* }")
  done
  printf '%-28s wall %6.2f s   peak RSS %7.1f MB   (median of %d)\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median | awk '{print $1/1024}')" "$runs"
}

for q in int4 q3.5; do
  measure "decode $q" run --model llama2-70b --quant "$q" --no-prefill
  measure "decode+prefill128 $q" run --model llama2-70b --quant "$q" --prompt 128
done
measure "compare (default)" compare
