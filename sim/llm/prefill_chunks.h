// Chunked prefill: a prompt whose prefill program does not fit in SRAM is processed C tokens per
// sequence at a time through all layers, chunk i attending to the i*C tokens already in the KV
// cache. This file plans the chunks (the fewest that fit in SRAM) and sums the chunks' simulated
// runs.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/hw.h"
#include "models/chip_result.h"
#include "sim/llm/step_metrics.h"
#include "sim/llm/workload.h"

namespace lpusim {

struct PrefillChunk {
  std::uint64_t past = 0;    // prompt tokens per sequence already in the KV cache
  std::uint64_t tokens = 0;  // new tokens per sequence
};

// The chunks of a prompt of `prompt` tokens in chunks of `chunk_tokens` (the last may be shorter).
std::vector<PrefillChunk> prefill_chunks(std::uint64_t prompt, std::uint64_t chunk_tokens);

// The spec of one chunk of the prefill `prefill` (phase prefill, prompt = the whole prompt): the
// chunk's tokens as its prompt, its past, and the LM head only in the last chunk.
WorkloadSpec chunk_spec(const WorkloadSpec& prefill, const PrefillChunk& chunk, bool last);

// The number of tokens per sequence C of each chunk: the whole prompt when its program fits in
// SRAM; else the prompt spread evenly (C = ceil(prompt / n)) over the fewest chunks n whose
// programs all fit, n found by doubling then binary search with every chunk checked by
// workload_sram_fit. Throws SimulationError when even C = 1 does not fit, with the SRAM error of
// a one-token chunk (the bytes it needs and the bytes the SRAM holds).
std::uint64_t choose_chunk_tokens(const WorkloadSpec& prefill, const HwConfig& hw);

// The chunks' runs as one run of the programs back to back, the chip drained between them:
// elapsed time, cycles, instructions, per-unit counts and busy times, memory channel statistics,
// in-flight and bandwidth-bound times summed; chunk i's busy intervals and finish times offset by
// the elapsed time of the chunks before it.
class ChipRunSum {
 public:
  void add(const ChipRunResult& chunk);
  const ChipRunResult& total() const { return total_; }

 private:
  ChipRunResult total_;
};

// Adds a chunk's work (weight and KV bytes, MACs, tokens) to `total`.
void add_step_work(StepWork& total, const StepWork& chunk);

}  // namespace lpusim
