// The interval arithmetic behind bandwidth_bound_s, checked on cases worked out by hand and
// against a brute-force count over every femtosecond of small random interval sets.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "models/busy_intervals.h"

namespace lpusim {
namespace {

TEST(BusyIntervalsDerived, IntervalInsideTheLastOne_KeepsItsEnd) {
  BusyIntervals b;
  b.add(0, 100);
  b.add(20, 30);  // a short transfer starting and ending inside the long one
  ASSERT_EQ(b.intervals().size(), 1u);
  EXPECT_EQ(b.intervals()[0].end, 100u);
  EXPECT_EQ(b.total(), 100u);
}

TEST(BusyIntervalsDerived, OverlappingInterval_ExtendsTheLastOne) {
  BusyIntervals b;
  b.add(0, 10);
  b.add(5, 15);
  ASSERT_EQ(b.intervals().size(), 1u);
  EXPECT_EQ(b.intervals()[0].start, 0u);
  EXPECT_EQ(b.intervals()[0].end, 15u);
}

TEST(BusyIntervalsDerived, GapOfOne_StaysTwoIntervals) {
  BusyIntervals b;
  b.add(0, 10);
  b.add(11, 12);
  ASSERT_EQ(b.intervals().size(), 2u);
  EXPECT_EQ(b.total(), 11u);
}

TEST(BusyIntervalsDerived, ReversedInterval_IsIgnored) {
  BusyIntervals b;
  b.add(10, 5);
  EXPECT_TRUE(b.intervals().empty());
  EXPECT_EQ(b.total(), 0u);
}

TEST(UncoveredTimeDerived, ExclusionsOverlappingEachOther_AreCountedOnce) {
  BusyIntervals memory, vxm, mxm;
  memory.add(0, 100);
  vxm.add(10, 50);
  mxm.add(20, 30);  // inside vxm's interval
  mxm.add(40, 60);  // straddles vxm's end
  // excluded union [10, 60): uncovered 10 + 40 = 50
  EXPECT_EQ(uncovered_time(memory, vxm, mxm), 50u);
  EXPECT_EQ(uncovered_time(memory, mxm, vxm), 50u);
}

TEST(UncoveredTimeDerived, OneExclusionSpanningSeveralCoveredIntervals) {
  BusyIntervals memory, vxm, none;
  memory.add(0, 10);
  memory.add(20, 30);
  memory.add(40, 50);
  vxm.add(5, 45);
  // uncovered [0,5) and [45,50)
  EXPECT_EQ(uncovered_time(memory, vxm, none), 10u);
  EXPECT_EQ(uncovered_time(memory, none, vxm), 10u);
}

TEST(UncoveredTimeDerived, ExclusionStartingExactlyAtTheEnd_RemovesNothing) {
  BusyIntervals memory, vxm, none;
  memory.add(0, 10);
  vxm.add(10, 20);
  EXPECT_EQ(uncovered_time(memory, vxm, none), 10u);
}

// Counts, femtosecond by femtosecond, the instants in `covered` and in neither exclusion.
Femtoseconds brute_force(const std::vector<Interval>& covered, const std::vector<Interval>& a,
                         const std::vector<Interval>& b, Femtoseconds horizon) {
  auto in = [](const std::vector<Interval>& list, Femtoseconds t) {
    for (const Interval& i : list) {
      if (i.start <= t && t < i.end) return true;
    }
    return false;
  };
  Femtoseconds n = 0;
  for (Femtoseconds t = 0; t < horizon; ++t) n += in(covered, t) && !in(a, t) && !in(b, t);
  return n;
}

// Random intervals with non-decreasing starts, as the chip adds them; returns what was added.
std::vector<Interval> random_intervals(std::mt19937& rng, BusyIntervals& into) {
  std::vector<Interval> added;
  Femtoseconds start = 0;
  const int count = std::uniform_int_distribution<int>(0, 8)(rng);
  for (int i = 0; i < count; ++i) {
    start += std::uniform_int_distribution<Femtoseconds>(0, 20)(rng);
    const Femtoseconds end = start + std::uniform_int_distribution<Femtoseconds>(0, 30)(rng);
    into.add(start, end);
    added.push_back({start, end});
  }
  return added;
}

TEST(UncoveredTimeDerived, RandomIntervalSets_MatchAFemtosecondByFemtosecondCount) {
  std::mt19937 rng(12345);  // fixed seed: the same sets every run
  for (int round = 0; round < 500; ++round) {
    BusyIntervals covered, a, b;
    const std::vector<Interval> c_list = random_intervals(rng, covered);
    const std::vector<Interval> a_list = random_intervals(rng, a);
    const std::vector<Interval> b_list = random_intervals(rng, b);
    const Femtoseconds horizon = 250;
    ASSERT_EQ(covered.total(), brute_force(c_list, {}, {}, horizon)) << "round " << round;
    ASSERT_EQ(uncovered_time(covered, a, b), brute_force(c_list, a_list, b_list, horizon))
        << "round " << round;
  }
}

}  // namespace
}  // namespace lpusim
