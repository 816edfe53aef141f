#include "sim/llm/prefill_chunks.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "kernels/error.h"
#include "kernels/int_math.h"

namespace lpusim {

std::vector<PrefillChunk> prefill_chunks(std::uint64_t prompt, std::uint64_t chunk_tokens) {
  if (chunk_tokens == 0) throw InputError("prefill chunks: expected at least 1 token per chunk");
  std::vector<PrefillChunk> chunks;
  chunks.reserve(ceil_div(prompt, chunk_tokens));
  for (std::uint64_t past = 0; past < prompt; past += chunk_tokens) {
    chunks.push_back({past, std::min(chunk_tokens, prompt - past)});
  }
  return chunks;
}

WorkloadSpec chunk_spec(const WorkloadSpec& prefill, const PrefillChunk& chunk, bool last) {
  WorkloadSpec s = prefill;
  s.phase = Phase::kPrefill;
  s.prompt = chunk.tokens;
  s.prefill_past = chunk.past;
  s.final_chunk = last;
  return s;
}

namespace {

// Whether every chunk of `chunk_tokens` fits; the reason of the first misfit goes to `reason`.
// Every chunk is checked: the SRAM a chunk declares is not monotonic in its past (the first chunk
// has nothing cached, the attention's KV buffers change shape with the past, the last has the
// LM head), and the check of one costs one layer's emission.
bool chunks_fit(const WorkloadSpec& prefill, const HwConfig& hw, std::uint64_t chunk_tokens,
                std::string& reason) {
  const std::vector<PrefillChunk> chunks = prefill_chunks(prefill.prompt, chunk_tokens);
  for (std::size_t i = chunks.size(); i-- > 0;) {
    const SramFit fit =
        workload_sram_fit(chunk_spec(prefill, chunks[i], i + 1 == chunks.size()), hw);
    if (!fit.fits) {
      reason = fit.reason;
      return false;
    }
  }
  return true;
}

// Tokens per chunk when the prompt is spread evenly over `chunks` chunks.
std::uint64_t even_chunk(std::uint64_t prompt, std::uint64_t chunks) {
  return ceil_div(prompt, chunks);
}

}  // namespace

std::uint64_t choose_chunk_tokens(const WorkloadSpec& prefill, const HwConfig& hw) {
  const std::uint64_t prompt = prefill.prompt;
  if (prompt == 0) throw InputError("prompt: expected at least 1 token to prefill");
  std::string reason;
  if (chunks_fit(prefill, hw, prompt, reason)) return prompt;
  // The fewest chunks n, the prompt spread evenly over them: every chunk streams all the weights,
  // so a short tail chunk (47 + 1 tokens) costs nearly as much as a full one while the full one
  // does more compute than an even split (24 + 24) would. n doubles until it fits, then a binary
  // search between the last misfit and that; checking n chunks costs n probes, so the search
  // never checks many more chunks than it returns. The result is always a count checked to fit.
  std::uint64_t misfits = 1;  // the most chunks known not to fit
  std::uint64_t fits = 0;     // the fewest chunks known to fit, 0 until one does
  while (fits == 0) {
    if (misfits == prompt) {
      throw SimulationError(fmt::format(
          "the prefill of model {} (batch {}, prompt {}) does not fit in SRAM even one prompt "
          "token per sequence at a time: {}",
          prefill.model.name, prefill.batch, prompt, reason));
    }
    const std::uint64_t n = std::min(2 * misfits, prompt);
    (chunks_fit(prefill, hw, even_chunk(prompt, n), reason) ? fits : misfits) = n;
  }
  while (fits - misfits > 1) {
    const std::uint64_t mid = misfits + (fits - misfits) / 2;
    (chunks_fit(prefill, hw, even_chunk(prompt, mid), reason) ? fits : misfits) = mid;
  }
  return even_chunk(prompt, fits);
}

void ChipRunSum::add(const ChipRunResult& chunk) {
  const Femtoseconds offset = total_.elapsed_fs;
  total_.elapsed_fs += chunk.elapsed_fs;
  total_.cycles += chunk.cycles;
  total_.instructions += chunk.instructions;
  for (std::size_t u = 0; u < total_.units.size(); ++u) {
    UnitStats& t = total_.units[u];
    const UnitStats& c = chunk.units[u];
    t.instructions += c.instructions;
    t.busy_fs += c.busy_fs;
    t.wait_fs += c.wait_fs;
    if (c.instructions > 0) t.finish_fs = offset + c.finish_fs;
    t.sram_bytes += c.sram_bytes;
    t.alu_ops += c.alu_ops;
    t.macs += c.macs;
    for (const Interval& i : c.busy.intervals()) t.busy.add(offset + i.start, offset + i.end);
  }
  total_.memory.transfers += chunk.memory.transfers;
  total_.memory.bytes += chunk.memory.bytes;
  total_.memory.burst_bytes += chunk.memory.burst_bytes;
  total_.memory.busy_fs += chunk.memory.busy_fs;
  total_.memory.stall_fs += chunk.memory.stall_fs;
  total_.memory_in_flight_fs += chunk.memory_in_flight_fs;
  total_.bandwidth_bound_fs += chunk.bandwidth_bound_fs;
}

void add_step_work(StepWork& total, const StepWork& chunk) {
  total.weight_bytes += chunk.weight_bytes;
  total.kv_bytes += chunk.kv_bytes;
  total.macs += chunk.macs;
  total.f16_macs += chunk.f16_macs;
  total.spill_bytes += chunk.spill_bytes;
  total.tokens += chunk.tokens;
}

}  // namespace lpusim
