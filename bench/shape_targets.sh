#!/usr/bin/env bash
# Wall time and peak memory of the workload shapes the simulator's speed targets name: chunked
# 70B prefills, a batch-256 70B decode, a long-context 8B decode and the default comparisons.
# Runs each command N times and prints the median wall seconds and the median peak resident MB
# (GNU time's %e and %M), and the median CPU seconds (user + system: on a shared machine the
# wall time also counts the other load).
# Usage: bench/shape_targets.sh [N]   (default 3; LPUSIM=path/to/lpusim, default build/lpusim)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lpusim=${LPUSIM:-$root/build/lpusim}
runs=${1:-3}
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 1; }
[ -x "$lpusim" ] || { echo "no lpusim at $lpusim (set LPUSIM=)" >&2; exit 1; }

commands=(
  "run --prompt 4096"
  "run --prompt 2048"
  "run --batch 256 --no-prefill"
  "run --model llama3-8b --context 8191 --no-prefill"
  "compare"
  "compare --batch 4"
)

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-52s %8s %8s %8s\n' "command (lpusim ...)" "wall s" "peak MB" "cpu s"
for cmd in "${commands[@]}"; do
  : >"$work/wall"
  : >"$work/mem"
  : >"$work/cpu"
  for ((i = 0; i < runs; i++)); do
    # shellcheck disable=SC2086  # the command is words on purpose
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$lpusim" $cmd >/dev/null 2>"$work/err" ||
      { cat "$work/err" >&2; exit 1; }
    read -r wall kb user sys <"$work/time"
    echo "$wall" >>"$work/wall"
    echo "$kb" >>"$work/mem"
    echo "$user $sys" | awk '{print $1 + $2}' >>"$work/cpu"
  done
  wall=$(median <"$work/wall")
  mb=$(median <"$work/mem" | awk '{printf "%.0f", $1 / 1024}')
  cpu=$(median <"$work/cpu")
  printf '%-52s %8s %8s %8s\n' "$cmd" "$wall" "$mb" "$cpu"
done
