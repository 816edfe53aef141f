// `lpusim sweep` as a library call: expand and validate the sweep, skip the points already in the
// results file, run the rest in worker processes, append each row loss-free, then tidy the file.
#pragma once

#include <cstddef>
#include <string>

namespace lpusim {

struct SweepOptions {
  std::string sweep_path;
  std::string out;       // results CSV; "" = default_results_path
  std::size_t jobs = 0;  // worker processes; 0 = available_cores()
  std::string shard;     // "I/N", "" = every point
  bool retry_failed = false;
  bool dry_run = false;                       // list the points and their state; run nothing
  double timeout_s = 0;                       // per point; 0 = none
  std::string executable = "/proc/self/exe";  // the lpusim binary the workers run
};

// "<sweep file stem>.csv", or "<stem>.shard-I-of-N.csv", in the current directory.
std::string default_results_path(const std::string& sweep_path, const std::string& shard);

// Runs the sweep; returns the exit code: 0 when every point has a row (failed points included),
// 128 + the signal when SIGINT/SIGTERM/SIGHUP stopped it. Throws InputError (exit 2) for a bad
// sweep file or option before anything runs.
int run_sweep(const SweepOptions& options);

}  // namespace lpusim
