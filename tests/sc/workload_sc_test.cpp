// LLM workloads on the SystemC chip: a tiny LLaMA's decode and prefill run to completion (every
// semaphore balanced), never faster than the bandwidth and MAC floors, the same every run.
#include <gtest/gtest.h>

#include <string>

#include "models/chip.h"
#include "sim/llm/workload.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

using testing::tiny_model;

WorkloadSpec tiny_spec(const std::string& format, Phase phase = Phase::kDecode,
                       KvFormat kv = KvFormat::kFp16) {
  WorkloadSpec s;
  s.model = tiny_model();
  s.format = parse_format(format);
  s.phase = phase;
  s.batch = 2;
  s.context = 256;
  s.prompt = 16;
  s.kv = kv;
  return s;
}

double seconds(const ChipRunResult& r) { return static_cast<double>(r.elapsed_fs) * 1e-15; }

double mac_floor_s(const Workload& w, const HwConfig& hw) {
  const double peak = static_cast<double>(hw.mxm.planes) * hw.mxm.rows * hw.mxm.cols;
  return static_cast<double>(w.macs) / peak / hw.clock.value;
}

double bandwidth_floor_s(const Workload& w, const HwConfig& hw) {
  return static_cast<double>(w.weight_bytes + w.kv_bytes) / hw.memory.bandwidth.value;
}

void expect_runs_above_floors(const WorkloadSpec& spec, const HwConfig& hw) {
  const Workload w = build_workload(spec, hw);
  const ChipRunResult r = testing::run_on_test_chip(w.program, hw);
  EXPECT_EQ(r.instructions, w.program.instruction_count());
  EXPECT_GE(seconds(r), bandwidth_floor_s(w, hw));
  EXPECT_GE(seconds(r), mac_floor_s(w, hw));
  EXPECT_GE(r.memory.bytes, w.weight_bytes + w.kv_bytes + w.kv_write_bytes);
}

TEST(WorkloadOnChip, TinyDecode_PerTokenTimeIsAtLeastBandwidthAndMacFloors) {
  const HwConfig hw = testing::round_number_chip();
  const WorkloadSpec spec = tiny_spec("int4");
  const Workload w = build_workload(spec, hw);
  const ChipRunResult r = testing::run_on_test_chip(w.program, hw);
  EXPECT_EQ(r.instructions, w.program.instruction_count());
  EXPECT_GE(seconds(r), bandwidth_floor_s(w, hw));
  EXPECT_GE(seconds(r), mac_floor_s(w, hw));
  // Every byte the workload accounts for crossed the channel: weights, KV reads and appends,
  // logits and tables.
  EXPECT_EQ(r.memory.bytes, w.weight_bytes + w.kv_bytes + w.kv_write_bytes + w.other_bytes);
}

TEST(WorkloadOnChip, TinyDecodeQ35AndInt8Kv_RunAboveFloors) {
  expect_runs_above_floors(tiny_spec("q3.5", Phase::kDecode, KvFormat::kInt8),
                           testing::round_number_chip());
}

TEST(WorkloadOnChip, TinyPrefill_RunsAboveFloors) {
  expect_runs_above_floors(tiny_spec("q3.5", Phase::kPrefill), testing::round_number_chip());
}

TEST(WorkloadOnChip, TinyPrefillInt8Kv_RunsAboveFloors) {
  expect_runs_above_floors(tiny_spec("int8", Phase::kPrefill, KvFormat::kInt8),
                           testing::round_number_chip());
}

TEST(WorkloadOnChip, TinyResidentDecode_RunsAboveMacFloor) {
  HwConfig hw = testing::round_number_chip();
  hw.weights = WeightPlacement::kResident;
  const Workload w = build_workload(tiny_spec("int4"), hw);
  const ChipRunResult r = testing::run_on_test_chip(w.program, hw);
  EXPECT_GE(seconds(r), mac_floor_s(w, hw));
  EXPECT_EQ(r.memory.bytes, w.weight_bytes + w.kv_bytes + w.kv_write_bytes + w.other_bytes);
}

// With resident weights the KV cache stays in SRAM while it fits: no KV byte crosses the channel.
// In the largest SRAM where it no longer fits, it goes off chip, and the step reads and appends
// exactly the KV bytes (and any spills) more over the channel, does the same MACs, and is no
// faster than with the cache on chip.
TEST(WorkloadOnChip, ResidentWeights_KeepTheKvCacheInSramWhileItFits) {
  HwConfig hw = testing::round_number_chip();
  hw.weights = WeightPlacement::kResident;
  WorkloadSpec spec = tiny_spec("int4");
  spec.context = 1024;
  const Workload on = build_workload(spec, hw);
  ASSERT_TRUE(on.kv_on_chip);
  EXPECT_EQ(on.kv_bytes, 0U);
  EXPECT_EQ(on.kv_write_bytes, 0U);
  std::uint64_t cache = 0;
  for (const RegionDecl& r : on.program.regions) cache += r.on_chip ? r.bytes : 0;
  // K and V of every layer, (sequence, KV head) pair and position, fp16.
  EXPECT_EQ(cache, 2ULL * 2 * spec.batch * 2 * (spec.context + 1) * 64 * 2);
  const ChipRunResult fast = testing::run_on_test_chip(on.program, hw);
  EXPECT_EQ(fast.memory.bytes, on.weight_bytes + on.other_bytes);

  // The largest SRAM (to 1 KiB) in which the cache does not stay on chip.
  std::uint64_t lo = 1024, hi = hw.sram.capacity.count;  // lo: off chip (or no fit), hi: on chip
  while (hi - lo > 1024) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    hw.sram.capacity = Bytes{mid};
    (workload_sram_fit(spec, hw).plan.kv_on_chip ? hi : lo) = mid;
  }
  hw.sram.capacity = Bytes{lo};
  ASSERT_TRUE(workload_sram_fit(spec, hw).fits) << "no off-chip plan fits below the on-chip one";
  const Workload off = build_workload(spec, hw);
  EXPECT_FALSE(off.kv_on_chip);
  EXPECT_GT(off.kv_bytes, 0U);
  EXPECT_EQ(off.macs, on.macs);
  EXPECT_EQ(off.weight_bytes, on.weight_bytes);
  const ChipRunResult slow = testing::run_on_test_chip(off.program, hw);
  EXPECT_EQ(slow.memory.bytes,
            fast.memory.bytes + off.kv_bytes + off.kv_write_bytes + off.spill_bytes);
  EXPECT_GE(slow.elapsed_fs, fast.elapsed_fs);
  EXPECT_GE(seconds(slow), bandwidth_floor_s(off, hw));
}

TEST(WorkloadOnChip, SameWorkloadTwice_SameCycles) {
  const HwConfig hw = testing::round_number_chip();
  const Workload w = build_workload(tiny_spec("q3.5"), hw);
  const ChipRunResult first = testing::run_on_test_chip(w.program, hw);
  const ChipRunResult second = testing::run_on_test_chip(w.program, hw);
  EXPECT_EQ(first.cycles, second.cycles);
  EXPECT_EQ(first.memory.bytes, second.memory.bytes);
}

TEST(WorkloadOnChip, LongerContext_TakesLongerThroughTheKvReads) {
  const HwConfig hw = testing::round_number_chip();
  WorkloadSpec spec = tiny_spec("int4");
  const ChipRunResult short_run = testing::run_on_test_chip(build_workload(spec, hw).program, hw);
  spec.context = 2048;
  const ChipRunResult long_run = testing::run_on_test_chip(build_workload(spec, hw).program, hw);
  EXPECT_GT(long_run.elapsed_fs, short_run.elapsed_fs);
}

// The smallest SRAM (to 1 KiB) in which `spec` fits, with the residual spilled if need be.
std::uint64_t smallest_fitting_sram(const WorkloadSpec& spec, HwConfig hw) {
  std::uint64_t lo = 1024, hi = hw.sram.capacity.count;  // lo does not fit, hi does
  while (hi - lo > 1024) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    hw.sram.capacity = Bytes{mid};
    (workload_sram_fit(spec, hw).fits ? hi : lo) = mid;
  }
  return hi;
}

// Spills appear exactly when SRAM is short, and move nothing but the spilled activations: the
// same weight, KV and logits traffic and MACs as with SRAM enough, 4 x layers x rows x hidden x 4
// bytes of spills (each layer stores the residual stream twice and loads it back twice), and a
// step that is no faster and obeys the floors.
TEST(WorkloadOnChip, ShortSram_SpillsTheResidualAndChangesNothingElse) {
  const HwConfig roomy = testing::round_number_chip();
  WorkloadSpec spec = tiny_spec("int4", Phase::kPrefill);
  spec.prompt = 64;
  const SramFit fit = workload_sram_fit(spec, roomy);
  ASSERT_TRUE(fit.fits);
  EXPECT_FALSE(fit.spill);
  HwConfig tight = roomy;
  tight.sram.capacity = Bytes{smallest_fitting_sram(spec, roomy)};
  ASSERT_TRUE(workload_sram_fit(spec, tight).spill) << "the smallest SRAM it fits in needs a spill";

  const Workload plain = build_workload(spec, roomy);
  const Workload spilled = build_workload(spec, tight);
  EXPECT_EQ(plain.spill_bytes, 0U);
  const std::uint64_t rows = spec.batch * spec.prompt;
  const auto hidden = static_cast<std::uint64_t>(spec.model.hidden);
  const auto layers = static_cast<std::uint64_t>(spec.model.layers);
  EXPECT_EQ(spilled.spill_bytes, 4 * layers * rows * hidden * 4);
  EXPECT_EQ(spilled.weight_bytes, plain.weight_bytes);
  EXPECT_EQ(spilled.kv_bytes, plain.kv_bytes);
  EXPECT_EQ(spilled.kv_write_bytes, plain.kv_write_bytes);
  EXPECT_EQ(spilled.other_bytes, plain.other_bytes);
  EXPECT_EQ(spilled.macs, plain.macs);
  EXPECT_LE(spilled.sram_bytes, tight.sram.capacity.count);
  EXPECT_LT(spilled.sram_bytes, plain.sram_bytes);

  const ChipRunResult fast = testing::run_on_test_chip(plain.program, roomy);
  const ChipRunResult slow = testing::run_on_test_chip(spilled.program, tight);
  EXPECT_GE(slow.elapsed_fs, fast.elapsed_fs);
  EXPECT_GE(seconds(slow), bandwidth_floor_s(spilled, tight));
  EXPECT_GE(seconds(slow), mac_floor_s(spilled, tight));
  EXPECT_EQ(slow.memory.bytes - fast.memory.bytes, spilled.spill_bytes);
}

// A decode whose logits do not fit whole slices its LM head over the vocabulary: the same weight,
// KV and logits traffic and MACs as with SRAM enough, in less SRAM, and no faster.
TEST(WorkloadOnChip, ShortSram_SlicesTheLmHeadAndChangesNothingElse) {
  const HwConfig roomy = testing::round_number_chip();
  WorkloadSpec spec = tiny_spec("int4");
  spec.batch = 64;
  spec.model.vocab = 32000;  // the logits, 64 x 32000 x 4 bytes, outweigh every other activation
  ASSERT_EQ(workload_sram_fit(spec, roomy).plan.logits_slice, 0U);
  HwConfig tight = roomy;
  tight.sram.capacity = Bytes{smallest_fitting_sram(spec, roomy)};
  const SramFit fit = workload_sram_fit(spec, tight);
  ASSERT_GT(fit.plan.logits_slice, 0U) << "the smallest SRAM it fits in needs a sliced head";

  const Workload plain = build_workload(spec, roomy);
  const Workload sliced = build_workload(spec, tight);
  EXPECT_EQ(sliced.weight_bytes, plain.weight_bytes);
  EXPECT_EQ(sliced.kv_bytes, plain.kv_bytes);
  EXPECT_EQ(sliced.other_bytes, plain.other_bytes);
  EXPECT_EQ(sliced.macs, plain.macs);
  // The smallest SRAM may need the residual spilled as well: its region is the only other one.
  const std::uint64_t spill_region = fit.plan.spill ? spec.batch * spec.model.hidden * 4 : 0;
  EXPECT_EQ(sliced.footprint_bytes, plain.footprint_bytes + spill_region);
  EXPECT_LT(sliced.sram_bytes, plain.sram_bytes);
  const ChipRunResult fast = testing::run_on_test_chip(plain.program, roomy);
  const ChipRunResult slow = testing::run_on_test_chip(sliced.program, tight);
  EXPECT_GE(slow.elapsed_fs, fast.elapsed_fs);
  EXPECT_GE(seconds(slow), bandwidth_floor_s(sliced, tight));
  EXPECT_EQ(slow.memory.bytes, fast.memory.bytes - plain.spill_bytes + sliced.spill_bytes);
}

// Planning SRAM by live ranges lets a step fit that the sum of its buffers would not: the
// activations of the attention, the MLP and the LM head never all hold values at once.
TEST(WorkloadOnChip, LiveRanges_NeedLessSramThanTheSumOfTheBuffers) {
  const Workload w =
      build_workload(tiny_spec("int4", Phase::kPrefill), testing::round_number_chip());
  std::uint64_t sum = 0;
  for (const BufferDecl& b : w.program.buffers) sum += b.bytes;
  EXPECT_LT(w.sram_bytes, sum);
  EXPECT_EQ(w.sram_bytes, w.program.sram_bytes());
}

}  // namespace
}  // namespace lpusim
