// `lpusim merge A.csv B.csv ... -o ALL.csv`: merges sweep results (e.g. the shards of a Slurm job
// array); duplicates by hash collapse, conflicting duplicates are an error (exit 2).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "sim/cli/commands.h"
#include "sim/io/output_file.h"
#include "sim/sweep/sweep_merge.h"
#include "sim/sweep/sweep_store.h"

namespace lpusim {

namespace {

struct MergeOptions {
  std::vector<std::string> inputs;
  std::string out;
};

int run_merge(const MergeOptions& options) {
  check_output_path(options.out, "merged results");
  const MergedResults merged = merge_results(options.inputs);
  for (const std::string& note : merged.notes) std::cerr << "merge: " << note << "\n";
  write_results_file(options.out, merged.header, merged.rows);
  std::cerr << fmt::format("merge: {} rows from {} files ({} duplicates collapsed) into {}\n",
                           merged.rows.size(), options.inputs.size(), merged.duplicates,
                           options.out);
  return 0;
}

}  // namespace

CommandRunner add_merge_command(CLI::App& app) {
  auto options = std::make_shared<MergeOptions>();
  CLI::App* command = app.add_subcommand(
      "merge", "merge sweep results files (shards) into one, collapsing duplicates by hash");
  command->add_option("inputs", options->inputs, "results CSV files of `lpusim sweep`")->required();
  command->add_option("--out,-o", options->out, "merged CSV, written atomically")->required();
  return [options] { return run_merge(*options); };
}

}  // namespace lpusim
