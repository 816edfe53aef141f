#include "models/busy_intervals.h"

#include <algorithm>

namespace lpusim {

void BusyIntervals::add(Femtoseconds start, Femtoseconds end) {
  if (end <= start) return;
  if (!intervals_.empty() && start <= intervals_.back().end) {
    intervals_.back().end = std::max(intervals_.back().end, end);
    return;
  }
  intervals_.push_back({start, end});
}

Femtoseconds BusyIntervals::total() const {
  Femtoseconds sum = 0;
  for (const Interval& i : intervals_) sum += i.end - i.start;
  return sum;
}

namespace {

// The union of two sorted disjoint interval lists.
std::vector<Interval> merge_union(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> all;
  all.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(all),
             [](const Interval& x, const Interval& y) { return x.start < y.start; });
  std::vector<Interval> out;
  for (const Interval& i : all) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

}  // namespace

Femtoseconds uncovered_time(const BusyIntervals& covered, const BusyIntervals& excluded_a,
                            const BusyIntervals& excluded_b) {
  return uncovered_time(covered, {&excluded_a, &excluded_b});
}

Femtoseconds uncovered_time(const BusyIntervals& covered,
                            const std::vector<const BusyIntervals*>& excluded_sets) {
  std::vector<Interval> excluded;
  for (const BusyIntervals* set : excluded_sets) excluded = merge_union(excluded, set->intervals());
  Femtoseconds result = 0;
  std::size_t e = 0;
  for (const Interval& c : covered.intervals()) {
    Femtoseconds cursor = c.start;
    while (e < excluded.size() && excluded[e].end <= cursor) ++e;
    std::size_t j = e;
    while (cursor < c.end) {
      if (j >= excluded.size() || excluded[j].start >= c.end) {
        result += c.end - cursor;
        break;
      }
      if (excluded[j].start > cursor) result += excluded[j].start - cursor;
      cursor = std::max(cursor, excluded[j].end);
      ++j;
    }
  }
  return result;
}

}  // namespace lpusim
