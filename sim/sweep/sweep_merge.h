// Merging sweep results files (shards of one sweep, or reruns): rows collapse by hash, and two
// rows with the same hash but different results are a conflict, never silently resolved.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/sweep/sweep_results.h"

namespace lpusim {

struct MergedResults {
  std::vector<std::string> header;
  std::vector<ResultRow> rows;     // one per hash, ordered by point then hash
  std::size_t duplicates = 0;      // rows that repeated an identical row of another file
  std::vector<std::string> notes;  // e.g. a file's incomplete last line that was ignored
};

// Reads every file (each file's later row of a hash supersedes its earlier ones, as in a sweep)
// and merges them. Throws InputError when the headers differ, or when two files hold the same
// hash with different values in any column other than `point` (naming both file:line and the
// first differing column).
MergedResults merge_results(const std::vector<std::string>& paths);

}  // namespace lpusim
