// A unit's busy time as a sorted list of disjoint [start, end) intervals, merged as they are
// added in time order. Used to find the time the compute units sat idle waiting for memory.
#pragma once

#include <cstdint>
#include <vector>

#include "models/sim_time.h"

namespace lpusim {

struct Interval {
  Femtoseconds start = 0;
  Femtoseconds end = 0;
};

class BusyIntervals {
 public:
  // Adds [start, end); intervals must arrive with non-decreasing start.
  void add(Femtoseconds start, Femtoseconds end);
  const std::vector<Interval>& intervals() const { return intervals_; }
  Femtoseconds total() const;

 private:
  std::vector<Interval> intervals_;
};

// Length of the part of `covered` not overlapped by any interval of any of `excluded`.
Femtoseconds uncovered_time(const BusyIntervals& covered,
                            const std::vector<const BusyIntervals*>& excluded);
// The same with two excluded sets.
Femtoseconds uncovered_time(const BusyIntervals& covered, const BusyIntervals& excluded_a,
                            const BusyIntervals& excluded_b);

}  // namespace lpusim
