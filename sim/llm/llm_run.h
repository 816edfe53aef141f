// Runs an LLM on the simulated chip: one decode step (per-token latency, throughput, bandwidth
// figures) and the prefill of the prompt (first-token latency), with a per-layer-kind breakdown
// of where the time goes and the model's size in the chosen format.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kernels/hw.h"
#include "sim/io/report.h"
#include "sim/llm/step_metrics.h"
#include "sim/llm/workload.h"

namespace lpusim {

class Simulation;

// Busy time per unit of the instructions of one layer kind ("attention", "mlp", ...).
struct KindBreakdown {
  std::string kind;
  double memory_s = 0;                      // channel time of its transfers
  std::array<double, kUnitCount> unit_s{};  // busy time of each queue, indexed by Unit
  std::uint64_t instructions = 0;

  double busy_s(Unit unit) const { return unit_s[static_cast<std::size_t>(unit)]; }
};

struct PhaseResult {
  StepMetrics metrics;
  std::vector<KindBreakdown> breakdown;
  std::uint64_t kv_write_bytes = 0;
  std::uint64_t tokens = 0;
  // Prefill: the programs it ran in (sim/llm/prefill_chunks.h) and the prompt tokens per sequence
  // of each (the last chunk may have fewer); metrics, breakdown and bytes are their sums.
  std::uint64_t chunks = 1;
  std::uint64_t chunk_tokens = 0;
  // Off-chip bytes its program holds (weights, KV cache, tables); in chunks, the largest.
  std::uint64_t footprint_bytes = 0;
  // The KV cache stayed in SRAM (resident weights and room for it); in chunks, in every chunk.
  bool kv_on_chip = false;
};

// Bytes of the whole model stored in the format (codes + fp16 scales/offsets of the quantized
// tensors, fp16 for the rest, embeddings and norms included) and in fp16.
struct ModelSize {
  std::uint64_t bytes = 0;
  std::uint64_t fp16_bytes = 0;
};
ModelSize model_size(const ModelConfig& model, const WeightFormat& format, int group_size);

struct LlmRunResult {
  WorkloadSpec spec;
  ModelSize size;
  PhaseResult decode;
  std::optional<PhaseResult> prefill;
  std::uint64_t resident_bytes = 0;

  // Where the KV cache lived: "sram", "memory", or "sram in decode, memory in prefill".
  std::string kv_placement() const;
  // Off-chip memory the run needs: the larger footprint of the decode step and the prefill.
  std::uint64_t memory_footprint_bytes() const;
  // The decode step gives each of the batch's B users one token.
  double step_latency_s() const { return decode.metrics.seconds; }
  double system_tok_s() const;  // B / step latency: every user's tokens
  double user_tok_s() const;    // 1 / step latency: one user's tokens
  double per_token_latency_s() const { return step_latency_s(); }  // alias of step_latency_s
  double throughput_tok_s() const { return system_tok_s(); }       // alias of system_tok_s
  double first_token_latency_s() const { return prefill ? prefill->metrics.seconds : 0; }
  // The seed's "weight transfer time per token": weight bytes / memory bandwidth.
  double weight_transfer_s(const HwConfig& hw) const;
  // Whether the reports name the group kernel of each phase: only a format with groups
  // (has_groups) runs a different kernel for each choice.
  bool reports_group_kernel() const;
  // The name of the group kernel `phase` ran ("two-level"), or "" when the reports name none or
  // the phase did not run.
  std::string group_kernel_ran(Phase phase) const;
};

// Simulates the decode step of `spec` (its phase is ignored) and, when with_prefill, the prefill
// of spec.prompt tokens, in chunks when its program does not fit in SRAM at once, on `simulation`
// (whose attached sinks see each run, labelled "...decode step...", "...prefill..." or, in
// chunks, "...prefill chunk i/n...").
LlmRunResult run_llm(Simulation& simulation, const WorkloadSpec& spec, const HwConfig& hw,
                     bool with_prefill);

// Every key of the report contract (docs/WORKLOAD.md, "Report contract"), the effective config and
// the breakdown: the statistics of `run` and, for the decode step and the prefill, of `step`.
nlohmann::json llm_run_json(const LlmRunResult& result, const HwConfig& hw,
                            const RunCatalogue& run = run_catalogue(),
                            const StepCatalogue& step = step_catalogue());
// A headline table (the run's table statistics, then the decode step's headline ones), the decode
// step's tables and the breakdowns.
std::vector<Table> llm_run_tables(const LlmRunResult& result, const HwConfig& hw,
                                  const RunCatalogue& run = run_catalogue(),
                                  const StepCatalogue& step = step_catalogue());

}  // namespace lpusim
