// Simulated time: arithmetic saturates at 2^64 - 1 fs instead of wrapping, checked arithmetic
// raises a SimulationError (exit 3) naming what overflowed, and the clock refuses periods that
// 64-bit femtoseconds cannot hold.
#include "models/sim_time.h"

#include <gtest/gtest.h>

#include <string>

#include "models/memory_channel_core.h"

namespace lpusim {
namespace {

TEST(SimTime, AddSaturated_IsExactBelowTheLimitAndSaturatesAtIt) {
  EXPECT_EQ(add_saturated(2, 3), 5u);
  EXPECT_EQ(add_saturated(kMaxFemtoseconds - 1, 0), kMaxFemtoseconds - 1);
  EXPECT_EQ(add_saturated(kMaxFemtoseconds - 1, 1), kMaxFemtoseconds);
  EXPECT_EQ(add_saturated(kMaxFemtoseconds - 1, 2), kMaxFemtoseconds);
  EXPECT_EQ(add_saturated(kMaxFemtoseconds, kMaxFemtoseconds), kMaxFemtoseconds);
}

TEST(SimTime, MulSaturated_IsExactBelowTheLimitAndSaturatesAtIt) {
  EXPECT_EQ(mul_saturated(0, kMaxFemtoseconds), 0u);
  EXPECT_EQ(mul_saturated(1ull << 32, (1ull << 32) - 1), (1ull << 32) * ((1ull << 32) - 1));
  EXPECT_EQ(mul_saturated(1ull << 32, 1ull << 32), kMaxFemtoseconds);
  EXPECT_EQ(mul_saturated(3, kMaxFemtoseconds / 3 + 1), kMaxFemtoseconds);
}

TEST(SimTime, CheckedArithmetic_OverflowIsASimulationErrorNamingWhat) {
  EXPECT_EQ(add_checked(1, 2, "x"), 3u);
  try {
    add_checked(kMaxFemtoseconds - 5, 10, "the memory transfer");
    FAIL() << "no error";
  } catch (const SimulationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("exceeds the representable 18,446 s"), std::string::npos) << message;
    EXPECT_NE(message.find("the memory transfer"), std::string::npos) << message;
  }
  EXPECT_THROW(mul_checked(1ull << 40, 1ull << 30, "cycles"), SimulationError);
}

TEST(SimTime, SecondsToFs_SaturatesAboveTheLimitAndNeverWraps) {
  EXPECT_EQ(seconds_to_fs(1e-9), 1'000'000u);
  EXPECT_EQ(seconds_to_fs(18000.0), 18'000'000'000'000'000'000ull);
  EXPECT_EQ(seconds_to_fs(18447.0), kMaxFemtoseconds);
  EXPECT_EQ(seconds_to_fs(1e300), kMaxFemtoseconds);
  EXPECT_EQ(seconds_to_fs(-1.0), 0u);
}

TEST(SimTime, CeilToCountSaturated_RoundsUpAndSaturates) {
  EXPECT_EQ(ceil_to_count_saturated(2.1), 3u);
  EXPECT_EQ(ceil_to_count_saturated(0.0), 0u);
  EXPECT_EQ(ceil_to_count_saturated(1e30), kMaxFemtoseconds);
  EXPECT_EQ(ceil_to_count_saturated(std::nan("")), kMaxFemtoseconds);
}

TEST(Clock, PeriodBelowOneFemtosecond_IsRefusedNotADivisionByZero) {
  EXPECT_THROW(Clock(Hertz{3e15}), SimulationError);
  EXPECT_THROW(Clock(Hertz{0}), SimulationError);
  EXPECT_THROW(Clock(Hertz{1e-5}), SimulationError);  // period above 18,446 s
  EXPECT_EQ(Clock(Hertz{1e15}).period_fs(), 1u);
}

TEST(Clock, SlowClock_CountsCyclesWithoutWrapping) {
  const Clock clock(Hertz{1.0});  // 1e15 fs per cycle
  EXPECT_EQ(clock.fs_to_cycles_ceil(kMaxFemtoseconds - 1), 18447u);
  EXPECT_EQ(clock.fs_to_cycles_ceil(1), 1u);
  EXPECT_EQ(clock.fs_to_cycles_ceil(0), 0u);
  EXPECT_EQ(clock.cycles_to_fs(18447), kMaxFemtoseconds);
  EXPECT_EQ(clock.cycles_to_fs(18446), 18446ull * 1'000'000'000'000'000ull);
}

TEST(MemoryChannelCore, TransferOutlastingTheTimeLimit_SaturatesInsteadOfWrapping) {
  MemoryConfig config;
  config.bandwidth = BytesPerSecond{2e6};  // 2 MB/s
  config.latency = Seconds{1e-7};
  config.burst = Bytes{64};
  config.outstanding = 4;
  MemoryChannelCore core(config);
  const TransferTiming first = core.schedule(0, 36'000'000'000ull, 1);  // 18,000 s
  EXPECT_EQ(first.last_byte, 18'000'000'000'000'000'000ull);
  const TransferTiming second = core.schedule(0, 1'000'000'000ull, 1);  // 500 s more
  EXPECT_EQ(second.last_byte, kMaxFemtoseconds);
  EXPECT_EQ(second.complete, kMaxFemtoseconds);
  EXPECT_GE(second.last_byte, first.last_byte);
}

}  // namespace
}  // namespace lpusim
