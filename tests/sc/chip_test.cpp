// The SystemC chip running hand-written programs: semaphore timing, memory fences, deadlock
// reports, repeated runs in one elaboration, and functional data movement.
#include "models/chip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/error.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

using testing::nop;
using testing::op;
using testing::sem_op;
Instruction load(std::uint32_t buffer, std::uint32_t region, std::uint64_t bytes) {
  Instruction inst = op(Opcode::kLoad);
  inst.dst = View{buffer, 0, 1, static_cast<std::int64_t>(bytes)};
  inst.a = View{region, 0, 1, static_cast<std::int64_t>(bytes)};
  inst.bytes = bytes;
  return inst;
}

TEST(Chip, WaitReleasedByNotify_ResumesOnTheNextCycle) {
  Program p;
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kVxm) = {nop(10), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kMxm) = {sem_op(Opcode::kWait, 0), nop(1)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // NOTIFY issues in cycle 10 and lands at 11; the WAIT resumes at 12; NOP ends at 13.
  EXPECT_EQ(r.unit(Unit::kMxm).finish_fs, 13 * kCycle);
  EXPECT_EQ(r.unit(Unit::kMxm).wait_fs, 11 * kCycle);
  EXPECT_EQ(r.cycles, 13u);
}

TEST(Chip, WaitOnAlreadyPositiveSemaphore_CostsOnlyItsIssueCycle) {
  Program p;
  p.semaphores = {{"s", 1}};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), nop(5)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, 6 * kCycle);
  EXPECT_EQ(r.unit(Unit::kVxm).wait_fs, 0u);
}

TEST(Chip, NotifyOnMemQueue_LandsWhenEarlierLoadsHaveCompleted) {
  Program p;
  p.buffers = {{"b", 6400}};
  p.regions = {{"r", 6400}};
  p.semaphores = {{"full", 0}};
  p.queue(Unit::kMem) = {load(0, 0, 6400), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  // 6400 B at 100 B/ns = 64 ns on the channel, usable 100 ns later: lands at 164, resumes 165.
  EXPECT_EQ(r.unit(Unit::kVxm).finish_fs, 165 * kCycle);
  EXPECT_EQ(r.memory.busy_fs, 64 * kCycle);
  // Nothing computed while the data was in flight: all 164 ns were bound by memory.
  EXPECT_EQ(r.bandwidth_bound_fs, 164 * kCycle);
}

TEST(Chip, LoadsAreAsynchronous_TheMemQueueIssuesOnePerCycle) {
  Program p;
  p.buffers = {{"b", 64}};
  p.regions = {{"r", 64}};
  p.queue(Unit::kMem) = {load(0, 0, 64), load(0, 0, 64), load(0, 0, 64)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  EXPECT_EQ(r.unit(Unit::kMem).busy_fs, 3 * kCycle);
  EXPECT_EQ(r.memory.transfers, 3u);
}

TEST(Chip, WaitWithNoNotifyLeft_IsReportedAsDeadlockNamingQueueAndSemaphore) {
  Program p;
  p.semaphores = {{"never", 0}, {"ok", 0}};
  p.queue(Unit::kVxm) = {nop(3), sem_op(Opcode::kWait, 0)};
  p.queue(Unit::kMxm) = {sem_op(Opcode::kNotify, 1)};
  try {
    testing::run_on_test_chip(p, testing::round_number_chip());
    FAIL() << "expected a deadlock";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("deadlock"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("queue vxm waits at instruction 1"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'never'"));
    EXPECT_THAT(e.what(), ::testing::Not(::testing::HasSubstr("queue mxm")));
  }
  // The elaboration survives: the next run works.
  Program q;
  q.queue(Unit::kVxm) = {nop(2)};
  EXPECT_EQ(testing::run_on_test_chip(q, testing::round_number_chip()).cycles, 2u);
}

TEST(Chip, SameProgramTwice_GivesIdenticalResults) {
  Program p;
  p.buffers = {{"b", 4096}};
  p.regions = {{"r", 4096}};
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMem) = {load(0, 0, 4096), sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), nop(7)};
  const ChipRunResult a = testing::run_on_test_chip(p, testing::round_number_chip());
  const ChipRunResult b = testing::run_on_test_chip(p, testing::round_number_chip());
  EXPECT_EQ(a.elapsed_fs, b.elapsed_fs);
  EXPECT_EQ(a.bandwidth_bound_fs, b.bandwidth_bound_fs);
  EXPECT_EQ(a.unit(Unit::kVxm).wait_fs, b.unit(Unit::kVxm).wait_fs);
}

TEST(Chip, ProgramLargerThanSram_IsASimulationErrorNamingSizes) {
  Program p;
  p.buffers = {{"huge", 65ull << 20}};
  try {
    testing::run_on_test_chip(p, testing::round_number_chip());
    FAIL() << "expected an SRAM capacity error";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(std::to_string(65ull << 20)));
    EXPECT_THAT(e.what(), ::testing::HasSubstr(std::to_string(64ull << 20)));
  }
}

TEST(ChipFunctional, LoadShiftStore_MovesRealBytes) {
  Program p;
  p.buffers = {{"in", 8}, {"out", 8}};
  p.regions = {{"src", 8}, {"dst", 8}};
  p.semaphores = {{"loaded", 0}, {"done", 0}};
  Instruction sar = op(Opcode::kSar);
  sar.type = ElemType::kI8;
  sar.dst = View{1, 0, 1, 8};
  sar.a = View{0, 0, 1, 8};
  sar.b_is_imm = true;
  sar.imm = 4;
  sar.n1 = 8;
  Instruction store = op(Opcode::kStore);
  store.dst = View{1, 0, 1, 8};
  store.a = View{1, 0, 1, 8};
  store.bytes = 8;
  p.queue(Unit::kMem) = {load(0, 0, 8), sem_op(Opcode::kNotify, 0), sem_op(Opcode::kWait, 1),
                         store};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), sar, sem_op(Opcode::kNotify, 1)};

  FunctionalState state(p);
  const std::uint8_t input[8] = {0x70, 0x80, 0xF0, 0x10, 0x00, 0xFF, 0x7F, 0x8F};
  std::memcpy(state.region(0).data(), input, 8);
  SimRunOptions options;
  options.functional = &state;
  testing::run_on_test_chip(p, testing::round_number_chip(), options);
  const std::vector<std::uint8_t> expected = {0x07, 0xF8, 0xFF, 0x01, 0x00, 0xFF, 0x07, 0xF8};
  EXPECT_EQ(state.region(1), expected);
}

}  // namespace
}  // namespace lpusim
