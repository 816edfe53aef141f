// `lpusim compare`: weight formats side by side for one LLM on one chip, each metric with its
// relative change against the first format and, for the seed's model, the seed's claims beside.
// With no arguments: LLaMA-2-70B, int4 vs q3.5 at g128, on seed-80gbps.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <variant>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/cli/gemm_options.h"
#include "sim/cli/llm_options.h"
#include "sim/cli/seed_claims.h"
#include "sim/engine/simulation.h"
#include "sim/llm/llm_run.h"
#include "sim/llm/statistics.h"

namespace lpusim {

namespace {

struct CompareOptions {
  HwOptions hw;
  LlmOptions llm;
  std::vector<std::string> quants = {"int4", "q3.5"};
  std::string group_kernel = kDefaultRunGroupKernel;
  bool no_prefill = false;
  std::string format = "text";
};

// One row of the comparison: a statistic of the run or of its decode step, as `lpusim compare`
// shows it (CompareShow), with the seed's claim for it when the seed makes one.
struct Metric {
  CompareShow show;
  StatType type;
  std::function<StatValue(const LlmRunResult&, const HwConfig&)> read;
  std::optional<double SeedClaim::*> seed;

  double value(const LlmRunResult& r, const HwConfig& hw) const {
    return show.shown.of(stat_number(read(r, hw)));
  }
};

// The seed's claims, by the key of the statistic each one is a claim about.
std::optional<double SeedClaim::*> seed_claim_of(const std::string& key) {
  static const std::map<std::string, double SeedClaim::*> claims = {
      {"model_bytes", &SeedClaim::model_size_gb},
      {"model_size_vs_fp16", &SeedClaim::percent_of_fp16},
      {"throughput_tok_s", &SeedClaim::throughput_tok_s},
      {"first_token_latency_s", &SeedClaim::first_token_ms},
      {"per_token_latency_s", &SeedClaim::per_token_ms},
      {"weight_transfer_s", &SeedClaim::weight_transfer_ms},
      {"avg_power_w", &SeedClaim::power_w}};
  const auto it = claims.find(key);
  if (it == claims.end()) return std::nullopt;
  return it->second;
}

// The statistics of both catalogues that compare shows, in their CompareShow::row order.
const std::vector<Metric>& metrics() {
  static const std::vector<Metric> rows = [] {
    std::vector<Metric> out;
    for (const Statistic<RunSource>& s : run_catalogue()) {
      if (s.compare.row == 0) continue;
      out.push_back({s.compare, s.type,
                     [read = s.read](const LlmRunResult& r, const HwConfig& hw) {
                       return read(RunSource{r, hw});
                     },
                     seed_claim_of(s.key)});
    }
    for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
      if (s.compare.row == 0) continue;
      out.push_back({s.compare, s.type,
                     [read = s.read](const LlmRunResult& r, const HwConfig&) {
                       return read(r.decode.metrics);
                     },
                     seed_claim_of(s.key)});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Metric& a, const Metric& b) { return a.show.row < b.show.row; });
    return out;
  }();
  return rows;
}

std::string percent_change(double base, double value) {
  if (base == 0) return "-";
  const double change = 100.0 * (value / base - 1.0);
  char text[32];
  std::snprintf(text, sizeof text, "%+.1f%%", change);
  return text;
}

bool show_seed(const std::vector<LlmRunResult>& runs) {
  if (runs.front().spec.model.name != kSeedModel) return false;
  for (const LlmRunResult& r : runs) {
    if (!seed_claim(r.spec.format.name)) return false;
  }
  return runs.size() >= 2;
}

// The runs' group size ("g128"), or each format's when they differ ("int8 per-channel, int4 g128").
std::string group_sizes(const std::vector<LlmRunResult>& runs) {
  bool same = true;
  for (const LlmRunResult& r : runs) same = same && r.spec.group_size == runs[0].spec.group_size;
  if (same) return group_size_label(runs[0].spec.group_size);
  std::string text;
  for (const LlmRunResult& r : runs) {
    text +=
        (text.empty() ? "" : ", ") + r.spec.format.name + " " + group_size_label(r.spec.group_size);
  }
  return text;
}

Table comparison_table(const std::vector<LlmRunResult>& runs, const HwConfig& hw) {
  const bool seed = show_seed(runs);
  std::vector<std::string> columns = {"metric", "unit"};
  for (const LlmRunResult& r : runs) columns.push_back(r.spec.format.name);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    columns.push_back("change " + runs[i].spec.format.name);
  }
  if (seed) {
    for (const LlmRunResult& r : runs) columns.push_back("seed " + r.spec.format.name);
    columns.push_back("seed change");
  }
  const LlmRunResult& first = runs.front();
  Table t(first.spec.model.name + " on " + hw.name + ": " + columns[2] + " vs " +
              runs.back().spec.format.name + " (" + group_sizes(runs) + ", batch " +
              std::to_string(first.spec.batch) + ", context " + std::to_string(first.spec.context) +
              ", prompt " + std::to_string(first.spec.prompt) + ")",
          columns);
  for (const Metric& m : metrics()) {
    std::vector<Cell> row = {m.show.label, std::string(m.show.shown.unit)};
    const auto is_name = [&](const LlmRunResult& r) {
      return std::holds_alternative<std::string>(m.read(r, hw));
    };
    // A name no run has (the group kernel of formats without groups) is no row, as in `run`.
    if (m.type == StatType::kText && std::none_of(runs.begin(), runs.end(), is_name)) continue;
    if (std::any_of(runs.begin(), runs.end(), is_name)) {  // no change, no claim; "-" if absent
      for (const LlmRunResult& r : runs) {
        const StatValue value = m.read(r, hw);
        const auto* text = std::get_if<std::string>(&value);
        row.push_back(text ? Cell(*text) : Cell("-"));
      }
      while (row.size() < columns.size()) row.push_back("");
      t.add_row(std::move(row));
      continue;
    }
    const int decimals = m.show.shown.decimals;
    // A statistic absent from a run (the first-token latency with --no-prefill) is "-", and so is
    // its change.
    const auto absent = [&](const LlmRunResult& r) {
      return std::holds_alternative<std::monostate>(m.read(r, hw));
    };
    for (const LlmRunResult& r : runs) {
      row.push_back(absent(r) ? Cell("-") : Cell::number(m.value(r, hw), decimals));
    }
    for (std::size_t i = 1; i < runs.size(); ++i) {
      row.push_back(absent(first) || absent(runs[i])
                        ? Cell("-")
                        : Cell(percent_change(m.value(first, hw), m.value(runs[i], hw))));
    }
    if (seed) {
      std::vector<double> claims;
      for (const LlmRunResult& r : runs) {
        if (m.seed) claims.push_back(*seed_claim(r.spec.format.name).*(*m.seed));
      }
      for (std::size_t i = 0; i < runs.size(); ++i) {
        row.push_back(m.seed ? Cell::number(claims[i], decimals) : Cell("-"));
      }
      row.push_back(m.seed ? Cell(percent_change(claims.front(), claims.back())) : Cell("-"));
    }
    t.add_row(std::move(row));
  }
  return t;
}

nlohmann::json comparison_json(const std::vector<LlmRunResult>& runs, const HwConfig& hw) {
  nlohmann::json j;
  j["hw"] = hw.name;
  j["model"] = runs.front().spec.model.name;
  j["schemes"] = nlohmann::json::array();
  for (const LlmRunResult& r : runs) {
    nlohmann::json s = llm_run_json(r, hw);
    s.erase("config");
    j["schemes"].push_back(s);
  }
  j["config"] = llm_run_json(runs.front(), hw)["config"];
  if (show_seed(runs)) {
    for (const LlmRunResult& r : runs) {
      const SeedClaim c = *seed_claim(r.spec.format.name);
      j["seed_claims"][r.spec.format.name] = {{"model_size_gb", c.model_size_gb},
                                              {"percent_of_fp16", c.percent_of_fp16},
                                              {"throughput_tok_s", c.throughput_tok_s},
                                              {"first_token_ms", c.first_token_ms},
                                              {"per_token_ms", c.per_token_ms},
                                              {"weight_transfer_ms", c.weight_transfer_ms},
                                              {"power_w", c.power_w}};
    }
  }
  return j;
}

int run_compare(const CompareOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  if (options.quants.empty()) {
    throw InputError(SourceLocation{"", 0, "--quant"}, "expected at least one format");
  }
  const HwConfig hw = options.hw.load();
  std::vector<WorkloadSpec> specs;
  for (const std::string& q : options.quants) {
    WorkloadSpec spec = options.llm.spec(q);
    spec.group_kernels = run_group_kernels_flag(options.group_kernel, spec.format, spec.group_size);
    specs.push_back(spec);
  }
  Simulation simulation;
  std::vector<LlmRunResult> runs;
  for (const WorkloadSpec& spec : specs) {
    runs.push_back(run_llm(simulation, spec, hw, !options.no_prefill));
  }
  print_report({comparison_table(runs, hw)}, comparison_json(runs, hw).dump(2), format);
  return 0;
}

}  // namespace

CommandRunner add_compare_command(CLI::App& app) {
  auto options = std::make_shared<CompareOptions>();
  CLI::App* command = app.add_subcommand(
      "compare",
      "weight formats side by side for one LLM (default: llama2-70b int4 vs q3.5 on seed-80gbps)");
  add_hw_options(*command, options->hw);
  add_llm_options(*command, options->llm);
  command->add_option("--quant", options->quants, "weight formats, comma separated")
      ->delimiter(',');
  add_run_group_kernel_option(*command, options->group_kernel);
  command->add_flag("--no-prefill", options->no_prefill,
                    "simulate the decode steps only (no first-token latency)");
  add_format_option(*command, options->format);
  return [options] { return run_compare(*options); };
}

}  // namespace lpusim
