// `lpusim exec`: runs a `.lpuasm` program on the simulated chip and reports its timing.
#include <CLI/CLI.hpp>
#include <memory>

#include "kernels/asm.h"
#include "kernels/input_file.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/cli/trace_options.h"
#include "sim/engine/simulation.h"
#include "sim/io/output_file.h"
#include "sim/llm/step_metrics.h"

namespace lpusim {

namespace {

struct ExecOptions {
  HwOptions hw;
  std::string program;
  std::string format = "text";
  TraceOptions trace;
};

int run_exec(const ExecOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const HwConfig hw = options.hw.load();
  const Program program = read_asm(read_input_file(options.program, kAsmInput), options.program);
  // Declared before the trace session, which detaches from it when destroyed (also when an
  // error unwinds this function), so that it is still alive then.
  Simulation simulation;
  const std::unique_ptr<TraceSession> trace = open_trace_session(options.trace, hw.clock);
  if (trace) trace->attach(simulation);
  SimRunOptions run_options;
  run_options.label = options.program;
  const ChipRunResult run = simulation.run(program, hw, run_options);
  if (trace) trace->finish();
  const StepMetrics metrics = compute_step_metrics(run, hw, work_of_program(program));
  nlohmann::json json = step_metrics_json(metrics);
  json["program"] = options.program;
  json["hw"] = hw.name;
  print_report(step_metrics_tables(metrics, options.program + " on " + hw.name), json.dump(2),
               format);
  return 0;
}

}  // namespace

CommandRunner add_exec_command(CLI::App& app) {
  auto options = std::make_shared<ExecOptions>();
  CLI::App* command = app.add_subcommand("exec", "run a .lpuasm program on the simulated chip");
  add_hw_options(*command, options->hw);
  command->add_option("program", options->program, ".lpuasm file")->required();
  add_format_option(*command, options->format);
  add_trace_options(*command, options->trace);
  return [options] { return run_exec(*options); };
}

}  // namespace lpusim
