// The off-chip memory a step holds (program_footprint) and the optional memory.capacity check:
// the footprint is worked out by hand from the model's shapes, and a capacity one byte short of
// it is refused with the bytes it needs while the exact footprint is accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kernels/error.h"
#include "sim/llm/llm_run.h"
#include "sim/llm/workload.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

WorkloadSpec spec_of(Phase phase, KvFormat kv = KvFormat::kFp16) {
  WorkloadSpec s;
  s.model = testing::tiny_model();
  s.format = parse_format("int4");
  s.phase = phase;
  s.batch = 3;
  s.context = 100;
  s.prompt = 20;
  s.kv = kv;
  return s;
}

// KV-cache bytes of `positions` tokens per sequence, every layer, K and V.
std::uint64_t kv_bytes(const WorkloadSpec& s, std::uint64_t positions) {
  const auto& m = s.model;
  const std::uint64_t rows = 2ull * m.layers * s.batch * m.kv_heads * positions;
  const std::uint64_t row = s.kv == KvFormat::kInt8 ? m.head_dim + 2ull : m.head_dim * 2ull;
  return rows * row;
}

// RoPE cos and sin over every position, the causal mask of a prefill, the logits.
std::uint64_t table_bytes(const WorkloadSpec& s, std::uint64_t positions, std::uint64_t tokens) {
  const auto& m = s.model;
  const std::uint64_t rope = 2 * positions * (m.head_dim / 2) * 4;
  const std::uint64_t mask = tokens > 1 ? tokens * positions * 4 : 0;
  return rope + mask + s.batch * m.vocab * 4ull;
}

TEST(MemoryFootprint, Decode_IsTheStreamedModelPlusTheCacheOfContextPlusOnePositions) {
  const HwConfig hw = testing::round_number_chip();
  for (const KvFormat kv : {KvFormat::kFp16, KvFormat::kInt8}) {
    const WorkloadSpec s = spec_of(Phase::kDecode, kv);
    const Workload w = build_workload(s, hw);
    const ProgramFootprint f = program_footprint(w.program);
    EXPECT_EQ(f.weight_bytes, model_size(s.model, s.format, s.group_size).bytes);
    EXPECT_EQ(f.kv_bytes, kv_bytes(s, s.context + 1));
    EXPECT_EQ(f.other_bytes, table_bytes(s, s.context + 1, 1));
    EXPECT_EQ(w.footprint_bytes, f.total());
  }
}

TEST(MemoryFootprint, Prefill_HoldsThePromptsCacheAndItsMask) {
  const HwConfig hw = testing::round_number_chip();
  const WorkloadSpec s = spec_of(Phase::kPrefill);
  const Workload w = build_workload(s, hw);
  const ProgramFootprint f = program_footprint(w.program);
  EXPECT_EQ(f.kv_bytes, kv_bytes(s, s.prompt));
  EXPECT_EQ(f.other_bytes, table_bytes(s, s.prompt, s.prompt));
}

TEST(MemoryFootprint, ResidentWeights_AreNotInMemoryButTheEmbeddingTableIs) {
  HwConfig hw = testing::round_number_chip();
  hw.weights = WeightPlacement::kResident;
  const WorkloadSpec s = spec_of(Phase::kDecode);
  const ProgramFootprint f = program_footprint(build_workload(s, hw).program);
  EXPECT_EQ(f.weight_bytes, static_cast<std::uint64_t>(s.model.vocab) * s.model.hidden * 2);
}

TEST(MemoryCapacity, OneByteShortOfTheFootprint_IsASimulationErrorNamingTheBytes) {
  HwConfig hw = testing::round_number_chip();
  const WorkloadSpec s = spec_of(Phase::kDecode);
  const std::uint64_t need = build_workload(s, hw).footprint_bytes;
  hw.memory.capacity = Bytes{need};
  EXPECT_NO_THROW(build_workload(s, hw));
  hw.memory.capacity = Bytes{need - 1};
  try {
    build_workload(s, hw);
    ADD_FAILURE() << "a footprint over memory.capacity was accepted";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs " + std::to_string(need) + " bytes"));
    EXPECT_THAT(e.what(), HasSubstr("memory.capacity " + std::to_string(need - 1) + " bytes"));
    EXPECT_THAT(e.what(), HasSubstr("101 positions per sequence"));
  }
}

// memory.capacity is checked before the whole program is built, on the footprint worked out from
// the one-layer program; it is the footprint of the program built, byte for byte.
TEST(MemoryCapacity, FootprintFromOneLayer_IsTheWholeProgramsFootprint) {
  const HwConfig hw = testing::round_number_chip();
  for (const Phase phase : {Phase::kDecode, Phase::kPrefill}) {
    const WorkloadSpec s = spec_of(phase, KvFormat::kInt8);
    const SramFit fit = workload_sram_fit(s, hw);
    ASSERT_TRUE(fit.fits);
    const ProgramFootprint built = program_footprint(build_workload(s, hw).program);
    EXPECT_EQ(fit.footprint.weight_bytes, built.weight_bytes);
    EXPECT_EQ(fit.footprint.kv_bytes, built.kv_bytes);
    EXPECT_EQ(fit.footprint.spill_bytes, built.spill_bytes);
    EXPECT_EQ(fit.footprint.other_bytes, built.other_bytes);
  }
}

// The check a chunked prefill makes on its last chunk (the most KV cache) before it simulates the
// first (sim/llm/llm_run.cpp): a capacity the first chunk fits in refuses the whole prompt.
TEST(MemoryCapacity, CheckOfTheWholePrompt_RefusesWhatOnlyTheFirstChunkFits) {
  HwConfig hw = testing::round_number_chip();
  WorkloadSpec s = spec_of(Phase::kPrefill);
  s.prompt = 48;
  hw.sram.capacity = Bytes{300u << 10};  // a few chunks
  WorkloadSpec first = s;
  first.prompt = 1;
  hw.memory.capacity = Bytes{build_workload(first, hw).footprint_bytes + 1};
  EXPECT_THROW(check_workload_memory(s, hw), SimulationError);
  EXPECT_NO_THROW(check_workload_memory(first, hw));
}

TEST(MemoryCapacity, ZeroMeansNotChecked) {
  HwConfig hw = testing::round_number_chip();
  hw.memory.capacity = Bytes{0};
  EXPECT_GT(build_workload(spec_of(Phase::kDecode), hw).footprint_bytes, 0u);
}

}  // namespace
}  // namespace lpusim
