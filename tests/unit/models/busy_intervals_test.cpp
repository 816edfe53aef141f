// Interval bookkeeping behind bandwidth_bound_s.
#include "models/busy_intervals.h"

#include <gtest/gtest.h>

namespace lpusim {
namespace {

TEST(BusyIntervals, TouchingIntervals_Merge) {
  BusyIntervals b;
  b.add(0, 10);
  b.add(10, 20);
  b.add(25, 30);
  ASSERT_EQ(b.intervals().size(), 2u);
  EXPECT_EQ(b.total(), 25u);
}

TEST(BusyIntervals, EmptyInterval_IsIgnored) {
  BusyIntervals b;
  b.add(5, 5);
  EXPECT_TRUE(b.intervals().empty());
}

TEST(UncoveredTime, CountsOnlyTimeNoExcludedIntervalCovers) {
  BusyIntervals memory, vxm, mxm;
  memory.add(0, 100);
  vxm.add(10, 20);
  mxm.add(15, 40);
  vxm.add(90, 120);
  // covered [0,100) minus [10,40) and [90,100) = 10 + 50 = 60
  EXPECT_EQ(uncovered_time(memory, vxm, mxm), 60u);
}

TEST(UncoveredTime, NoExclusions_IsTheCoveredTotal) {
  BusyIntervals memory, none;
  memory.add(3, 7);
  memory.add(10, 12);
  EXPECT_EQ(uncovered_time(memory, none, none), 6u);
}

}  // namespace
}  // namespace lpusim
