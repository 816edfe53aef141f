// The SystemC chip at the edge of simulated time: a run whose time would pass 2^64 fs (about
// 18,446 s) is a SimulationError naming the queue and instruction, raised after sc_start returns
// (queues record it; nothing is thrown across SystemC's coroutines), and the chip runs again
// afterwards. A semaphore with the largest initial value costs no memory per unit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "kernels/error.h"
#include "models/chip.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

using testing::nop;
using testing::op;
using testing::sem_op;

TEST(ChipTimeLimit, RunPastTwoToThe64Femtoseconds_IsASimulationErrorAndTheChipRunsAgain) {
  HwConfig slow = testing::round_number_chip();
  slow.clock = Hertz{1e3};  // 1e12 fs per cycle: 2^32 - 1 cycles are about 4.3e21 fs
  Program p;
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kVxm) = {nop(std::numeric_limits<std::uint32_t>::max()),
                         sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kMxm) = {sem_op(Opcode::kWait, 0), nop(1)};  // blocked until the abort
  try {
    testing::run_on_test_chip(p, slow);
    FAIL() << "no error";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("simulated time exceeds the representable 18,446 s"));
    EXPECT_THAT(e.what(), HasSubstr("queue vxm instruction 0 (NOP)"));
  }

  Program ok;
  ok.queue(Unit::kVxm) = {nop(7)};
  const ChipRunResult r = testing::run_on_test_chip(ok, testing::round_number_chip());
  EXPECT_EQ(r.cycles, 7u);
}

TEST(ChipTimeLimit, OneKilohertzClock_CountsWholeCyclesExactly) {
  HwConfig slow = testing::round_number_chip();
  slow.clock = Hertz{1e3};
  Program p;
  p.queue(Unit::kVxm) = {nop(1000), nop(1000)};  // 2 s at 1 kHz
  const ChipRunResult r = testing::run_on_test_chip(p, slow);
  EXPECT_EQ(r.cycles, 2000u);
  EXPECT_EQ(r.elapsed_fs, 2'000'000'000'000'000ull);
}

TEST(ChipTimeLimit, LargestSemaphoreInitialValue_RunsWithoutOneEntryPerUnit) {
  Program p;
  p.semaphores = {{"s", std::numeric_limits<std::int32_t>::max()}};
  p.queue(Unit::kVxm) = {sem_op(Opcode::kWait, 0), sem_op(Opcode::kWait, 0), nop(3)};
  const ChipRunResult r = testing::run_on_test_chip(p, testing::round_number_chip());
  EXPECT_EQ(r.cycles, 5u);  // two WAITs of one issue cycle each, then the NOP
}

}  // namespace
}  // namespace lpusim
