// A prefill in chunks on the chip: every chunk simulated, the sums never beat the summed floors,
// the linear layers do the same MACs as in one program, a prompt that fits runs exactly as one
// program, and more SRAM (fewer, larger chunks) is never slower.
#include <gtest/gtest.h>

#include <string>

#include "sim/llm/llm_run.h"
#include "sim/llm/prefill_chunks.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

constexpr std::uint64_t kPrompt = 48;
constexpr std::uint64_t kBatch = 2;

WorkloadSpec tiny_spec() {
  WorkloadSpec s{testing::tiny_model(), parse_format("int4")};
  s.batch = kBatch;
  s.context = 64;
  s.prompt = kPrompt;
  return s;
}

// SRAM capacities of the test chip at which the tiny prefill runs in 10, 3 and 1 chunks.
constexpr std::uint64_t kTenChunksSram = 303 << 10;
constexpr std::uint64_t kThreeChunksSram = 737 << 10;
constexpr std::uint64_t kOneChunkSram = 2246 << 10;

HwConfig chip_with_sram(std::uint64_t bytes) {
  HwConfig hw = testing::round_number_chip();
  hw.sram.capacity = Bytes{bytes};
  return hw;
}

// Attention MACs (QK^T and PV) of every layer for chunks of `chunk` tokens: each query of a chunk
// is multiplied with the keys of the chunk and of the chunks before it.
std::uint64_t attention_macs(std::uint64_t chunk) {
  const ModelConfig m = testing::tiny_model();
  std::uint64_t query_keys = 0;
  for (const PrefillChunk& c : prefill_chunks(kPrompt, chunk))
    query_keys += c.tokens * (c.past + c.tokens);
  return 2 * static_cast<std::uint64_t>(m.layers * m.heads * m.head_dim) * kBatch * query_keys;
}

TEST(ChunkedPrefill, SmallSramSplitsThePromptAndNeverBeatsTheSummedFloors) {
  const HwConfig hw = chip_with_sram(kThreeChunksSram);
  const LlmRunResult r = run_llm(testing::test_simulation(), tiny_spec(), hw, true);
  ASSERT_TRUE(r.prefill);
  const PhaseResult& p = *r.prefill;
  EXPECT_GT(p.chunks, 1u);
  EXPECT_LT(p.chunk_tokens, kPrompt);
  EXPECT_EQ(p.chunks, prefill_chunks(kPrompt, p.chunk_tokens).size());
  EXPECT_EQ(p.tokens, kBatch * kPrompt);
  const StepMetrics& m = p.metrics;
  EXPECT_EQ(r.first_token_latency_s(), m.seconds);
  EXPECT_GE(m.seconds, m.bandwidth_floor_s);
  EXPECT_GE(m.seconds, m.mac_floor_s);
  EXPECT_LE(m.memory_busy_s, m.seconds);
  EXPECT_LE(m.bandwidth_bound_s, m.seconds);
  for (const UnitMetrics& u : m.units) EXPECT_LE(u.utilization, 1.0) << u.name;
}

TEST(ChunkedPrefill, ResidentWeightsLeaveLessSramAndStillChunkAboveTheFloors) {
  HwConfig hw = chip_with_sram(1212 << 10);
  hw.weights = WeightPlacement::kResident;
  const LlmRunResult r = run_llm(testing::test_simulation(), tiny_spec(), hw, true);
  EXPECT_GT(r.prefill->chunks, 1u);
  const StepMetrics& m = r.prefill->metrics;
  EXPECT_GE(m.seconds, m.bandwidth_floor_s);
  EXPECT_GE(m.seconds, m.mac_floor_s);
}

TEST(ChunkedPrefill, ChunkTimesAddUpToTheFirstTokenLatency) {
  const HwConfig hw = chip_with_sram(kThreeChunksSram);
  const LlmRunResult r = run_llm(testing::test_simulation(), tiny_spec(), hw, true);
  WorkloadSpec whole = tiny_spec();
  whole.phase = Phase::kPrefill;
  const std::vector<PrefillChunk> chunks = prefill_chunks(kPrompt, r.prefill->chunk_tokens);
  Femtoseconds total = 0;
  std::uint64_t instructions = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Workload w = build_workload(chunk_spec(whole, chunks[i], i + 1 == chunks.size()), hw);
    const ChipRunResult run = testing::run_on_test_chip(w.program, hw);
    total += run.elapsed_fs;
    instructions += run.instructions;
  }
  EXPECT_DOUBLE_EQ(r.first_token_latency_s(), fs_to_seconds(total));
  EXPECT_EQ(r.prefill->metrics.instructions, instructions);
}

TEST(ChunkedPrefill, LinearLayerMacsMatchOneProgramAndAttentionSkipsOnlyMaskedKeys) {
  const LlmRunResult one =
      run_llm(testing::test_simulation(), tiny_spec(), testing::round_number_chip(), true);
  const LlmRunResult chunked =
      run_llm(testing::test_simulation(), tiny_spec(), chip_with_sram(kThreeChunksSram), true);
  ASSERT_EQ(one.prefill->chunks, 1u);
  const std::uint64_t c = chunked.prefill->chunk_tokens;
  ASSERT_LT(c, kPrompt);
  const std::uint64_t one_macs = one.prefill->metrics.work.macs;
  const std::uint64_t chunked_macs = chunked.prefill->metrics.work.macs;
  // Same linear layers (and LM head) work; the attention of a chunk never multiplies a query with
  // the later chunks' keys that one program computes and then masks.
  EXPECT_EQ(one_macs - attention_macs(kPrompt), chunked_macs - attention_macs(c));
  EXPECT_LT(chunked_macs, one_macs);
  EXPECT_EQ(one.prefill->kv_write_bytes, chunked.prefill->kv_write_bytes);
}

TEST(ChunkedPrefill, PromptThatFitsRunsAsOneProgramExactlyAsBefore) {
  const HwConfig hw = testing::round_number_chip();
  const LlmRunResult r = run_llm(testing::test_simulation(), tiny_spec(), hw, true);
  EXPECT_EQ(r.prefill->chunks, 1u);
  EXPECT_EQ(r.prefill->chunk_tokens, kPrompt);
  WorkloadSpec whole = tiny_spec();
  whole.phase = Phase::kPrefill;
  const Workload w = build_workload(whole, hw);
  const ChipRunResult run = testing::run_on_test_chip(w.program, hw);
  StepWork work{w.weight_bytes, w.kv_bytes, w.macs, w.tokens, w.f16_macs};
  const StepMetrics m = compute_step_metrics(run, hw, work);
  EXPECT_EQ(step_metrics_json(r.prefill->metrics).dump(), step_metrics_json(m).dump());
  EXPECT_EQ(r.prefill->kv_write_bytes, w.kv_write_bytes);
}

TEST(ChunkedPrefill, MoreSramIsNeverSlower) {
  double previous = 0;
  std::uint64_t previous_chunks = 0;
  for (const std::uint64_t sram : {kTenChunksSram, kThreeChunksSram, kOneChunkSram}) {
    SCOPED_TRACE("SRAM " + std::to_string(sram));
    const LlmRunResult r =
        run_llm(testing::test_simulation(), tiny_spec(), chip_with_sram(sram), true);
    if (previous_chunks > 0) {
      EXPECT_LT(r.prefill->chunks, previous_chunks);
      EXPECT_LE(r.first_token_latency_s(), previous);
    }
    previous = r.first_token_latency_s();
    previous_chunks = r.prefill->chunks;
  }
  EXPECT_EQ(previous_chunks, 1u);
}

}  // namespace
}  // namespace lpusim
