#!/usr/bin/env bash
# README command 2: installs what lpusim needs, builds it and runs every test, plus the format
# check; then the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/) and every fuzz harness for LPUSIM_FUZZ_SECONDS (default 30) each. `.ci/run`
# calls exactly this. LPUSIM_QUICK=1 stops after the regular suite, for quick local runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${LPUSIM_JOBS:-$(nproc)}
start=$SECONDS
stage() { echo "test.sh: $1 ($((SECONDS - start)) s so far)"; }

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/check-format.sh"
stage "building"
bash "$root/scripts/build.sh"
build=${LPUSIM_BUILD_DIR:-$root/build}
stage "running the test suite"
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 600)
if [ "${LPUSIM_QUICK:-0}" = 1 ]; then
  stage "LPUSIM_QUICK=1: skipping the sanitizer suite and the fuzz harnesses"
  exit 0
fi

# The sanitizer build: clang when it is installed (the same build then holds the libFuzzer
# harnesses, so the fuzz stage compiles nothing), gcc otherwise.
asan=${LPUSIM_ASAN_BUILD_DIR:-$root/build-asan}
fuzz=OFF
compiler=g++
if command -v clang++ >/dev/null; then
  fuzz=ON
  compiler=clang++
fi
stage "building the sanitizer suite with $compiler into $asan"
CXX=$compiler cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLPUSIM_SANITIZE=ON -DLPUSIM_FUZZ="$fuzz" -DLPUSIM_BUILD_BENCH=OFF >/dev/null
cmake --build "$asan" -j "$jobs"
stage "running the test suite under ASan + UBSan"
# The Slurm test runs sbatch jobs as root on the regular build only. See tests/fuzz/README.md for
# the sanitizer options.
(cd "$asan" && ctest --output-on-failure -j "$jobs" --timeout 900 -LE slurm)
if [ "$fuzz" = ON ]; then
  stage "fuzzing"
  LPUSIM_FUZZ_BUILD_DIR=$asan bash "$root/scripts/fuzz.sh"
else
  stage "clang++ not found: skipping the fuzz harnesses (scripts/install-deps.sh installs clang)"
fi
stage "done"
