#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) and runs each for a
# fixed time on its seeds (tests/fuzz/harnesses.txt), then prints the executions per harness.
# Fails on any finding (crash, sanitizer report, an exception other than the project's errors,
# a timeout, memory over 2 GB) that tests/fuzz/known-findings.txt does not list; every finding's
# reproducer is saved under $build/fuzz-findings/<harness>/ (and printed in base64 when small).
#
# Usage: scripts/fuzz.sh [harness...]            (default: every harness)
#   LPUSIM_FUZZ_SECONDS    seconds per harness (default 30)
#   LPUSIM_FUZZ_BUILD_DIR  build directory (default build-fuzz/; scripts/test.sh passes its
#                          clang sanitizer build, which has the harnesses too)
#   LPUSIM_FUZZ_WORKERS    parallel fuzzing processes per harness (default: LPUSIM_JOBS or nproc)
#   LPUSIM_FUZZ_NO_BUILD=1 run the harnesses already built there
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LPUSIM_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${LPUSIM_FUZZ_SECONDS:-30}
workers=${LPUSIM_FUZZ_WORKERS:-${LPUSIM_JOBS:-$(nproc)}}
timeout_s=10     # one input running longer is a finding (a hang)
memory_mb=2048   # one input needing more is a finding
known_list=$root/tests/fuzz/known-findings.txt
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if [ "${LPUSIM_FUZZ_NO_BUILD:-0}" != 1 ]; then
  if ! grep -q '^LPUSIM_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DLPUSIM_FUZZ=ON -DLPUSIM_BUILD_TESTS=OFF -DLPUSIM_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$build" --target lpusim_fuzzers -j "${LPUSIM_JOBS:-$(nproc)}"
fi

mapfile -t lines < <(grep '^[a-z]' "$root/tests/fuzz/harnesses.txt")
wanted=("$@")

# known_cause HARNESS INPUT OUTPUT_FILE: the cause of the first known finding of HARNESS whose
# committed reproducer is INPUT itself, or whose signature (an extended regex) occurs in the
# output, or nothing. (An out-of-memory report has no stack to match a signature against.)
known_cause() {
  local harness=$1 input=$2 output=$3 h reproducer signature cause known_file
  while IFS='|' read -r h reproducer signature cause; do
    h=$(echo "$h" | xargs)
    [[ -z "$h" || "$h" == \#* || "$h" != "$harness" ]] && continue
    reproducer=$(echo "$reproducer" | xargs)
    known_file=$root/tests/fuzz/regressions/$harness/$reproducer
    signature=$(echo "$signature" | sed 's/^ *//; s/ *$//')
    if { [ -f "$known_file" ] && cmp -s "$known_file" "$input"; } ||
      grep -Eq -- "$signature" "$output"; then
      echo "$cause" | sed 's/^ *//'
      return
    fi
  done <"$known_list"
}

summary=()
new_findings=0
for line in "${lines[@]}"; do
  read -r -a fields <<<"$line"
  name=${fields[0]}
  if [ "${#wanted[@]}" -gt 0 ] && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  seeds=("$root/tests/fuzz/corpus/$name" "$root/tests/fuzz/regressions/$name")
  for dir in "${fields[@]:1}"; do seeds+=("$root/$dir"); done
  work=$build/fuzz-work/$name
  findings=$build/fuzz-findings/$name
  rm -rf "$findings"
  mkdir -p "$work/corpus" "$findings"
  existing=()
  for dir in "${seeds[@]}"; do [ -d "$dir" ] && existing+=("$dir"); done

  # Input files of processes killed for a finding are left behind: keep them in the work dir.
  export LPUSIM_FUZZ_TMPDIR=$work/tmp
  rm -rf "$LPUSIM_FUZZ_TMPDIR"
  mkdir -p "$LPUSIM_FUZZ_TMPDIR"
  echo "fuzz: $name for ${seconds}s (${workers} workers)"
  # Fork mode keeps fuzzing after a finding, so a known one does not end the run early.
  "$build/tests/fuzz/fuzz_$name" -fork="$workers" -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$memory_mb" \
    -malloc_limit_mb="$memory_mb" -artifact_prefix="$findings/" -print_final_stats=1 \
    "$work/corpus" "${existing[@]}" >"$work/log" 2>&1 || true
  stats=$(grep -E '^#[0-9]+: cov:' "$work/log" | tail -n 1 || true)
  if [ -z "$stats" ]; then
    echo "fuzz: $name did not run:" >&2
    tail -n 20 "$work/log" >&2
    new_findings=$((new_findings + 1))
    summary+=("$(printf '%-12s %s' "$name" "did not run")")
    continue
  fi
  execs=$(echo "$stats" | sed -E 's/^#([0-9]+):.*/\1/')
  rate=$(echo "$stats" | sed -E 's/.*exec\/s:? ([0-9]+).*/\1/')
  known=0
  new=0
  shopt -s nullglob
  for reproducer in "$findings"/crash-* "$findings"/timeout-* "$findings"/oom-* \
    "$findings"/leak-*; do
    "$build/tests/fuzz/fuzz_$name" -timeout="$timeout_s" -rss_limit_mb="$memory_mb" \
      -malloc_limit_mb="$memory_mb" "$reproducer" >"$reproducer.log" 2>&1 || true
    cause=$(known_cause "$name" "$reproducer" "$reproducer.log")
    if [ -n "$cause" ]; then
      known=$((known + 1))
      echo "fuzz: $name: known finding ($cause): $reproducer"
    else
      new=$((new + 1))
      echo "fuzz: $name: NEW FINDING, reproducer $reproducer; its output:" >&2
      grep -E 'ERROR|SUMMARY|what\(\)|terminate|runtime error|property violated' \
        "$reproducer.log" | head -n 8 >&2 || true
      if [ "$(stat -c %s "$reproducer")" -le 4096 ]; then
        echo "fuzz: reproducer in base64: $(base64 -w0 "$reproducer")" >&2
      fi
      echo "fuzz: replay with: $build/tests/fuzz/fuzz_$name $reproducer" >&2
    fi
  done
  shopt -u nullglob
  new_findings=$((new_findings + new))
  summary+=("$(printf '%-12s %10s executions %7s exec/s  %d new, %d known findings' \
    "$name" "$execs" "$rate" "$new" "$known")")
done

echo "fuzz: ${seconds}s per harness"
printf '  %s\n' "${summary[@]}"
if [ "$new_findings" -gt 0 ]; then
  echo "fuzz: $new_findings new finding(s); fix them and commit each reproducer to" \
    "tests/fuzz/regressions/<harness>/" >&2
  exit 1
fi
