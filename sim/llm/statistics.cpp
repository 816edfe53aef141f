// The catalogues of report statistics (one row per statistic, like the opcode table) and the value
// helpers the writers share.
#include "sim/llm/statistics.h"

#include <algorithm>

#include "models/chip.h"
#include "models/sim_time.h"
#include "sim/llm/llm_run.h"
#include "sim/llm/step_metrics.h"

namespace lpusim {

namespace {

// Table scalings of the catalogues.
const TableScale kMicroseconds{1e6, 3, "us"};
const TableScale kMilliseconds{1e3, 3, "ms"};
const TableScale kNoTable{1, 0, ""};

constexpr unsigned kJson = kJsonWriter;
constexpr unsigned kJsonTable = kJsonWriter | kTableWriter;

StatValue count(std::uint64_t value) { return value; }

// The time every queue spent issuing instructions: a lower bound set by dispatch alone.
double dispatch_busy_s(const ChipRunResult& run, const HwConfig& hw) {
  std::uint64_t most = 0;
  for (const UnitStats& u : run.units) most = std::max(most, u.instructions);
  return static_cast<double>(most) / (hw.clock.value * hw.dispatch.issue_per_cycle);
}

std::vector<ResourceRow> resource_rows() {
  std::vector<ResourceRow> rows;
  rows.push_back({"memory", true, "the memory channel: time it spent transferring",
                  [](const ChipRunResult& run, const HwConfig&) {
                    return fs_to_seconds(run.memory.busy_fs);
                  }});
  for (const UnitInfo& info : unit_table()) {
    const Unit unit = info.unit;
    rows.push_back({std::string(info.name), info.bounds_steps, std::string(info.description),
                    [unit](const ChipRunResult& run, const HwConfig&) {
                      return fs_to_seconds(run.unit(unit).busy_fs);
                    }});
  }
  rows.push_back({"dispatch", true,
                  "issue slots: the longest queue's instructions at dispatch.issue_per_cycle",
                  dispatch_busy_s});
  return rows;
}

// The catalogues are tables: clang-format would break their rows apart.
// clang-format off

// Table scalings and compare rows shared by the rows below.
const TableScale kCycles{1, 0, "cycles"};
const TableScale kPlain{1, 0, ""};
const TableScale kBytes{1, 0, "B"};
const TableScale kGigabytes{1, 2, "GB", 1e9};
const CompareShow kNotCompared{};

StatValue real(double value) { return value; }

StepCatalogue make_step_catalogue() {
  using M = StepMetrics;
  StepCatalogue c;
  // key, label, unit, type, table scaling, writers, sweep column,
  //   description,
  //   read, label_of, compare
  c.statistics = {
      {"seconds", "time", "s", StatType::kReal, kMicroseconds, kJsonTable, 0,
       "length of the step in simulated time",
       [](const M& m) { return real(m.seconds); }},
      {"simulated_cycles", "simulated cycles", "cycles", StatType::kCount, kCycles, kJsonTable, 17,
       "the step in cycles of the chip clock",
       [](const M& m) { return count(m.simulated_cycles); }},
      {"instructions", "instructions", "", StatType::kCount, kPlain, kJsonTable, 18,
       "instructions of every queue",
       [](const M& m) { return count(m.instructions); }},
      {"weight_bytes", "weight bytes", "B", StatType::kCount, kBytes, kJsonTable, 4,
       "weights, scales/offsets, norm weights and embedding rows read from memory (before burst "
       "rounding)",
       [](const M& m) { return count(m.work.weight_bytes); }},
      {"kv_bytes", "kv bytes", "B", StatType::kCount, kBytes, kJsonTable, 5,
       "KV-cache bytes read in the step",
       [](const M& m) { return count(m.work.kv_bytes); }},
      {"macs", "MACs", "", StatType::kCount, kNoTable, kJson, 6,
       "multiply-accumulates of every MATMUL",
       [](const M& m) { return count(m.work.macs); }},
      {"f16_macs", "f16 MACs", "", StatType::kCount, kNoTable, kJson, 0,
       "the MACs of f16 MATMULs (attention's QK^T and PV; every GEMM of fp16 weights), which "
       "the MXM runs at a quarter of the int8 rate",
       [](const M& m) { return count(m.work.f16_macs); }},
      {"spill_bytes", "spill bytes", "B", StatType::kCount, kBytes, kJsonTable, 0,
       "bytes of SRAM spills: activations stored off chip where SRAM is short and loaded back "
       "(0 when the step's live buffers fit)",
       [](const M& m) { return count(m.work.spill_bytes); }},
      {"spill_memory_share", "spill share of memory", "", StatType::kReal, {100, 1, "%"},
       kJsonTable, 0,
       "spill_bytes / memory_bytes: the share of the channel's traffic, and so of its busy time, "
       "that the spills take",
       [](const M& m) {
         return real(m.memory_bytes == 0 ? 0.0
                                         : static_cast<double>(m.work.spill_bytes) /
                                               static_cast<double>(m.memory_bytes));
       }},
      {"memory_bytes", "memory bytes", "B", StatType::kCount, kNoTable, kJson, 7,
       "bytes the memory channel moved, rounded up to whole bursts",
       [](const M& m) { return count(m.memory_bytes); }},
      {"bandwidth_floor_s", "bandwidth floor", "s", StatType::kReal, kMicroseconds, kJsonTable, 9,
       "(weight_bytes + kv_bytes) / memory bandwidth: the physical floor of a streamed step",
       [](const M& m) { return real(m.bandwidth_floor_s); }},
      {"mac_floor_s", "MAC floor", "s", StatType::kReal, kMicroseconds, kJsonTable, 10,
       "every MAC at the peak rate of its type: int8 MACs / (planes x rows x cols per cycle), "
       "f16 MACs (attention's QK^T and PV) at a quarter of that rate, as the MXM runs them",
       [](const M& m) { return real(m.mac_floor_s); }},
      {"memory_busy_s", "memory busy", "s", StatType::kReal, kMicroseconds, kJsonTable, 11,
       "time the memory channel spent transferring",
       [](const M& m) { return real(m.memory_busy_s); }},
      {"bandwidth_bound_s", "bandwidth-bound", "s", StatType::kReal, kMicroseconds, kJsonTable, 12,
       "time during which a transfer was in flight while the VXM and the MXM were both idle",
       [](const M& m) { return real(m.bandwidth_bound_s); }, nullptr,
       {7, "bandwidth-bound time per token", {1e3, 2, "ms"}}},
      // Not a sweep column: a results file keeps the columns of files written before.
      {"latency_s", "latency-bound", "s", StatType::kReal, kMicroseconds, kJsonTable, 0,
       "time during which no transfer was in flight and the VXM and the MXM were both idle: the "
       "step waited on dependencies alone",
       [](const M& m) { return real(m.latency_s); }},
      {"bound", "bound by", "", StatType::kText, kNoTable, kJsonTable, 13,
       "the resource with the largest busy time among those that bound a step when it was busy at "
       "least 80% of the step; latency otherwise",
       [](const M& m) -> StatValue { return m.bound; }, nullptr,
       {10, "bound by", kPlain}},
      {"energy_j", "energy", "J", StatType::kReal, {1e3, 4, "mJ"}, kJsonTable, 0,
       "energy from the per-byte and per-op coefficients and the static power",
       [](const M& m) { return real(m.energy_j); }},
      {"energy_j_per_token", "energy per token", "J", StatType::kReal, {1, 3, "J"},
       kJsonWriter | kHeadlineWriter, 15,
       "energy_j per token (B for decode, B x P for prefill)",
       [](const M& m) { return real(m.energy_j_per_token); }, nullptr,
       {9, "energy per token", {1, 2, "J"}}},
      {"avg_power_w", "average power", "W", StatType::kReal, {1, 2, "W"}, kJsonTable, 16,
       "energy_j / seconds",
       [](const M& m) { return real(m.avg_power_w); }, nullptr,
       {8, "power", {1, 1, "W"}}},
  };
  // key, units table column, unit, table scaling, description, read
  c.unit_statistics = {
      {"busy_s", "busy (us)", "s", kMicroseconds, "busy time",
       [](const UnitMetrics& u) { return u.busy_s; }},
      {"utilization", "utilization (%)", "", {100, 1, "%"}, "busy time / seconds",
       [](const UnitMetrics& u) { return u.utilization; }},
  };
  c.resources = resource_rows();
  c.units_sweep_column = 14;
  return c;
}

// The group kernel `phase` ran: tables only, absent for formats without groups (and for a prefill
// that did not run).
Statistic<RunSource> group_kernel_row(Phase phase, int compare_row) {
  const std::string name(phase_name(phase));
  const std::string label = "group kernel (" + name + ")";
  return {"group_kernel." + name, label, "", StatType::kText, kNoTable, kTableWriter, 0,
          "the group kernel the " + name + " ran (--group-kernel); for formats with groups",
          [phase](const RunSource& r) {
            const std::string kernel = r.result.group_kernel_ran(phase);
            return kernel.empty() ? StatValue{} : StatValue{kernel};
          },
          nullptr, {compare_row, label, kPlain}};
}

RunCatalogue make_run_catalogue() {
  using R = RunSource;
  // The workload that was simulated: JSON only, and a sweep has it from the point instead.
  const auto workload = [](std::string key, StatType type, std::string description,
                           std::function<StatValue(const R&)> read) {
    return Statistic<R>{std::move(key), "", "", type, kNoTable, kJson, 0, std::move(description),
                        std::move(read)};
  };
  // key, label, unit, type, table scaling, writers, sweep column,
  //   description,
  //   read, label_of, compare
  return {
      workload("model", StatType::kText, "the model config's name",
               [](const R& r) -> StatValue { return r.result.spec.model.name; }),
      workload("quant", StatType::kText, "the weight format",
               [](const R& r) -> StatValue { return r.result.spec.format.name; }),
      workload("group_size", StatType::kCount, "quantization group size (0: per channel)",
               [](const R& r) { return count(r.result.spec.group_size); }),
      workload("batch", StatType::kCount, "sequences decoded together (B)",
               [](const R& r) { return count(r.result.spec.batch); }),
      workload("context", StatType::kCount, "tokens already in the KV cache",
               [](const R& r) { return count(r.result.spec.context); }),
      workload("prompt", StatType::kCount, "prompt tokens of the prefill (P)",
               [](const R& r) { return count(r.result.spec.prompt); }),
      workload("kv_format", StatType::kText, "the KV-cache format",
               [](const R& r) -> StatValue {
                 return std::string(kv_format_name(r.result.spec.kv));
               }),
      workload("kv_placement", StatType::kText,
               "where the KV cache lives: sram (kept on chip beside resident weights while it "
               "fits; its reads are copies within SRAM) or memory (off chip, over the memory "
               "channel), or \"sram in decode, memory in prefill\" when the two differ",
               [](const R& r) -> StatValue { return r.result.kv_placement(); }),
      // The decode step in words that mean one thing at any batch: the batch of B users each gets
      // one token per step.
      {"step_latency_s", "step latency (between a user's tokens)", "s", StatType::kReal,
       kMilliseconds, kJsonTable, 0,
       "simulated time of one decode step, which gives each of the B users one token",
       [](const R& r) { return real(r.result.step_latency_s()); }},
      {"user_token_latency_s", "token latency per user", "s", StatType::kReal, kMilliseconds,
       kJson, 0,
       "time between two tokens of one user: step_latency_s",
       [](const R& r) { return real(r.result.step_latency_s()); }},
      {"system_tok_s", "tokens/s (system)", "tokens/s", StatType::kReal, {1, 2, "tokens/s"},
       kJsonTable, 0,
       "tokens the chip generates per second for all users: B / step_latency_s",
       [](const R& r) { return real(r.result.system_tok_s()); }, nullptr},
      {"user_tok_s", "tokens/s per user", "tokens/s", StatType::kReal, {1, 2, "tokens/s"},
       kJsonTable, 0,
       "tokens one user receives per second: 1 / step_latency_s",
       [](const R& r) { return real(r.result.user_tok_s()); }},
      {"energy_j_per_generated_token", "energy per generated token", "J", StatType::kReal,
       {1, 3, "J"}, kJson, 0,
       "the decode step's energy_j / B (its energy_j_per_token, which the text report shows)",
       [](const R& r) { return real(r.result.decode.metrics.energy_j_per_token); }},
      // The names of earlier reports, kept for compatibility (JSON, sweep columns, compare rows).
      {"per_token_latency_s", "per-token latency", "s", StatType::kReal, kMilliseconds,
       kJson, 1,
       "alias of step_latency_s",
       [](const R& r) { return real(r.result.step_latency_s()); }, nullptr,
       {5, "per-token latency", {1e3, 2, "ms"}}},
      {"throughput_tok_s", "throughput", "tokens/s", StatType::kReal, {1, 2, "tokens/s"},
       kJson, 2,
       "alias of system_tok_s",
       [](const R& r) { return real(r.result.system_tok_s()); }, nullptr,
       {3, "throughput", {1, 3, "tokens/s"}}},
      {"first_token_latency_s", "first-token latency", "s", StatType::kReal, kMilliseconds,
       kJsonTable, 3,
       "simulated time of the prefill of prompt tokens; null with --no-prefill",
       [](const R& r) {
         return r.result.prefill ? real(r.result.first_token_latency_s()) : StatValue{};
       },
       [](const R& r) {
         return "first-token latency (prefill of " + std::to_string(r.result.spec.prompt) + ")";
       },
       {4, "first-token latency", {1e3, 2, "ms"}}},
      // The prefill's chunking is in JSON as prefill.chunks and prefill.chunk_tokens.
      {"prefill_chunks", "prefill chunks", "", StatType::kCount, {1, 0, "chunks"}, kTableWriter, 0,
       "the programs the prefill ran in; shown when it did not fit in SRAM at once",
       [](const R& r) {
         const bool chunked = r.result.prefill && r.result.prefill->chunks > 1;
         return chunked ? count(r.result.prefill->chunks) : StatValue{};
       },
       [](const R& r) {
         return "prefill chunks (of " + std::to_string(r.result.prefill->chunk_tokens) +
                " tokens per sequence)";
       }},
      // In JSON as the object group_kernel {"prefill": ..., "decode": ...} (llm_run_json).
      group_kernel_row(Phase::kPrefill, 11),
      group_kernel_row(Phase::kDecode, 12),
      // In JSON as kv_placement.
      {"kv_cache_in", "KV cache in", "", StatType::kText, kNoTable, kTableWriter, 0,
       "where the KV cache lived (kv_placement)",
       [](const R& r) -> StatValue { return r.result.kv_placement(); }},
      {"weight_transfer_s", "weight transfer time per token", "s", StatType::kReal, kMilliseconds,
       kJsonTable, 0,
       "weight_bytes / memory bandwidth (the seed report's figure)",
       [](const R& r) { return real(r.result.weight_transfer_s(r.hw)); }, nullptr,
       {6, "weight transfer time per token", {1e3, 2, "ms"}}},
      {"kv_write_bytes", "kv write bytes", "B", StatType::kCount, kNoTable, kJson, 0,
       "KV-cache bytes written in the step",
       [](const R& r) { return count(r.result.decode.kv_write_bytes); }},
      {"model_bytes", "model size", "B", StatType::kCount, kGigabytes, kJsonTable, 8,
       "size of the whole model in the chosen format (scales and offsets included)",
       [](const R& r) { return count(r.result.size.bytes); }, nullptr,
       {1, "model size", kGigabytes}},
      {"model_size_vs_fp16", "model size vs fp16", "%", StatType::kReal, kNoTable, 0, 0,
       "model_bytes / model_fp16_bytes in percent",
       [](const R& r) {
         return real(100.0 * static_cast<double>(r.result.size.bytes) /
                     static_cast<double>(r.result.size.fp16_bytes));
       }, nullptr,
       {2, "model size vs fp16", {1, 1, "%"}}},
      {"model_fp16_bytes", "model size in fp16", "B", StatType::kCount, kNoTable, kJson, 0,
       "size of the whole model in fp16",
       [](const R& r) { return count(r.result.size.fp16_bytes); }},
      {"memory_footprint_bytes", "memory footprint", "B", StatType::kCount, kNoTable, kJson, 0,
       "off-chip bytes the run's programs hold: streamed weights, the KV cache of every position "
       "they hold, RoPE tables, causal mask and logits (the larger of the decode step and the "
       "prefill); checked against memory.capacity when it is set",
       [](const R& r) { return count(r.result.memory_footprint_bytes()); }},
      {"resident_bytes", "resident bytes", "B", StatType::kCount, kNoTable, kJson, 0,
       "SRAM the weights take with weights: resident; 0 when streamed",
       [](const R& r) { return count(r.result.resident_bytes); }},
  };
}

// The busy time of each queue of the unit table that can bound a step, as `<unit>_s`.
void add_unit_breakdown(BreakdownCatalogue& catalogue, const TableScale& milliseconds) {
  for (const UnitInfo& unit : unit_table()) {
    if (!unit.bounds_steps) continue;
    const Unit u = unit.unit;
    std::string upper(unit.name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    catalogue.push_back({std::string(unit.name) + "_s", std::string(unit.name) + " (ms)", "s",
                         StatType::kReal, milliseconds, kJsonTable, 0,
                         upper + " busy time of the kind's instructions",
                         [u](const KindBreakdown& k) { return real(k.busy_s(u)); }, nullptr,
                         kNotCompared});
  }
}

BreakdownCatalogue make_breakdown_catalogue() {
  using K = KindBreakdown;
  const TableScale milliseconds{1e3, 3, ""};
  // key, label (the table column), unit, type, table scaling, writers, sweep column,
  //   description,
  //   read, label_of, compare (spelled out: GCC 12 stops on their defaults in this instantiation)
  BreakdownCatalogue catalogue = {
      {"memory_s", "memory (ms)", "s", StatType::kReal, milliseconds, kJsonTable, 0,
       "channel time of the kind's transfers",
       [](const K& k) { return real(k.memory_s); }, nullptr, kNotCompared},
  };
  add_unit_breakdown(catalogue, milliseconds);
  catalogue.push_back(
      {"instructions", "instructions", "", StatType::kCount, kPlain, kJsonTable, 0,
       "instructions of the kind (dispatch instructions not counted)",
       [](const K& k) { return count(k.instructions); }, nullptr, kNotCompared});
  return catalogue;
}

// clang-format on

}  // namespace

const BreakdownCatalogue& breakdown_catalogue() {
  static const BreakdownCatalogue catalogue = make_breakdown_catalogue();
  return catalogue;
}

const StepCatalogue& step_catalogue() {
  static const StepCatalogue catalogue = make_step_catalogue();
  return catalogue;
}

const RunCatalogue& run_catalogue() {
  static const RunCatalogue catalogue = make_run_catalogue();
  return catalogue;
}

double stat_number(const StatValue& value) {
  if (const auto* real = std::get_if<double>(&value)) return *real;
  if (const auto* n = std::get_if<std::uint64_t>(&value)) return static_cast<double>(*n);
  return 0;
}

nlohmann::json stat_json(const StatValue& value) {
  if (const auto* real = std::get_if<double>(&value)) return *real;
  if (const auto* n = std::get_if<std::uint64_t>(&value)) return *n;
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return nullptr;
}

Cell stat_cell(const StatValue& value, const TableScale& shown) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* n = std::get_if<std::uint64_t>(&value); n && shown.is_identity()) {
    return Cell::integer(static_cast<std::int64_t>(*n));
  }
  return Cell::number(shown.of(stat_number(value)), shown.decimals);
}

std::vector<std::string> sweep_metric_columns(const RunCatalogue& run, const StepCatalogue& step) {
  std::vector<SweepColumn> columns;
  add_sweep_columns(run, columns);
  add_sweep_columns(step.statistics, columns);
  for (const ResourceRow& resource : step.resources) {
    for (const UnitStatistic& s : step.unit_statistics) {
      columns.push_back({step.units_sweep_column, "units." + resource.name + "." + s.key});
    }
  }
  std::stable_sort(columns.begin(), columns.end(), [](const SweepColumn& a, const SweepColumn& b) {
    return a.position < b.position;
  });
  std::vector<std::string> keys;
  for (const SweepColumn& c : columns) keys.push_back(c.key);
  return keys;
}

}  // namespace lpusim
