#!/usr/bin/env bash
# Mutation testing on demand (not in CI): applies each one-line mutant of scripts/mutants.txt in
# turn to a scratch copy of this tree, rebuilds the tests that cover the mutated file and runs them
# with ctest. A mutant is KILLED when a test fails (or times out), SURVIVED when all pass. Prints
# one line per mutant and the score per area. The caller's tree is never modified.
#
#   scripts/mutate.sh [--list FILE] [--only REGEX] [--scratch DIR] [--timeout SECONDS] [--keep]
#
#   --list     mutants file (default scripts/mutants.txt)
#   --only     run only mutants whose "file: snippet" matches REGEX (bash =~, extended)
#   --scratch  scratch directory (default: a new one under $TMPDIR); put it under
#              CCACHE_BASEDIR, as the tree is, so ccache reuses the caller's objects
#   --timeout  ctest budget per mutant in seconds (default 600; each test gets 120 s)
#   --keep     keep the scratch copy afterwards
# Environment: LPUSIM_JOBS (parallel jobs, default nproc). About 10-25 s per mutant on 2 cores
# after the first build: run it with nice in the background. Exit 0 when every mutant was
# judged, 1 when the baseline fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/scripts/mutants.txt
only=.
scratch=
budget=600
keep=0
while (($#)); do
  case $1 in
    --list) list=$(realpath "$2"); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --scratch) scratch=$2; shift 2 ;;
    --timeout) budget=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "mutate.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
jobs=${LPUSIM_JOBS:-$(nproc)}

if [[ -z $scratch ]]; then
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/lpusim-mutate.XXXXXX")
else
  mkdir -p "$scratch"
  scratch=$(realpath "$scratch")
fi
case $scratch/ in
  "$root"/*) echo "mutate.sh: the scratch directory must be outside the tree ($root)" >&2; exit 2 ;;
esac
[[ $keep == 1 ]] || trap 'rm -rf "$scratch"' EXIT
src=$scratch/src
build=$src/build  # inside the copy, like the caller's: ccache (CCACHE_BASEDIR) then reuses objects
log=$scratch/log
mkdir -p "$log" "$src"

# The tree as the caller has it (committed or not, ignored files such as build/ left out), synced
# by content into the copy: an unchanged file keeps its time stamp, so a re-run rebuilds little.
rm -rf "$scratch/stage"
mkdir -p "$scratch/stage"
git -C "$root" ls-files -z --cached --others --exclude-standard |
  (cd "$root" && xargs -0 tar cf - --no-recursion -- 2>/dev/null) | tar xf - -C "$scratch/stage"
python3 - "$scratch/stage" "$src" <<'EOF_SYNC'
import filecmp, os, shutil, sys
stage, src = sys.argv[1:]
wanted = set()
for dirpath, _, files in os.walk(stage):
    for name in files:
        rel = os.path.relpath(os.path.join(dirpath, name), stage)
        wanted.add(rel)
        dst = os.path.join(src, rel)
        if not os.path.exists(dst) or not filecmp.cmp(os.path.join(stage, rel), dst, shallow=False):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(stage, rel), dst)
            os.utime(dst)  # newer than any object built from the old content
for dirpath, dirs, files in os.walk(src):
    if os.path.relpath(dirpath, src) == ".":
        dirs[:] = [d for d in dirs if d != "build"]
    for name in files:
        rel = os.path.relpath(os.path.join(dirpath, name), src)
        if rel not in wanted:
            os.remove(os.path.join(src, rel))
EOF_SYNC
rm -rf "$scratch/stage"

echo "mutate.sh: scratch copy in $src; building (log in $log/baseline-build.txt)"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${LPUSIM_BUILD_TYPE:-RelWithDebInfo}" \
  >"$log/baseline-build.txt" 2>&1
cmake --build "$build" -j "$jobs" >>"$log/baseline-build.txt" 2>&1 || {
  echo "mutate.sh: the unmutated tree does not build; see $log/baseline-build.txt" >&2
  exit 1
}

# The test executables that cover a source file (the lpusim binary always: CLI tests run it).
targets_for() {
  case $1 in
    models/*)
      echo lpusim unit_models_busy_intervals_test unit_models_busy_intervals_derived_test \
        unit_models_compute_cost_test unit_models_compute_cost_derived_test \
        unit_models_memory_channel_core_test unit_models_semaphore_bank_test sc_chip_test \
        sc_chip_derived_test sc_workload_sc_test sc_llm_derived_test sc_invariants_test \
        sc_gemm_sc_test sc_trace_sc_test ;;
    kernels/*)
      echo lpusim unit_kernels_asm_test unit_kernels_format_test unit_kernels_fp16_test \
        unit_kernels_gemm_kernel_test unit_kernels_isa_test unit_kernels_llm_ops_test \
        unit_kernels_program_builder_test unit_kernels_quantizer_test \
        unit_kernels_unpack_sequence_test unit_sim_workload_test sc_workload_sc_test \
        sc_llm_derived_test sc_invariants_test sc_gemm_sc_test ;;
    sim/step_metrics* | sim/llm_run*)
      echo lpusim unit_sim_step_metrics_derived_test sc_llm_derived_test sc_invariants_test \
        sc_workload_sc_test cli_llm_cli_test cli_run_derived_cli_test ;;
    sim/report*)
      echo lpusim unit_sim_report_test unit_sim_step_metrics_derived_test cli_llm_cli_test \
        cli_run_derived_cli_test ;;
    sim/sweep_plan*)
      echo lpusim unit_sim_sweep_plan_test ;;
    traces/*)
      echo lpusim unit_sim_timeline_derived_test sc_trace_sc_test cli_trace_cli_test \
        cli_timeline_derived_cli_test ;;
    *)
      echo "mutate.sh: no tests are mapped to $1; add it to targets_for" >&2
      return 1 ;;
  esac
}

# A ctest -R regex matching every test of the given executables (their gtest suites).
regex_for() {
  local suites=()
  for t in "$@"; do
    [[ $t == lpusim ]] && continue
    [[ -x $build/tests/$t ]] || { echo "mutate.sh: no test executable $t" >&2; return 1; }
    while read -r line; do
      [[ $line == *. ]] && suites+=("${line%.}")
    done < <("$build/tests/$t" --gtest_list_tests | grep -v '^ ' | awk '{print $1}')
  done
  local IFS='|'
  echo "^(${suites[*]})\\."
}

run_tests() {  # regex, log file; exit status of ctest
  timeout "$budget" ctest --test-dir "$build" -R "$1" -j "$jobs" --timeout 120 \
    --stop-on-failure --output-on-failure >"$2" 2>&1
}

# Mutants as "file<TAB>from<TAB>to" lines.
mutants=$(python3 - "$list" <<'EOF'
import sys
block, out = {}, []
def flush():
    if block:
        missing = {"file", "from", "to"} - block.keys()
        if missing:
            sys.exit(f"mutants file: a block lacks {sorted(missing)}: {block}")
        out.append("\t".join(block[k] for k in ("file", "from", "to")))
        block.clear()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        flush(); continue
    key, _, value = line.partition(":")
    if key not in ("file", "from", "to"):
        sys.exit(f"mutants file: unexpected line: {line}")
    if key == "file": flush()
    block[key] = value.strip()
flush()
print("\n".join(out))
EOF
)

# Baseline: every group's tests pass on the unmutated tree.
declare -A group_regex
while IFS=$'\t' read -r file from _; do
  [[ -n $file && "$file: $from" =~ $only ]] || continue
  targets=$(targets_for "$file")
  if [[ -z ${group_regex[$targets]:-} ]]; then
    group_regex[$targets]=$(regex_for $targets)
    if ! run_tests "${group_regex[$targets]}" "$log/baseline-tests.txt"; then
      echo "mutate.sh: tests fail on the unmutated tree; see $log/baseline-tests.txt" >&2
      exit 1
    fi
  fi
done <<<"$mutants"

killed=0 survived=0 stale=0 broken=0 n=0
declare -A area_killed area_total
results=$scratch/results.txt
: >"$results"
while IFS=$'\t' read -r file from to; do
  n=$((n + 1))
  [[ -n $file && "$file: $from" =~ $only ]] || continue
  label="#$n $file: $from"
  path=$src/$file
  cp "$path" "$scratch/original"
  if ! python3 - "$path" "$from" "$to" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(old, new))
EOF
  then
    status=STALE
    stale=$((stale + 1))
  else
    targets=$(targets_for "$file")
    if ! cmake --build "$build" -j "$jobs" --target $targets >"$log/m$n-build.txt" 2>&1; then
      status=BUILD-ERROR  # not a plausible bug; fix the mutant
      broken=$((broken + 1))
    elif run_tests "${group_regex[$targets]}" "$log/m$n-tests.txt"; then
      status=SURVIVED
      survived=$((survived + 1))
    else
      status=KILLED
      killed=$((killed + 1))
    fi
  fi
  cp "$scratch/original" "$path"  # a new mtime: the next build recompiles it (a ccache hit)
  case $file in
    models/*) area=models ;;
    kernels/*) area=kernels ;;
    sim/sweep*) area=sweep ;;
    *) area=metrics ;;
  esac
  if [[ $status == KILLED || $status == SURVIVED ]]; then
    area_total[$area]=$((${area_total[$area]:-0} + 1))
    [[ $status == KILLED ]] && area_killed[$area]=$((${area_killed[$area]:-0} + 1))
  fi
  printf '%-11s %s\n' "$status" "$label" | tee -a "$results"
done <<<"$mutants"

echo
for area in models kernels metrics sweep; do
  total=${area_total[$area]:-0}
  ((total)) || continue
  printf '%-8s %d/%d killed (%d%%)\n' "$area" "${area_killed[$area]:-0}" "$total" \
    $((100 * ${area_killed[$area]:-0} / total)) | tee -a "$results"
done
judged=$((killed + survived))
printf 'score    %d/%d killed (%d%%); %d stale, %d not building\n' "$killed" "$judged" \
  $((judged ? 100 * killed / judged : 0)) "$stale" "$broken" | tee -a "$results"
[[ $keep == 1 ]] && echo "results and logs kept in $scratch"
exit 0
