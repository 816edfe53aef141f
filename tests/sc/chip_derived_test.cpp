// The chip's run statistics on hand-written programs, each expected value worked out by hand in a
// comment from the round-number chip (1 GHz, 100 GB/s, 64 B bursts, 100 ns latency, 2 x 64 x 64
// MXM loading 1024 B of weights per cycle): busy, wait and finish times, channel busy time and
// bytes, the bandwidth-bound time, and the MACs, ALU ops and SRAM bytes behind the energy.
#include <gtest/gtest.h>

#include "models/chip.h"
#include "sim/llm/step_metrics.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

using testing::nop;
using testing::op;
using testing::sem_op;
Instruction load(std::uint32_t bytes, std::uint32_t rows = 1) {
  Instruction inst = op(Opcode::kLoad);
  inst.dst = View{0, 0, 1, static_cast<std::int64_t>(bytes) * rows};
  inst.a = View{0, 0, 1, static_cast<std::int64_t>(bytes) * rows};
  inst.bytes = bytes;
  inst.n0 = rows;
  return inst;
}
Instruction matmul(std::uint32_t m, std::uint32_t k, std::uint32_t n) {
  Instruction inst = op(Opcode::kMatmul);
  inst.type = ElemType::kI8;
  inst.m = m;
  inst.k = k;
  inst.n = n;
  return inst;
}

Program with_memory(std::uint64_t bytes) {
  Program p;
  p.buffers = {{"b", bytes}};
  p.regions = {{"r", bytes}};
  return p;
}

TEST(ChipDerived, BandwidthBound_ExcludesTimeEitherComputeUnitWasBusy) {
  Program p = with_memory(6400);
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMem) = {load(6400)};
  p.queue(Unit::kMxm) = {nop(50), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), nop(20)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // The load is in flight [0, 164): 64 ns on the channel, then 100 ns latency. MXM is busy
  // [0, 50), its NOTIFY lands at 51, VXM resumes at 52 and is busy [52, 72). Bound by memory
  // alone: [50, 52) and [72, 164) = 2 + 92 = 94 ns.
  EXPECT_EQ(r.bandwidth_bound_fs, 94 * kCycle);
  EXPECT_EQ(r.memory.busy_fs, 64 * kCycle);
  EXPECT_EQ(r.unit(Unit::kMxm).busy_fs, 50 * kCycle);
  EXPECT_EQ(r.unit(Unit::kVxm).busy_fs, 20 * kCycle);
  EXPECT_EQ(r.unit(Unit::kVxm).wait_fs, 51 * kCycle);  // cycles 0..51 blocked in WAIT
  EXPECT_EQ(r.elapsed_fs, 164 * kCycle);               // the mem queue ends when its data lands
}

TEST(ChipDerived, Matmul_BusyForItsInstall_FinishesAfterThePipelineLatency) {
  Program p;
  p.queue(Unit::kMxm) = {matmul(1, 64, 64)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // 64 x 64 int8 weights = 4096 B at 1024 B/cycle: 4 cycles busy; one pass of m = 1 row streams
  // in 1 cycle; results 64 + 64 = 128 cycles of pipeline later: finished at 132.
  EXPECT_EQ(r.unit(Unit::kMxm).busy_fs, 4 * kCycle);
  EXPECT_EQ(r.unit(Unit::kMxm).finish_fs, 132 * kCycle);
  EXPECT_EQ(r.cycles, 132u);
  EXPECT_EQ(r.unit(Unit::kMxm).macs, 64u * 64u);
  // SRAM: 4096 B of weights, 64 B of activations, 64 int32 outputs = 256 B.
  EXPECT_EQ(r.unit(Unit::kMxm).sram_bytes, 4096u + 64u + 256u);
}

TEST(ChipDerived, LoadOfManyRows_RoundsEachRowToBursts) {
  Program p = with_memory(100 * 10);
  p.queue(Unit::kMem) = {load(100, 10)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // 10 rows of 100 B: each rounds up to 2 bursts of 64 B = 128 B; 1280 B at 100 B/ns = 12.8 ns.
  EXPECT_EQ(r.memory.bytes, 1000u);
  EXPECT_EQ(r.memory.burst_bytes, 1280u);
  EXPECT_EQ(r.memory.busy_fs, 12'800'000u);
  EXPECT_EQ(r.memory.transfers, 1u);
}

TEST(ChipDerived, BackToBackLoads_ShareTheChannelOneAfterTheOther) {
  Program p = with_memory(6400);
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMem) = {load(6400), load(6400), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // Issued at 0 and 1; the channel carries the first [0, 64) and the second [64, 128), which
  // lands at 228; the NOTIFY lands then and VXM resumes at 229.
  EXPECT_EQ(r.memory.busy_fs, 128 * kCycle);
  EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, 229 * kCycle);
  EXPECT_EQ(r.bandwidth_bound_fs, 228 * kCycle);
}

TEST(ChipDerived, OutstandingLimit_StallsTheFifthLoadUntilTheFirstLands) {
  Program p = with_memory(64);
  for (int i = 0; i < 5; ++i) p.queue(Unit::kMem).push_back(load(64));
  HwConfig hw = testing::round_number_chip();
  hw.memory.outstanding = 4;  // bursts; each load is one
  const ChipRunResult r = testing::run_on_test_chip(p, hw);
  // 4 outstanding. 64 B = 0.64 ns each: loads 1..4 issue at 0..3 ns and land at 100.64,
  // 101.64, ...; the fifth waits from 4 ns until 100.64 ns, then issues, lands 100 ns later.
  const Femtoseconds first_lands = 100 * kCycle + 640'000;
  EXPECT_EQ(r.unit(Unit::kMem).wait_fs, first_lands - 4 * kCycle);
  EXPECT_EQ(r.memory.stall_fs, first_lands - 4 * kCycle);
  EXPECT_EQ(r.elapsed_fs, first_lands + 640'000 + 100 * kCycle);
}

TEST(ChipDerived, StepMetricsOfAHandRun_FollowFromTheRun) {
  Program p = with_memory(6400);
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMem) = {load(6400)};
  p.queue(Unit::kMxm) = {nop(50), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), nop(20)};
  const HwConfig hw = testing::round_number_chip();
  StepWork work;
  work.weight_bytes = 6400;
  const StepMetrics m = compute_step_metrics(testing::run_on_test_chip(p, hw), hw, work);
  // 164 ns step; channel 64 ns, MXM 50 ns, VXM 20 ns, mem queue 1 ns, dispatch 2 issues = 2 ns.
  EXPECT_DOUBLE_EQ(m.seconds, 164e-9);
  EXPECT_DOUBLE_EQ(m.bandwidth_floor_s, 64e-9);
  EXPECT_DOUBLE_EQ(m.units[0].utilization, 64.0 / 164);  // memory
  EXPECT_DOUBLE_EQ(m.units[1].utilization, 1.0 / 164);   // mem
  EXPECT_DOUBLE_EQ(m.units[2].utilization, 20.0 / 164);  // vxm
  EXPECT_DOUBLE_EQ(m.units[3].utilization, 50.0 / 164);  // mxm
  EXPECT_DOUBLE_EQ(m.units[4].utilization, 2.0 / 164);   // dispatch
  // The channel, the busiest, carries data for 64 of 164 ns, under 80%: the step waits on the
  // load's 100 ns latency. The load is in flight throughout, so no time is latency_s.
  EXPECT_EQ(m.bound, "latency");
  EXPECT_DOUBLE_EQ(m.bandwidth_bound_s, 94e-9);
  EXPECT_DOUBLE_EQ(m.latency_s, 0);
}

}  // namespace
}  // namespace lpusim
