// Chunked prefill: the chunks cover the prompt in order, the SRAM probe is the SRAM of the whole
// program, the chosen chunk is the largest that fits, and the chunks' runs add up back to back.
#include "sim/llm/prefill_chunks.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/error.h"
#include "kernels/int_math.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

WorkloadSpec tiny_prefill(std::uint64_t prompt, std::uint64_t batch = 2) {
  WorkloadSpec s;
  s.model = testing::tiny_model();
  s.format = parse_format("int4");
  s.phase = Phase::kPrefill;
  s.batch = batch;
  s.prompt = prompt;
  return s;
}

HwConfig chip_with_sram(std::uint64_t bytes) {
  HwConfig hw = testing::round_number_chip();
  hw.sram.capacity = Bytes{bytes};
  return hw;
}

TEST(PrefillChunks, ChunksCoverThePromptInOrderWithAShorterLastChunk) {
  const std::vector<PrefillChunk> chunks = prefill_chunks(10, 4);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].past, 0u);
  EXPECT_EQ(chunks[0].tokens, 4u);
  EXPECT_EQ(chunks[1].past, 4u);
  EXPECT_EQ(chunks[1].tokens, 4u);
  EXPECT_EQ(chunks[2].past, 8u);
  EXPECT_EQ(chunks[2].tokens, 2u);
  EXPECT_EQ(prefill_chunks(8, 8).size(), 1u);
  EXPECT_THROW(prefill_chunks(8, 0), InputError);
}

TEST(PrefillChunks, ChunkSpecCarriesItsPastAndTheHeadOnlyInTheLastChunk) {
  const WorkloadSpec whole = tiny_prefill(10);
  const WorkloadSpec first = chunk_spec(whole, {0, 4}, false);
  EXPECT_EQ(first.prompt, 4u);
  EXPECT_EQ(first.prefill_past, 0u);
  EXPECT_FALSE(first.final_chunk);
  const WorkloadSpec last = chunk_spec(whole, {8, 2}, true);
  EXPECT_EQ(last.prompt, 2u);
  EXPECT_EQ(last.prefill_past, 8u);
  EXPECT_TRUE(last.final_chunk);
}

TEST(PrefillChunks, OnlyTheLastChunkComputesLogits) {
  const HwConfig hw = testing::round_number_chip();
  const WorkloadSpec whole = tiny_prefill(8);
  const Workload middle = build_workload(chunk_spec(whole, {0, 4}, false), hw);
  const Workload last = build_workload(chunk_spec(whole, {4, 4}, true), hw);
  auto has_lm_head = [](const Program& p) {
    for (const std::string& tag : p.tags) {
      if (layer_kind_of_tag(tag) == "lm_head") return true;
    }
    return false;
  };
  EXPECT_FALSE(has_lm_head(middle.program));
  EXPECT_TRUE(has_lm_head(last.program));
  // A later chunk reads the earlier chunks' keys and values from the KV cache.
  EXPECT_EQ(build_workload(chunk_spec(whole, {0, 4}, true), hw).kv_bytes, 0u);
  EXPECT_GT(last.kv_bytes, 0u);
}

TEST(PrefillChunks, SramProbeEqualsTheSramOfTheWholeProgram) {
  for (const WeightPlacement placement : {WeightPlacement::kStreamed, WeightPlacement::kResident}) {
    HwConfig hw = testing::round_number_chip();
    hw.weights = placement;
    for (const WorkloadSpec& s : {tiny_prefill(16), chunk_spec(tiny_prefill(16), {8, 8}, false),
                                  chunk_spec(tiny_prefill(16), {12, 4}, true)}) {
      const SramFit fit = workload_sram_fit(s, hw);
      ASSERT_TRUE(fit.fits) << fit.reason;
      EXPECT_EQ(fit.sram_bytes, build_workload(s, hw).program.sram_bytes());
    }
  }
}

TEST(PrefillChunks, SramProbeReportsTheShortfallInsteadOfThrowing) {
  const WorkloadSpec s = tiny_prefill(48);
  const HwConfig hw = chip_with_sram(300 << 10);
  const SramFit fit = workload_sram_fit(s, hw);
  EXPECT_FALSE(fit.fits);
  EXPECT_NE(fit.reason.find("does not fit in SRAM"), std::string::npos) << fit.reason;
  try {
    build_workload(s, hw);
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    EXPECT_EQ(fit.reason, e.what());
  }
}

TEST(PrefillChunks, WholePromptIsOneChunkWhenItFits) {
  EXPECT_EQ(choose_chunk_tokens(tiny_prefill(48), testing::round_number_chip()), 48u);
}

bool all_chunks_fit(const WorkloadSpec& s, const HwConfig& hw, std::uint64_t chunk_tokens) {
  const std::vector<PrefillChunk> chunks = prefill_chunks(s.prompt, chunk_tokens);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (!workload_sram_fit(chunk_spec(s, chunks[i], i + 1 == chunks.size()), hw).fits) {
      return false;
    }
  }
  return true;
}

// The prompt spread evenly over the fewest chunks that fit: every chunk of C builds, C is an even
// split, and one chunk fewer (evenly split) does not fit.
TEST(PrefillChunks, ChosenChunkIsTheFewestEvenChunksThatAllFit) {
  const WorkloadSpec s = tiny_prefill(48);
  for (const std::uint64_t kib : {195u, 303u, 500u, 737u}) {
    SCOPED_TRACE(std::to_string(kib) + " KiB");
    const HwConfig hw = chip_with_sram(kib << 10);
    const std::uint64_t c = choose_chunk_tokens(s, hw);
    const std::vector<PrefillChunk> chunks = prefill_chunks(48, c);
    const std::uint64_t n = chunks.size();
    ASSERT_GT(n, 1u);
    EXPECT_EQ(c, ceil_div(48, n));
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      EXPECT_NO_THROW(build_workload(chunk_spec(s, chunks[i], i + 1 == n), hw));
    }
    EXPECT_FALSE(all_chunks_fit(s, hw, ceil_div(48, n - 1)));
    EXPECT_EQ(choose_chunk_tokens(s, hw), c);  // deterministic
  }
}

TEST(PrefillChunks, OneTokenNotFittingIsAnSramErrorSayingNeededAndAvailable) {
  const HwConfig hw = chip_with_sram(64 << 10);
  try {
    choose_chunk_tokens(tiny_prefill(64), hw);
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("even one prompt token per sequence"), std::string::npos) << what;
    EXPECT_NE(what.find("needs"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(64 << 10)), std::string::npos) << what;
  }
}

ChipRunResult run_of(Femtoseconds elapsed, Femtoseconds busy_from, Femtoseconds busy_to) {
  ChipRunResult r;
  r.elapsed_fs = elapsed;
  r.cycles = static_cast<std::uint64_t>(elapsed);
  r.instructions = 3;
  UnitStats& vxm = r.units[static_cast<int>(Unit::kVxm)];
  vxm.instructions = 3;
  vxm.busy_fs = busy_to - busy_from;
  vxm.wait_fs = 1;
  vxm.finish_fs = busy_to;
  vxm.alu_ops = 10;
  vxm.busy.add(busy_from, busy_to);
  r.memory.transfers = 2;
  r.memory.bytes = 100;
  r.memory.burst_bytes = 128;
  r.memory.busy_fs = 5;
  r.memory_in_flight_fs = 6;
  r.bandwidth_bound_fs = 4;
  return r;
}

TEST(PrefillChunks, RunSumOfOneChunkIsThatRun) {
  const ChipRunResult one = run_of(100, 10, 90);
  ChipRunSum sum;
  sum.add(one);
  const ChipRunResult& t = sum.total();
  EXPECT_EQ(t.elapsed_fs, one.elapsed_fs);
  EXPECT_EQ(t.cycles, one.cycles);
  EXPECT_EQ(t.unit(Unit::kVxm).busy_fs, one.unit(Unit::kVxm).busy_fs);
  EXPECT_EQ(t.unit(Unit::kVxm).finish_fs, one.unit(Unit::kVxm).finish_fs);
  ASSERT_EQ(t.unit(Unit::kVxm).busy.intervals().size(), 1u);
  EXPECT_EQ(t.unit(Unit::kVxm).busy.intervals()[0].start, 10);
  EXPECT_EQ(t.bandwidth_bound_fs, one.bandwidth_bound_fs);
}

TEST(PrefillChunks, RunSumAddsCountsAndOffsetsLaterChunksByTheEarlierTime) {
  ChipRunSum sum;
  sum.add(run_of(100, 10, 90));
  sum.add(run_of(50, 0, 40));
  const ChipRunResult& t = sum.total();
  EXPECT_EQ(t.elapsed_fs, 150);
  EXPECT_EQ(t.cycles, 150u);
  EXPECT_EQ(t.instructions, 6u);
  const UnitStats& vxm = t.unit(Unit::kVxm);
  EXPECT_EQ(vxm.instructions, 6u);
  EXPECT_EQ(vxm.busy_fs, 120);
  EXPECT_EQ(vxm.wait_fs, 2);
  EXPECT_EQ(vxm.alu_ops, 20u);
  EXPECT_EQ(vxm.finish_fs, 140);
  ASSERT_EQ(vxm.busy.intervals().size(), 2u);
  EXPECT_EQ(vxm.busy.intervals()[1].start, 100);
  EXPECT_EQ(vxm.busy.intervals()[1].end, 140);
  EXPECT_EQ(vxm.busy.total(), vxm.busy_fs);
  // A unit idle in a chunk keeps the finish time of its last busy chunk.
  EXPECT_EQ(t.unit(Unit::kMxm).finish_fs, 0);
  EXPECT_EQ(t.memory.transfers, 4u);
  EXPECT_EQ(t.memory.bytes, 200u);
  EXPECT_EQ(t.memory.burst_bytes, 256u);
  EXPECT_EQ(t.memory.busy_fs, 10);
  EXPECT_EQ(t.memory_in_flight_fs, 12);
  EXPECT_EQ(t.bandwidth_bound_fs, 8);
}

TEST(PrefillChunks, StepWorkAddsEveryField) {
  StepWork total;
  total.tokens = 0;
  add_step_work(total, StepWork{10, 20, 30, 4, 5});
  add_step_work(total, StepWork{1, 2, 3, 4, 6});
  EXPECT_EQ(total.weight_bytes, 11u);
  EXPECT_EQ(total.kv_bytes, 22u);
  EXPECT_EQ(total.macs, 33u);
  EXPECT_EQ(total.tokens, 8u);
  EXPECT_EQ(total.f16_macs, 11u);
}

}  // namespace
}  // namespace lpusim
