// The dispatch semaphores alone: a WAIT on a positive semaphore resumes one cycle after the later
// of itself and the increment; a WAIT before the increment lands blocks until it lands; an abort
// releases a waiter with nothing.
#include "models/dispatch.h"

#include <gtest/gtest.h>

#include "tests/sc/module_harness.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

struct Harness {
  Harness() : dispatch((testing::set_up_kernel(), "dispatch")), threads("threads") {
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  Dispatch dispatch;
  testing::DriverThreads threads;
};

Harness& harness() {
  static Harness h;
  return h;
}

TEST(Dispatch, WaitOnPositiveSemaphore_ResumesACycleAfterItsOwnTimeWithoutBlocking) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.dispatch.reset({{"s", 1}}, start, kCycle);
  std::optional<Femtoseconds> resume;
  const Femtoseconds end = h.threads.run([&] { resume = h.dispatch.take(0, start + 5 * kCycle); });
  // The initial increment landed at the start: the WAIT at cycle 5 takes it and resumes at 6,
  // without the kernel's time moving.
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(*resume, start + 6 * kCycle);
  EXPECT_EQ(end, start);
  EXPECT_EQ(h.dispatch.value_now(0), 0u);
}

TEST(Dispatch, WaitBeforeTheIncrementLands_BlocksUntilItLandsThenResumesACycleLater) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.dispatch.reset({{"s", 0}}, start, kCycle);
  std::optional<Femtoseconds> resume;
  Femtoseconds taken_at = 0;
  const Femtoseconds end = h.threads.run(
      [&] {
        resume = h.dispatch.take(0, start + 2 * kCycle);
        taken_at = now_fs();
      },
      [&] { h.dispatch.post(0, start + 7 * kCycle); });
  // Waiting from cycle 2; the NOTIFY's increment lands at 7, so the WAIT takes it at 7 and the
  // queue resumes at 8.
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(*resume, start + 8 * kCycle);
  EXPECT_EQ(taken_at, start + 7 * kCycle);
  EXPECT_EQ(end, start + 7 * kCycle);
}

TEST(Dispatch, IncrementLandedBeforeTheWait_CountsInTheValueUntilTaken) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.dispatch.reset({{"s", 0}}, start, kCycle);
  h.threads.run([&] { h.dispatch.post(0, start + 3 * kCycle); });
  // The kernel stopped at cycle 3, when the increment landed.
  EXPECT_EQ(now_fs(), start + 3 * kCycle);
  EXPECT_EQ(h.dispatch.value_now(0), 1u);
  std::optional<Femtoseconds> resume;
  h.threads.run([&] { resume = h.dispatch.take(0, start + 10 * kCycle); });
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(*resume, start + 11 * kCycle);
  EXPECT_EQ(h.dispatch.value_now(0), 0u);
}

TEST(Dispatch, AbortWhileAWaiterIsBlocked_ReleasesItWithNothing) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.dispatch.reset({{"never", 0}}, start, kCycle);
  std::optional<Femtoseconds> resume = start;
  bool returned = false;
  h.threads.run([&] {
    resume = h.dispatch.take(0, start);
    returned = true;
  });
  EXPECT_FALSE(returned);  // blocked: no NOTIFY will ever come
  h.dispatch.abort();
  sc_core::sc_start();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(resume.has_value());
}

}  // namespace
}  // namespace lpusim
