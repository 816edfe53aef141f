#include "sim/llm/llm_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "kernels/elem_sizes.h"
#include "models/chip_events.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/engine/simulation.h"
#include "sim/llm/prefill_chunks.h"
#include "sim/llm/workload_options.h"

namespace lpusim {

namespace {

bool is_dispatch(Opcode op) {
  return op == Opcode::kNotify || op == Opcode::kWait || op == Opcode::kHalt;
}

// Adds each instruction's busy time to its tag's layer kind.
class BreakdownSink : public ChipEventSink {
 public:
  explicit BreakdownSink(const Program& program) {
    for (const std::string& tag : program.tags) {
      const std::string kind(layer_kind_of_tag(tag));
      auto it = index_.find(kind);
      if (it == index_.end()) {
        it = index_.emplace(kind, kinds_.size()).first;
        kinds_.push_back(KindBreakdown{kind});
      }
      kind_of_tag_.push_back(it->second);
    }
  }

  void on_instruction(const InstructionEvent& e) override {
    const Instruction& inst = *e.inst;
    if (is_dispatch(inst.opcode)) return;
    KindBreakdown& k = kinds_[kind_of_tag_.at(inst.tag)];
    if (inst.opcode == Opcode::kLoad || inst.opcode == Opcode::kStore) {
      k.memory_s += fs_to_seconds(e.transfer.last_byte - e.transfer.start);
    }
    ++k.instructions;
    k.unit_s[static_cast<std::size_t>(e.unit)] += fs_to_seconds(e.end_fs - e.issue_fs);
  }

  std::vector<KindBreakdown> result() const {
    std::vector<KindBreakdown> out;
    for (const KindBreakdown& k : kinds_) {
      if (k.instructions > 0) out.push_back(k);
    }
    return out;
  }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<KindBreakdown> kinds_;
  std::vector<std::size_t> kind_of_tag_;
};

// "llama2-70b q3.5 decode step (batch 1, context 2048)", naming a run in traces.
std::string phase_label(const WorkloadSpec& spec) {
  std::string label = spec.model.name + " " + spec.format.name + " ";
  if (spec.phase == Phase::kDecode) {
    label += "decode step (batch " + std::to_string(spec.batch) + ", context " +
             std::to_string(spec.context) + ")";
  } else {
    label += "prefill (batch " + std::to_string(spec.batch) + ", prompt " +
             std::to_string(spec.prompt) + ")";
  }
  return label;
}

// One program on the chip, named `label` to the simulation's sinks: the run, the work it did and
// its busy time by layer kind.
struct ProgramRun {
  ChipRunResult run;
  StepWork work;
  std::vector<KindBreakdown> breakdown;
  std::uint64_t kv_write_bytes = 0;
  std::uint64_t footprint_bytes = 0;
  bool kv_on_chip = false;
};

ProgramRun run_program(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw,
                       const std::string& label) {
  const Workload w = build_workload(spec, hw);
  BreakdownSink breakdown(w.program);
  SimRunOptions options;
  options.label = label;
  options.sinks = {&breakdown};
  ProgramRun r;
  r.run = simulation.run(w.program, hw, options);
  r.work.weight_bytes = w.weight_bytes;
  r.work.kv_bytes = w.kv_bytes;
  r.work.macs = w.macs;
  r.work.f16_macs = w.f16_macs;
  r.work.spill_bytes = w.spill_bytes;
  r.work.tokens = w.tokens;
  r.breakdown = breakdown.result();
  r.kv_write_bytes = w.kv_write_bytes;
  r.footprint_bytes = w.footprint_bytes;
  r.kv_on_chip = w.kv_on_chip;
  return r;
}

PhaseResult simulate_phase(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw) {
  const ProgramRun p = run_program(simulation, spec, hw, phase_label(spec));
  PhaseResult r;
  r.metrics = compute_step_metrics(p.run, hw, p.work);
  r.breakdown = p.breakdown;
  r.kv_write_bytes = p.kv_write_bytes;
  r.tokens = p.work.tokens;
  r.footprint_bytes = p.footprint_bytes;
  r.kv_on_chip = p.kv_on_chip;
  return r;
}

// Adds `chunk` to `total` kind by kind, new kinds in order of appearance.
void add_breakdown(std::vector<KindBreakdown>& total, const std::vector<KindBreakdown>& chunk) {
  for (const KindBreakdown& k : chunk) {
    auto it = std::find_if(total.begin(), total.end(),
                           [&](const KindBreakdown& t) { return t.kind == k.kind; });
    if (it == total.end()) {
      total.push_back(k);
      continue;
    }
    it->memory_s += k.memory_s;
    for (std::size_t u = 0; u < k.unit_s.size(); ++u) it->unit_s[u] += k.unit_s[u];
    it->instructions += k.instructions;
  }
}

// The prefill in the fewest chunks that fit in SRAM (sim/llm/prefill_chunks.h), every chunk
// simulated, the metrics those of the chunks run back to back. One chunk is the
// unchunked prefill, run and named as before.
PhaseResult simulate_prefill(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw) {
  const std::uint64_t chunk_tokens = choose_chunk_tokens(spec, hw);
  const std::vector<PrefillChunk> chunks = prefill_chunks(spec.prompt, chunk_tokens);
  if (chunks.size() == 1) {
    PhaseResult r = simulate_phase(simulation, spec, hw);
    r.chunk_tokens = chunk_tokens;
    return r;
  }
  // The last chunk holds the most KV cache: refuse a memory.capacity it exceeds before any chunk
  // is simulated.
  check_workload_memory(chunk_spec(spec, chunks.back(), true), hw);
  ChipRunSum sum;
  StepWork work;
  work.tokens = 0;
  PhaseResult r;
  r.kv_on_chip = true;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const std::string label =
        fmt::format("{} {} prefill chunk {}/{} (batch {}, prompt {}, past {}, tokens {})",
                    spec.model.name, spec.format.name, i + 1, chunks.size(), spec.batch,
                    spec.prompt, chunks[i].past, chunks[i].tokens);
    const bool last = i + 1 == chunks.size();
    const ProgramRun p = run_program(simulation, chunk_spec(spec, chunks[i], last), hw, label);
    sum.add(p.run);
    add_step_work(work, p.work);
    add_breakdown(r.breakdown, p.breakdown);
    r.kv_write_bytes += p.kv_write_bytes;
    r.footprint_bytes = std::max(r.footprint_bytes, p.footprint_bytes);
    r.kv_on_chip = r.kv_on_chip && p.kv_on_chip;
  }
  r.metrics = compute_step_metrics(sum.total(), hw, work);
  r.tokens = work.tokens;
  r.chunks = chunks.size();
  r.chunk_tokens = chunk_tokens;
  return r;
}

std::uint64_t stored_bytes(const LinearLayer& layer, const WeightFormat& format, int group_size) {
  static const WeightFormat fp16 = parse_format("fp16");
  return (layer.quantized ? format : fp16)
      .stored_bytes(static_cast<std::uint64_t>(layer.out_features),
                    static_cast<std::size_t>(layer.in_features), group_size);
}

nlohmann::json breakdown_json(const std::vector<KindBreakdown>& kinds) {
  nlohmann::json j = nlohmann::json::object();
  for (const KindBreakdown& k : kinds) {
    check_finite_statistics(breakdown_catalogue(), k);
    nlohmann::json& of_kind = j[k.kind] = nlohmann::json::object();
    write_statistics_json(breakdown_catalogue(), k, of_kind);
  }
  return j;
}

Table breakdown_table(const std::vector<KindBreakdown>& kinds, const std::string& title) {
  std::vector<std::string> columns = {"layer kind"};
  for (const Statistic<KindBreakdown>& s : breakdown_catalogue()) {
    if (s.writers & kTableWriter) columns.push_back(s.label);
  }
  Table t(title, columns);
  for (const KindBreakdown& k : kinds) {
    std::vector<Cell> row = {k.kind};
    for (const Statistic<KindBreakdown>& s : breakdown_catalogue()) {
      if (s.writers & kTableWriter) row.push_back(stat_cell(s.read(k), s.shown));
    }
    t.add_row(std::move(row));
  }
  return t;
}

}  // namespace

ModelSize model_size(const ModelConfig& model, const WeightFormat& format, int group_size) {
  ModelSize size;
  for (const LinearLayer& layer : linear_layers(model)) {
    const auto count = static_cast<std::uint64_t>(layer.count);
    size.bytes += count * stored_bytes(layer, format, group_size);
    size.fp16_bytes += static_cast<std::uint64_t>(layer.parameters()) * kFp16Bytes;
  }
  const ParameterCount params = count_parameters(model);
  const auto rest = static_cast<std::uint64_t>(params.embeddings + params.norms) * kFp16Bytes;
  size.bytes += rest;
  size.fp16_bytes += rest;
  return size;
}

double LlmRunResult::system_tok_s() const {
  return step_latency_s() > 0 ? static_cast<double>(spec.batch) / step_latency_s() : 0;
}

std::string LlmRunResult::kv_placement() const {
  const char* decode_place = decode.kv_on_chip ? "sram" : "memory";
  if (!prefill || prefill->kv_on_chip == decode.kv_on_chip) return decode_place;
  return fmt::format("{} in decode, {} in prefill", decode_place,
                     prefill->kv_on_chip ? "sram" : "memory");
}

std::uint64_t LlmRunResult::memory_footprint_bytes() const {
  return std::max(decode.footprint_bytes, prefill ? prefill->footprint_bytes : 0);
}

double LlmRunResult::user_tok_s() const {
  return step_latency_s() > 0 ? 1.0 / step_latency_s() : 0;
}

double LlmRunResult::weight_transfer_s(const HwConfig& hw) const {
  return static_cast<double>(decode.metrics.work.weight_bytes) / hw.memory.bandwidth.value;
}

bool LlmRunResult::reports_group_kernel() const { return has_groups(spec.format, spec.group_size); }

std::string LlmRunResult::group_kernel_ran(Phase phase) const {
  if (!reports_group_kernel() || (phase == Phase::kPrefill && !prefill)) return "";
  return std::string(group_kernel_name(spec.group_kernels.of(phase)));
}

LlmRunResult run_llm(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw,
                     bool with_prefill) {
  LlmRunResult r;
  r.spec = spec;
  r.size = model_size(spec.model, spec.format, spec.group_size);
  if (hw.weights == WeightPlacement::kResident) r.resident_bytes = resident_weight_bytes(spec);
  WorkloadSpec decode = spec;
  decode.phase = Phase::kDecode;
  r.decode = simulate_phase(simulation, decode, hw);
  if (with_prefill) {
    WorkloadSpec prefill = spec;
    prefill.phase = Phase::kPrefill;
    r.prefill = simulate_prefill(simulation, prefill, hw);
  }
  return r;
}

nlohmann::json llm_run_json(const LlmRunResult& r, const HwConfig& hw, const RunCatalogue& run,
                            const StepCatalogue& step) {
  check_finite_statistics(run, RunSource{r, hw});
  nlohmann::json j = step_metrics_json(r.decode.metrics, step);
  write_statistics_json(run, RunSource{r, hw}, j);
  j["breakdown"] = breakdown_json(r.decode.breakdown);
  if (r.reports_group_kernel()) {
    for (const Phase phase : {Phase::kPrefill, Phase::kDecode}) {
      const std::string kernel = r.group_kernel_ran(phase);
      j["group_kernel"][std::string(phase_name(phase))] =
          kernel.empty() ? nlohmann::json(nullptr) : nlohmann::json(kernel);
    }
  }
  if (r.prefill) {
    nlohmann::json p = step_metrics_json(r.prefill->metrics, step);
    p["breakdown"] = breakdown_json(r.prefill->breakdown);
    p["chunks"] = r.prefill->chunks;
    p["chunk_tokens"] = r.prefill->chunk_tokens;
    j["prefill"] = p;
  }
  j["config"] = {{"hw", dump_hw_config(hw)}, {"model", dump_model_config(r.spec.model)}};
  return j;
}

std::vector<Table> llm_run_tables(const LlmRunResult& r, const HwConfig& hw,
                                  const RunCatalogue& run, const StepCatalogue& step) {
  const std::string title = r.spec.model.name + " " + r.spec.format.name + " on " + hw.name + " (" +
                            group_size_label(r.spec.group_size) + ", batch " +
                            std::to_string(r.spec.batch) + ", context " +
                            std::to_string(r.spec.context) + ")";
  Table head(title, {"metric", "value", "unit"});
  add_statistics_rows(run, RunSource{r, hw}, kTableWriter, head);
  add_statistics_rows(step.statistics, r.decode.metrics, kHeadlineWriter, head);
  std::vector<Table> tables = {head};
  for (Table& t : step_metrics_tables(r.decode.metrics, "decode step", step)) tables.push_back(t);
  tables.push_back(breakdown_table(r.decode.breakdown, "decode step by layer kind"));
  if (r.prefill) {
    tables.push_back(breakdown_table(r.prefill->breakdown, "prefill by layer kind"));
  }
  return tables;
}

}  // namespace lpusim
