// `lpusim run`: one LLM in one weight format on the simulated chip: per-token latency,
// throughput, first-token latency, bandwidth figures, energy and where the time goes.
#include <CLI/CLI.hpp>
#include <memory>

#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/cli/gemm_options.h"
#include "sim/cli/llm_options.h"
#include "sim/cli/trace_options.h"
#include "sim/engine/simulation.h"
#include "sim/llm/llm_run.h"

namespace lpusim {

namespace {

struct RunOptions {
  HwOptions hw;
  LlmOptions llm;
  std::string quant = "q3.5";
  std::string group_kernel = kDefaultRunGroupKernel;
  bool no_prefill = false;
  std::string format = "text";
  TraceOptions trace;
};

int run_run(const RunOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const HwConfig hw = options.hw.load();
  WorkloadSpec spec = options.llm.spec(options.quant);
  spec.group_kernels = run_group_kernels_flag(options.group_kernel, spec.format, spec.group_size);
  // Declared before the trace session, which detaches from it when destroyed (also when an
  // error unwinds this function), so that it is still alive then.
  Simulation simulation;
  const std::unique_ptr<TraceSession> trace = open_trace_session(options.trace, hw.clock);
  if (trace) trace->attach(simulation);
  const LlmRunResult result = run_llm(simulation, spec, hw, !options.no_prefill);
  if (trace) trace->finish();
  nlohmann::json json = llm_run_json(result, hw);
  json["hw"] = hw.name;
  print_report(llm_run_tables(result, hw), json.dump(2), format);
  return 0;
}

}  // namespace

CommandRunner add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command =
      app.add_subcommand("run", "simulate an LLM's decode step and prefill in one weight format");
  add_hw_options(*command, options->hw);
  add_llm_options(*command, options->llm);
  command->add_option("--quant", options->quant,
                      "weight format of the quantized tensors (default q3.5)");
  add_run_group_kernel_option(*command, options->group_kernel);
  command->add_flag("--no-prefill", options->no_prefill,
                    "simulate the decode step only (no first-token latency)");
  add_format_option(*command, options->format);
  add_trace_options(*command, options->trace);
  return [options] { return run_run(*options); };
}

}  // namespace lpusim
