// A counter track of a Chrome trace built from step changes (+n at one time, -n at a later one):
// changes are applied in time order, changes at the same time are coalesced, and only the samples
// inside the trace window are emitted (with the value at the window's start). Plain C++.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "traces/trace_filter.h"

namespace lpusim {

class StepCounter {
 public:
  using Emit = std::function<void(Femtoseconds at_fs, std::int64_t value)>;
  StepCounter(TimeWindow window, Emit emit) : window_(window), emit_(std::move(emit)) {}

  // A change at at_fs. Successive calls must not go back in time, except that a call may add a
  // change later than the next call's (scheduled: the end of a transfer).
  void add(Femtoseconds at_fs, std::int64_t delta);
  // Applies every change left; the counter is complete.
  void finish();

 private:
  void apply_before(Femtoseconds limit_fs);  // changes strictly before limit_fs
  void sample(Femtoseconds at_fs, std::int64_t value);

  using Change = std::pair<Femtoseconds, std::int64_t>;
  TimeWindow window_;
  Emit emit_;
  std::priority_queue<Change, std::vector<Change>, std::greater<>> pending_;
  std::int64_t value_ = 0;
  bool opened_ = false;  // the window's first sample was emitted
};

}  // namespace lpusim
