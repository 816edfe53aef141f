// `lpusim quant-error`: the quality metrics (docs/FORMATS.md, "Quality") for each --quant scheme,
// on the 2-D float tensors of a safetensors file or on deterministic synthetic weights.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/format.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/io/report.h"
#include "sim/io/safetensors.h"
#include "sim/quality/quant_error.h"

namespace lpusim {
namespace {

// The default run is the README's main job: LLM-like weights, the seed's formats and more.
constexpr const char* kDefaultDistribution = "llm";
constexpr const char* kDefaultShape = "4096x4096";
constexpr std::uint64_t kDefaultSeed = 1;
const std::vector<std::string> kDefaultSchemes = {"int8", "int4", "q3.5", "q3", "q2.5"};
// Synthetic matrices larger than this are refused (4 GiB of floats).
constexpr std::uint64_t kMaxSyntheticWeights = std::uint64_t{1} << 30;
constexpr int kPercentDecimals = 3;
constexpr int kBitsDecimals = 3;
constexpr int kAbsErrorDecimals = 6;
constexpr int kDecibelDecimals = 2;

struct QuantErrorOptions {
  std::string input;
  std::string synthetic;
  std::string shape = kDefaultShape;
  std::uint64_t seed = kDefaultSeed;
  std::vector<std::string> schemes = kDefaultSchemes;
  std::string group_size = std::to_string(kDefaultGroupSize);
  std::string tensors;
  bool symmetric = false;
  std::string format = "text";
};

struct Shape {
  std::size_t rows = 0;
  std::size_t cols = 0;
};

// What the run measured, for the report header and the JSON "source" object.
struct RunDescription {
  nlohmann::json source;
  std::string summary;
};

bool parse_positive(std::string_view text, std::size_t* value) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, *value);
  return !text.empty() && result.ec == std::errc() && result.ptr == end && *value > 0;
}

Shape parse_shape(const std::string& text) {
  const std::size_t x = text.find('x');
  Shape shape;
  if (x == std::string::npos || !parse_positive(std::string_view(text).substr(0, x), &shape.rows) ||
      !parse_positive(std::string_view(text).substr(x + 1), &shape.cols)) {
    throw InputError(SourceLocation{"", 0, "--shape"},
                     "expected NxK with positive integers, like 4096x4096, got \"" + text + "\"");
  }
  if (static_cast<double>(shape.rows) * static_cast<double>(shape.cols) >
      static_cast<double>(kMaxSyntheticWeights)) {
    throw InputError(SourceLocation{"", 0, "--shape"},
                     text + " has more than 2^30 weights; use a smaller synthetic matrix");
  }
  return shape;
}

std::vector<QuantScheme> parse_schemes(const std::vector<std::string>& names, bool symmetric) {
  std::vector<QuantScheme> schemes;
  for (const std::string& name : names) {
    try {
      schemes.push_back(QuantScheme{parse_format(name), symmetric});
    } catch (const InputError& e) {
      throw InputError(SourceLocation{"", 0, "--quant"}, e.what());
    }
  }
  if (schemes.empty()) throw InputError(SourceLocation{"", 0, "--quant"}, "no scheme given");
  return schemes;
}

std::string group_size_text(int group_size) {
  return group_size == kPerChannel ? "per-channel" : std::to_string(group_size);
}

// --- sources ----------------------------------------------------------------------------------

std::vector<WeightMatrixSource> synthetic_source(const QuantErrorOptions& options,
                                                 RunDescription* run) {
  const std::string distribution =
      options.synthetic.empty() ? kDefaultDistribution : options.synthetic;
  const SyntheticDistribution kind = parse_synthetic_distribution(distribution);
  const Shape shape = parse_shape(options.shape);
  auto weights = std::make_shared<std::vector<float>>(
      synthetic_weights(kind, shape.rows, shape.cols, options.seed));
  WeightMatrixSource source{
      "synthetic." + distribution, shape.rows, shape.cols,
      [weights, cols = shape.cols](std::size_t first, std::size_t rows, float* out) {
        std::copy_n(weights->data() + first * cols, rows * cols, out);
      }};
  run->source = {{"kind", "synthetic"},
                 {"distribution", distribution},
                 {"shape", {shape.rows, shape.cols}},
                 {"seed", options.seed}};
  run->summary = "synthetic " + distribution + " [" + std::to_string(shape.rows) + ", " +
                 std::to_string(shape.cols) + "], seed " + std::to_string(options.seed);
  return {source};
}

std::vector<WeightMatrixSource> file_sources(const SafetensorsFile& file,
                                             const QuantErrorOptions& options,
                                             RunDescription* run) {
  std::vector<WeightMatrixSource> sources;
  for (const TensorInfo* info : select_float_matrices(file, options.tensors)) {
    sources.push_back(
        WeightMatrixSource{info->name, info->rows(), info->cols(),
                           [&file, info](std::size_t first, std::size_t rows, float* out) {
                             file.read_float_rows(*info, first, rows, out);
                           }});
  }
  if (sources.empty()) {
    throw InputError(SourceLocation{file.path(), 0, ""},
                     "no 2-D float tensor" +
                         (options.tensors.empty() ? "" : " matches --tensors " + options.tensors));
  }
  run->source = {{"kind", "file"}, {"path", file.path()}, {"activation_seed", options.seed}};
  run->summary = file.path() + ", " + std::to_string(sources.size()) + " tensors";
  return sources;
}

// --- report -----------------------------------------------------------------------------------

nlohmann::json metrics_json(const ErrorSums& sums) {
  const QualityMetrics m = quality_metrics(sums);
  return {{"relative_frobenius_error", m.relative_frobenius_error},
          {"mean_relative_error", m.mean_relative_error},
          {"max_abs_error", m.max_abs_error},
          {"sqnr_db", m.sqnr_db},  // +inf (exact) is written as null
          {"output_relative_error", m.output_relative_error},
          {"effective_bits_per_weight", m.effective_bits_per_weight}};
}

nlohmann::json report_json(const RunDescription& run,
                           const std::vector<WeightMatrixSource>& sources,
                           const std::vector<SchemeQuality>& results, int group_size,
                           bool symmetric) {
  nlohmann::json schemes = nlohmann::json::array();
  for (const SchemeQuality& result : results) {
    nlohmann::json tensors = nlohmann::json::array();
    for (std::size_t t = 0; t < sources.size(); ++t) {
      nlohmann::json entry = metrics_json(result.per_tensor[t]);
      entry["name"] = sources[t].name;
      entry["shape"] = {sources[t].rows, sources[t].cols};
      tensors.push_back(entry);
    }
    schemes.push_back({{"scheme", result.scheme},
                       {"overall", metrics_json(result.overall)},
                       {"tensors", tensors}});
  }
  return {{"command", "quant-error"},
          {"source", run.source},
          {"group_size",
           group_size == kPerChannel ? nlohmann::json("per-channel") : nlohmann::json(group_size)},
          {"quantizer", symmetric ? "symmetric-absmax" : "reference-minmax"},
          {"activation_rows", kActivationRows},
          {"schemes", schemes}};
}

std::vector<Cell> metric_cells(const ErrorSums& sums) {
  const QualityMetrics m = quality_metrics(sums);
  constexpr double kPercent = 100.0;
  return {Cell::number(m.effective_bits_per_weight, kBitsDecimals),
          Cell::number(kPercent * m.relative_frobenius_error, kPercentDecimals),
          Cell::number(kPercent * m.mean_relative_error, kPercentDecimals),
          Cell::number(m.max_abs_error, kAbsErrorDecimals),
          Cell::number(m.sqnr_db, kDecibelDecimals),
          Cell::number(kPercent * m.output_relative_error, kPercentDecimals)};
}

std::vector<std::string> columns_with(std::vector<std::string> leading) {
  for (const char* name : {"bits_per_weight", "rel_frobenius_pct", "mean_rel_pct", "max_abs_error",
                           "sqnr_db", "output_rel_pct"}) {
    leading.emplace_back(name);
  }
  return leading;
}

std::vector<Cell> row_with(std::vector<Cell> leading, const ErrorSums& sums) {
  for (Cell& cell : metric_cells(sums)) leading.push_back(std::move(cell));
  return leading;
}

std::vector<Table> report_tables(const std::string& title,
                                 const std::vector<WeightMatrixSource>& sources,
                                 const std::vector<SchemeQuality>& results) {
  Table overall(title, columns_with({"scheme"}));
  for (const SchemeQuality& result : results) {
    overall.add_row(row_with({result.scheme}, result.overall));
  }
  if (sources.size() < 2) return {overall};
  Table per_tensor("per tensor", columns_with({"tensor", "shape", "scheme"}));
  for (std::size_t t = 0; t < sources.size(); ++t) {
    const std::string shape =
        std::to_string(sources[t].rows) + "x" + std::to_string(sources[t].cols);
    for (const SchemeQuality& result : results) {
      per_tensor.add_row(row_with({sources[t].name, shape, result.scheme}, result.per_tensor[t]));
    }
  }
  return {overall, per_tensor};
}

Table csv_table(const std::vector<WeightMatrixSource>& sources,
                const std::vector<SchemeQuality>& results) {
  Table table("", columns_with({"tensor", "scheme"}));
  for (const SchemeQuality& result : results)
    table.add_row(row_with({"(all)", result.scheme}, result.overall));
  if (sources.size() < 2) return table;
  for (std::size_t t = 0; t < sources.size(); ++t) {
    for (const SchemeQuality& result : results) {
      table.add_row(row_with({sources[t].name, result.scheme}, result.per_tensor[t]));
    }
  }
  return table;
}

constexpr const char* kLegend =
    "bits_per_weight: codes + 32 bits (fp16 scale + offset) per group. rel_frobenius_pct: "
    "||W-W_hat||/||W||. mean_rel_pct: mean|W-W_hat|/mean|W|.\nmax_abs_error: max|W-W_hat|. "
    "sqnr_db: 10 log10(sum W^2 / sum (W-W_hat)^2). output_rel_pct: ||XW^T-XW_hat^T||/||XW^T|| "
    "for X of 8 rows of N(0,1).\n";

void print_report(const QuantErrorOptions& options, OutputFormat format, const RunDescription& run,
                  const std::vector<WeightMatrixSource>& sources,
                  const std::vector<SchemeQuality>& results, int group_size) {
  if (format == OutputFormat::kJson) {
    std::cout << report_json(run, sources, results, group_size, options.symmetric).dump(2) << "\n";
    return;
  }
  if (format == OutputFormat::kCsv) {
    std::cout << csv_table(sources, results).to_csv();
    return;
  }
  const std::string title =
      "quant-error: " + run.summary + ", group size " + group_size_text(group_size) + ", " +
      (options.symmetric ? "symmetric abs-max" : "reference min/max") + " quantizer";
  std::cout << render_tables(report_tables(title, sources, results), format) << "\n" << kLegend;
}

int run_quant_error(const QuantErrorOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const int group_size = parse_group_size_flag(options.group_size);
  const std::vector<QuantScheme> schemes = parse_schemes(options.schemes, options.symmetric);
  RunDescription run;
  std::unique_ptr<SafetensorsFile> file;
  std::vector<WeightMatrixSource> sources;
  if (options.input.empty()) {
    sources = synthetic_source(options, &run);
  } else {
    file = std::make_unique<SafetensorsFile>(options.input);
    sources = file_sources(*file, options, &run);
  }
  std::vector<SchemeQuality> results;
  try {
    results = measure_quality(sources, schemes, group_size, options.seed);
  } catch (const InputError& e) {
    if (!file) throw;
    throw InputError(SourceLocation{file->path(), 0, ""}, e.what());
  }
  print_report(options, format, run, sources, results, group_size);
  return 0;
}

}  // namespace

CommandRunner add_quant_error_command(CLI::App& app) {
  auto options = std::make_shared<QuantErrorOptions>();
  CLI::App* command = app.add_subcommand(
      "quant-error", "quantization quality per weight format: errors of W and of X W^T");
  CLI::Option* input = command->add_option("--in", options->input,
                                           "safetensors file: measure its 2-D float tensors");
  command
      ->add_option("--synthetic", options->synthetic, "synthetic weights: gaussian, laplace, llm")
      ->excludes(input);
  command->add_option("--shape", options->shape, "synthetic matrix shape NxK")
      ->excludes(input)
      ->capture_default_str();
  add_integer_option(*command, "--seed", options->seed, 0,
                     std::numeric_limits<std::uint64_t>::max(),
                     "seed of synthetic weights and activations X")
      ->default_str(std::to_string(kDefaultSeed));
  command->add_option("--quant", options->schemes, "weight formats, comma separated")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--group-size", options->group_size, "G, or per-channel")
      ->capture_default_str();
  command->add_option("--tensors", options->tensors, "ECMAScript regex searched in tensor names")
      ->needs(input);
  command->add_flag(
      "--symmetric", options->symmetric,
      "study only: symmetric abs-max quantizer (offset 0) instead of DESIGN's min/max");
  command->add_option("--format", options->format, "text, markdown, json or csv")
      ->capture_default_str();
  return [options] { return run_quant_error(*options); };
}

}  // namespace lpusim
