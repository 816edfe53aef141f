// Each timing knob of the chip acts where the physics says it should, and nowhere else, on
// hand-written programs whose times are worked out by hand from the round-number chip (1 GHz,
// 100 GB/s, 64 B bursts, 100 ns latency, 2 x 64 x 64 MXM loading 1024 B of weights per cycle).
#include <gtest/gtest.h>

#include "models/chip.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

using testing::matmul;
using testing::op;
using testing::sem_op;

Instruction load(std::uint32_t bytes) {
  Instruction inst = op(Opcode::kLoad);
  inst.dst = View{0, 0, 1, bytes};
  inst.a = View{0, 0, 1, bytes};
  inst.bytes = bytes;
  inst.n0 = 1;
  return inst;
}

// The round-number chip with one knob changed: chip_with(&HwConfig::mxm, &MxmConfig::rows, 32).
template <typename Section, typename Field>
HwConfig chip_with(Section HwConfig::*section, Field Section::*field, Field value) {
  HwConfig hw = testing::round_number_chip();
  (hw.*section).*field = value;
  return hw;
}

Instruction vector_add(std::uint32_t elements) {
  Instruction inst = op(Opcode::kAdd);
  inst.type = ElemType::kI32;
  inst.n0 = 1;
  inst.n1 = elements;
  return inst;
}

TEST(HwKnobEffect, MxmLatency_AddsExactlyToASingleMatmulsFinish) {
  Program p;
  p.queue(Unit::kMxm) = {matmul(ElemType::kI8, 1, 64, 64)};
  // 64 x 64 int8 weights = 4096 B at 1024 B/cycle: busy 4 cycles; one pass of one row streams in
  // 1 cycle, hidden by the install. The results are usable mxm.latency cycles after that.
  for (const int latency : {0, 1, 128, 640, 5000}) {
    const ChipRunResult r = testing::run_on_test_chip(
        p, chip_with(&HwConfig::mxm, &MxmConfig::latency_cycles, latency));
    EXPECT_EQ(r.unit(Unit::kMxm).busy_fs, 4 * kCycle) << "mxm.latency " << latency;
    EXPECT_EQ(r.elapsed_fs, (4 + latency) * kCycle) << "mxm.latency " << latency;
  }
}

TEST(HwKnobEffect, MxmLatency_DelaysOnlyWorkThatWaitsForTheResults) {
  Program p;
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMxm) = {matmul(ElemType::kI8, 1, 64, 64), matmul(ElemType::kI8, 1, 64, 64),
                         sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0)};
  // Two installs back to back: the queue moves on at 4 and at 8 whatever the latency. The NOTIFY
  // is issued at 9 and lands when the second matmul's results do, 8 + latency; the WAIT takes it
  // one cycle later.
  for (const int latency : {0, 128, 640}) {
    const ChipRunResult r = testing::run_on_test_chip(
        p, chip_with(&HwConfig::mxm, &MxmConfig::latency_cycles, latency));
    EXPECT_EQ(r.unit(Unit::kMxm).busy_fs, 8 * kCycle) << "mxm.latency " << latency;
    const Femtoseconds lands = std::max<Femtoseconds>(9, 8 + latency) * kCycle;
    EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, lands + kCycle) << "mxm.latency " << latency;
  }
}

// Ten loads of 6400 B = 100 bursts of 64 B each (0.64 ns on the channel per burst) against
// bandwidth x latency = 100 B/ns x 100 ns = 10,000 B = 156.25 bursts. A burst holds an outstanding
// slot from its issue until its data lands, 100.64 ns after it starts if it starts at once, so
// burst i + o may start when burst i lands. The channel never idles when (o - 1) x 64 B >=
// 10,000 B (Little's law), i.e. from o = 158 on.
Program ten_loads() {
  Program p;
  p.buffers = {{"b", 6400}};
  p.regions = {{"r", 6400}};
  for (int i = 0; i < 10; ++i) p.queue(Unit::kMem).push_back(load(6400));
  return p;
}

constexpr Femtoseconds kBurst = 640'000;  // 64 B at 100 B/ns

TEST(HwKnobEffect, MemoryOutstanding_OneAtATime_PaysTheLatencyPerBurst) {
  // o = 1: each burst starts when the one before lands: every 100.64 ns; burst 999 lands at
  // 1000 x 100.64 ns.
  const ChipRunResult r = testing::run_on_test_chip(
      ten_loads(), chip_with(&HwConfig::memory, &MemoryConfig::outstanding, 1));
  EXPECT_EQ(r.elapsed_fs, 1000 * (100 * kCycle + kBurst));
  EXPECT_EQ(r.memory.busy_fs, 640 * kCycle);
}

TEST(HwKnobEffect, MemoryOutstanding_BelowBandwidthTimesLatency_BoundsTheChannel) {
  // o = 64: 64 bursts per 100.64 ns. Window w (bursts 64 w ..) starts at w x 100.64 ns, burst j
  // of it 0.64 ns apart; burst 999 is j = 39 of window 15: it starts at 15 x 100.64 + 39 x 0.64
  // = 1534.56 ns and lands 100.64 ns later, at 1635.2 ns.
  const ChipRunResult r = testing::run_on_test_chip(
      ten_loads(), chip_with(&HwConfig::memory, &MemoryConfig::outstanding, 64));
  EXPECT_EQ(r.elapsed_fs, 15 * (100 * kCycle + kBurst) + 40 * kBurst + 100 * kCycle);
  EXPECT_EQ(r.memory.busy_fs, 640 * kCycle);
  EXPECT_GT(r.memory.stall_fs, 0u);
}

TEST(HwKnobEffect, MemoryOutstanding_AboveBandwidthTimesLatency_ChangesNothing) {
  // o >= 158: the channel carries the loads back to back, [0, 640); the last lands at 740.
  for (const int outstanding : {158, 159, 256, 65536}) {
    const ChipRunResult r = testing::run_on_test_chip(
        ten_loads(), chip_with(&HwConfig::memory, &MemoryConfig::outstanding, outstanding));
    EXPECT_EQ(r.elapsed_fs, 740 * kCycle) << "memory.outstanding " << outstanding;
    EXPECT_EQ(r.memory.stall_fs, 0u) << "memory.outstanding " << outstanding;
  }
}

TEST(HwKnobEffect, IssuePerCycle_BoundsAQueueOfNotifiesAndWaits) {
  Program p;
  p.semaphores = {{"s", 0}};
  for (int i = 0; i < 100; ++i) {
    p.queue(Unit::kMem).push_back(sem_op(Opcode::kNotify, 0));
    p.queue(Unit::kVxm).push_back(sem_op(Opcode::kWait, 0));
  }
  // One issue slot is 1 / issue_per_cycle cycles. NOTIFY i (from 1) lands at i slots; WAIT i
  // takes it one slot later, at i + 1 slots: the VXM queue ends at 101 slots.
  for (const int per_cycle : {1, 2, 4}) {
    const ChipRunResult r = testing::run_on_test_chip(
        p, chip_with(&HwConfig::dispatch, &DispatchConfig::issue_per_cycle, per_cycle));
    const Femtoseconds slot = kCycle / per_cycle;
    EXPECT_EQ(r.unit(Unit::kMem).finish_fs, 100 * slot) << "issue_per_cycle " << per_cycle;
    EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, 101 * slot) << "issue_per_cycle " << per_cycle;
  }
}

TEST(HwKnobEffect, IssuePerCycle_DoesNotSpeedUpOpsThatHoldTheirUnitForWholeCycles) {
  Program p;
  // A VXM op over 64 elements on 16 lanes x 4 ALUs is one whole cycle of the unit; a matmul's
  // install is 4 cycles. Issuing faster cannot shorten either.
  for (int i = 0; i < 50; ++i) {
    p.queue(Unit::kVxm).push_back(vector_add(64));
  }
  p.queue(Unit::kMxm) = {matmul(ElemType::kI8, 1, 64, 64)};
  for (const int per_cycle : {1, 2, 4}) {
    const ChipRunResult r = testing::run_on_test_chip(
        p, chip_with(&HwConfig::dispatch, &DispatchConfig::issue_per_cycle, per_cycle));
    EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, 50 * kCycle) << "issue_per_cycle " << per_cycle;
    EXPECT_EQ(r.unit(Unit::kMxm).busy_fs, 4 * kCycle) << "issue_per_cycle " << per_cycle;
  }
}

}  // namespace
}  // namespace lpusim
