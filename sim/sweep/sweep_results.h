// Sweep results as CSV: the columns (point parameters, status, every metric of the report
// contract, error), one row per point built from a worker's JSON, and reading a results file.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sweep/sweep_plan.h"

namespace lpusim {

using ResultRow = std::vector<std::string>;

// Column names: point, hash, the point's parameters, the varied hardware keys, status, exit_code,
// the report contract's metrics (sweep_metric_columns() in sim/llm/statistics.h) and error.
std::vector<std::string> results_header(const std::vector<std::string>& hw_axes);
// The same with the given metric columns.
std::vector<std::string> results_header(const std::vector<std::string>& hw_axes,
                                        const std::vector<std::string>& metrics);

// What one worker gave: its exit code (128 + signal when killed), stdout and stderr.
struct PointOutcome {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// The row of `point` in `header`'s columns: metrics from the worker's JSON report when it
// succeeded; status "failed", the exit code and the error message (metrics empty) otherwise.
ResultRow result_row(const SweepPoint& point, const std::vector<std::string>& header,
                     const PointOutcome& outcome);

// A results file as read: header, complete rows, and an ignored incomplete last line.
struct ResultsTable {
  std::string path;
  std::vector<std::string> header;  // empty for an empty file
  std::vector<ResultRow> rows;      // complete rows in file order
  std::vector<int> lines;           // 1-based line of each row
  std::size_t complete_bytes = 0;   // bytes up to the end of the last complete line
  std::size_t torn_bytes = 0;       // bytes after it: a line cut by a kill, ignored

  // Index of `name` in the header; throws InputError naming the file when absent.
  std::size_t column(std::string_view name) const;
  // The index of the last row of each hash: a later row (a retried point) supersedes earlier ones.
  std::map<std::string, std::size_t> latest_by_hash() const;
};

// Caps on a results file, so that parsing cannot need much more memory than the file's size.
// A real row is ~700 bytes in ~50 fields; a field costs ~32 bytes in memory however short.
struct ResultsLimits {
  static constexpr std::size_t kMaxLineBytes = 1 << 20;
  static constexpr std::size_t kMaxColumns = 4096;
  static constexpr std::size_t kMaxCells = std::size_t{1} << 25;  // 33.5 M fields, ~1 GB at worst
};

// Parses results text. Throws InputError at path:line for a complete line whose field count
// differs from the header's, a header without the point, hash and status columns, or a line
// past one of ResultsLimits.
ResultsTable parse_results(const std::string& path, std::string_view text);
// Reads a results file: a regular file of at most 256 MiB (InputError naming it otherwise).
ResultsTable read_results(const std::string& path);

// Orders rows by their point column (as a number), then hash.
void sort_by_point(const ResultsTable& table, std::vector<ResultRow>& rows);

}  // namespace lpusim
