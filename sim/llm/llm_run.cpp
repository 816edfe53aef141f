#include "sim/llm/llm_run.h"

#include <array>
#include <map>

#include "kernels/elem_sizes.h"
#include "models/chip_events.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/engine/simulation.h"

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

PhaseResult simulate_phase(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw) {
  const Workload w = build_workload(spec, hw);
  BreakdownSink breakdown(w.program);
  SimRunOptions options;
  options.label = phase_label(spec);
  options.sinks = {&breakdown};
  const ChipRunResult run = simulation.run(w.program, hw, options);
  StepWork work;
  work.weight_bytes = w.weight_bytes;
  work.kv_bytes = w.kv_bytes;
  work.macs = w.macs;
  work.tokens = w.tokens;
  PhaseResult r;
  r.metrics = compute_step_metrics(run, hw, work);
  r.breakdown = breakdown.result();
  r.kv_write_bytes = w.kv_write_bytes;
  r.tokens = w.tokens;
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

double LlmRunResult::throughput_tok_s() const {
  return per_token_latency_s() > 0 ? static_cast<double>(spec.batch) / per_token_latency_s() : 0;
}

double LlmRunResult::weight_transfer_s(const HwConfig& hw) const {
  return static_cast<double>(decode.metrics.work.weight_bytes) / hw.memory.bandwidth.value;
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
    r.prefill = simulate_phase(simulation, prefill, hw);
  }
  return r;
}

nlohmann::json llm_run_json(const LlmRunResult& r, const HwConfig& hw, const RunCatalogue& run,
                            const StepCatalogue& step) {
  check_finite_statistics(run, RunSource{r, hw});
  nlohmann::json j = step_metrics_json(r.decode.metrics, step);
  write_statistics_json(run, RunSource{r, hw}, j);
  j["breakdown"] = breakdown_json(r.decode.breakdown);
  if (r.prefill) {
    nlohmann::json p = step_metrics_json(r.prefill->metrics, step);
    p["breakdown"] = breakdown_json(r.prefill->breakdown);
    j["prefill"] = p;
  }
  j["config"] = {{"hw", dump_hw_config(hw)}, {"model", dump_model_config(r.spec.model)}};
  return j;
}

std::vector<Table> llm_run_tables(const LlmRunResult& r, const HwConfig& hw,
                                  const RunCatalogue& run, const StepCatalogue& step) {
  const std::string title = r.spec.model.name + " " + r.spec.format.name + " on " + hw.name +
                            " (batch " + std::to_string(r.spec.batch) + ", context " +
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
