// `lpusim sweep SWEEP.yaml`: runs every point of a design-space sweep in worker processes and
// appends one CSV row per point; resumable, shardable (docs/SWEEPS.md).
#include <CLI/CLI.hpp>
#include <memory>

#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/sweep/sweep_run.h"

namespace lpusim {

namespace {
constexpr std::uint64_t kMaxJobs = 1024;              // worker processes
constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600;  // one week per point
}  // namespace

CommandRunner add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep", "run every point of a sweep file (grid of hardware keys x workloads) into a CSV");
  command->add_option("sweep", options->sweep_path, "sweep file (see configs/sweeps/)")->required();
  add_integer_option(*command, "--jobs,-j", options->jobs, 1, kMaxJobs,
                     "worker processes (default: the CPUs this process may use)");
  command->add_option("--out,-o", options->out,
                      "results CSV; points already in it are skipped (default: <sweep>.csv, or "
                      "<sweep>.shard-I-of-N.csv with --shard)");
  command->add_option("--shard", options->shard,
                      "run only the I-th of N parts of the points (1 <= I <= N), e.g. 2/4");
  command->add_flag("--retry-failed", options->retry_failed,
                    "run again the points recorded as failed");
  add_number_option(*command, "--timeout", options->timeout_s, 0, kMaxTimeoutSeconds,
                    "kill a point after this many seconds and record it as failed (default: "
                    "no limit)");
  command->add_flag("--dry-run", options->dry_run,
                    "list the points with their hash and state (done, failed, pending); run "
                    "nothing");
  return [options] { return run_sweep(*options); };
}

}  // namespace lpusim
