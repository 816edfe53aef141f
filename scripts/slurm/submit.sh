#!/usr/bin/env bash
# Submits an lpusim sweep to Slurm: a job array of N shards (sweep.sbatch) and a merge job that
# runs when every shard succeeded (merge.sbatch). Prints "ARRAY_JOB_ID MERGE_JOB_ID".
#
#   scripts/slurm/submit.sh SWEEP.yaml N OUTDIR [extra sbatch options...]
#
# LPUSIM names the binary (default: lpusim on PATH, else build/lpusim of this checkout). Results:
# OUTDIR/results.csv; shard files and Slurm logs also in OUTDIR. If a shard fails, the merge job
# never starts: fix the cause, resubmit that task (sbatch --array=K-K ... resumes the shard), then
# run merge.sbatch or `lpusim merge` by hand.
set -euo pipefail

usage="usage: submit.sh SWEEP.yaml N OUTDIR [sbatch options...]"
sweep=${1:?$usage}
count=${2:?$usage}
outdir=${3:?$usage}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
lpusim=${LPUSIM:-$(command -v lpusim || echo "$here/../../build/lpusim")}

[[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a whole number >= 1" >&2; exit 2; }
[ -x "$lpusim" ] || { echo "submit.sh: no lpusim binary at $lpusim (set LPUSIM)" >&2; exit 2; }
mkdir -p "$outdir"
sweep=$(realpath "$sweep")
outdir=$(realpath "$outdir")
lpusim=$(realpath "$lpusim")
"$lpusim" sweep "$sweep" --dry-run >/dev/null  # a bad sweep file fails here, not in the queue

array=$(sbatch --parsable --array="1-$count" --output="$outdir/slurm-%A_%a.out" "$@" \
  "$here/sweep.sbatch" "$sweep" "$outdir" "$lpusim")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --output="$outdir/slurm-merge-%j.out" \
  "$@" "$here/merge.sbatch" "$outdir" "$count" "$outdir/results.csv" "$lpusim")
merge=${merge%%;*}
echo "$array $merge"
