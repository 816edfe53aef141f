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

}  // namespace
}  // namespace lpusim
