// `lpusim gemm`: one GEMM/GEMV on the simulated chip in a weight format, reporting the metrics of
// the report contract (docs/WORKLOAD.md, "Report contract") that apply to one matmul; with
// --functional it also carries real data and checks it.
#include <CLI/CLI.hpp>
#include <limits>
#include <memory>
#include <optional>

#include "kernels/error.h"
#include "kernels/gemm_kernel.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/cli/gemm_options.h"
#include "sim/cli/trace_options.h"
#include "sim/engine/simulation.h"
#include "sim/llm/step_metrics.h"
#include "sim/quality/gemm_functional.h"

namespace lpusim {

namespace {

struct GemmCommandOptions {
  HwOptions hw;
  GemmOptions gemm;
  bool functional = false;
  std::uint64_t seed = 1;
  std::string weights;    // a file written by `lpusim quantize`
  std::string tensor;     // the tensor of `weights` to multiply by
  std::string reference;  // the unquantized file, for the error against X W^T
  std::string format = "text";
  TraceOptions trace;
};

nlohmann::json functional_json(const GemmFunctionalResult& f) {
  nlohmann::json j;
  j["integer_exact"] = f.integer_checked ? nlohmann::json(f.integer_exact) : nlohmann::json();
  j["matmuls_checked"] = f.matmuls_checked;
  j["rel_error"] = f.rel_error;
  j["max_abs_error"] = f.max_abs_error;
  j["stored_rel_error"] = f.stored_rel_error;
  j["stored_max_abs_error"] = f.stored_max_abs_error;
  j["reference"] = f.has_reference ? "X W^T" : "X W_hat^T";
  if (f.has_reference) j["weight_only_rel_error"] = f.weight_only_rel_error;
  return j;
}

Table functional_table(const GemmFunctionalResult& f) {
  Table t("functional check", {"check", "value"});
  t.add_row({"integer partials exact",
             f.integer_checked ? (f.integer_exact ? "true" : "FALSE") : "n/a (fp16)"});
  t.add_row({"matmuls checked", Cell::integer(static_cast<std::int64_t>(f.matmuls_checked))});
  t.add_row(
      {"relative error of Y vs X W_hat^T (stored format)", Cell::number(f.stored_rel_error, 6)});
  t.add_row(
      {"max |error| of Y vs X W_hat^T (stored format)", Cell::number(f.stored_max_abs_error, 6)});
  if (f.has_reference) {
    t.add_row({"relative error of Y vs X W^T", Cell::number(f.rel_error, 6)});
    t.add_row({"max |error| of Y vs X W^T", Cell::number(f.max_abs_error, 6)});
    t.add_row({"  weights alone (X W_hat^T vs X W^T)", Cell::number(f.weight_only_rel_error, 6)});
  } else {
    t.add_row({"relative error of Y vs X W_hat^T", Cell::number(f.rel_error, 6)});
    t.add_row({"max |error| of Y vs X W_hat^T", Cell::number(f.max_abs_error, 6)});
  }
  return t;
}

// The functional data: packed weights from a file, or synthetic ones of the requested shape.
std::optional<GemmData> functional_data(const GemmCommandOptions& options) {
  if (!options.weights.empty()) {
    if (options.tensor.empty()) {
      throw InputError(SourceLocation{"", 0, "--tensor"}, "required with --weights");
    }
    return packed_gemm_data(options.weights, options.tensor, options.reference, options.seed);
  }
  if (!options.tensor.empty() || !options.reference.empty()) {
    throw InputError(SourceLocation{"", 0, "--tensor/--reference"}, "only apply with --weights");
  }
  if (!options.functional) return std::nullopt;
  return synthetic_gemm_data(options.gemm.spec(), options.seed);
}

// "gemm 1x4096x4096 q3.5", naming the run in traces and reports.
std::string gemm_label(const GemmSpec& spec) {
  return "gemm " + std::to_string(spec.m) + "x" + std::to_string(spec.k) + "x" +
         std::to_string(spec.n) + " " + spec.format.name;
}

int run_gemm(const GemmCommandOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const HwConfig hw = options.hw.load();
  std::optional<GemmData> data = functional_data(options);
  GemmSpec spec = data ? data->spec() : options.gemm.spec();
  spec.group_kernel = group_kernel_flag(options.gemm.group_kernel, spec.format, spec.group_size);
  const GemmKernel kernel = build_gemm_program(spec, hw);
  // Declared before the trace session, which detaches from it when destroyed (also when an
  // error unwinds this function), so that it is still alive then.
  Simulation simulation;
  const std::unique_ptr<TraceSession> trace = open_trace_session(options.trace, hw.clock);

  std::optional<FunctionalState> state;
  std::optional<GemmFunctionalCheck> check;
  SimRunOptions run_options;
  run_options.label = gemm_label(spec);
  if (data) {
    state.emplace(kernel.program);
    check.emplace(std::move(*data), kernel);
    check->fill(*state);
    check->attach(&*state);
    run_options.functional = &*state;
    run_options.sinks = {&*check};
  }
  if (trace) trace->attach(simulation);
  const ChipRunResult run = simulation.run(kernel.program, hw, run_options);
  if (trace) trace->finish();
  StepWork work = work_of_program(kernel.program);
  work.tokens = spec.m;
  const StepMetrics metrics = compute_step_metrics(run, hw, work);

  nlohmann::json json = step_metrics_json(metrics);
  json["m"] = spec.m;
  json["k"] = spec.k;
  json["n"] = spec.n;
  json["quant"] = spec.format.name;
  json["group_size"] = spec.group_size;
  json["group_kernel"] = std::string(group_kernel_name(spec.group_kernel));
  json["hw"] = hw.name;
  const std::string title = "gemm " + std::to_string(spec.m) + "x" + std::to_string(spec.k) + "x" +
                            std::to_string(spec.n) + " " + spec.format.name + " on " + hw.name +
                            (kernel.gemm.weights.two_level ? " (two-level)" : "");
  std::vector<Table> tables = step_metrics_tables(metrics, title);
  if (check) {
    const GemmFunctionalResult f = check->finish(*state);
    json["functional"] = functional_json(f);
    tables.push_back(functional_table(f));
  }
  print_report(tables, json.dump(2), format);
  return 0;
}

}  // namespace

CommandRunner add_gemm_command(CLI::App& app) {
  auto options = std::make_shared<GemmCommandOptions>();
  CLI::App* command =
      app.add_subcommand("gemm", "simulate one GEMM/GEMV in a weight format on the chip");
  add_hw_options(*command, options->hw);
  add_gemm_shape_options(*command, options->gemm);
  command->add_flag("--functional", options->functional,
                    "carry real data and check the INT32 results against a C++ reference");
  add_integer_option(*command, "--seed", options->seed, 0,
                     std::numeric_limits<std::uint64_t>::max(),
                     "seed of the random weights and activations");
  command->add_option("--weights", options->weights,
                      "run on a tensor packed by `lpusim quantize` (implies --functional; the "
                      "shape, format and group size come from the file, X from quant-error's "
                      "activations for --seed)");
  command->add_option("--tensor", options->tensor, "the tensor of --weights");
  command->add_option("--reference", options->reference,
                      "the unquantized safetensors file, to measure Y against X W^T");
  add_format_option(*command, options->format);
  add_trace_options(*command, options->trace);
  return [options] { return run_gemm(*options); };
}

}  // namespace lpusim
