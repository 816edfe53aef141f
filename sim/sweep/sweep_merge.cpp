// Merge of results files: header check, latest row per hash within each file, conflict check
// across files, output ordered by point.
#include "sim/sweep/sweep_merge.h"

#include <fmt/format.h>

#include <map>

namespace lpusim {
namespace {

struct Origin {
  std::string path;
  int line = 0;
};

// The first column other than `point` where a and b differ, or "" when they agree.
std::string first_difference(const std::vector<std::string>& header, const ResultRow& a,
                             const ResultRow& b) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] != "point" && a[i] != b[i])
      return fmt::format("column {}: \"{}\" there, \"{}\" here", header[i], a[i], b[i]);
  }
  return "";
}

void check_header(const ResultsTable& table, const std::vector<std::string>& header,
                  const std::string& first_path) {
  if (table.header != header)
    throw InputError(SourceLocation{table.path, 1, ""},
                     "the columns differ from " + first_path + "'s; results of another sweep?");
}

}  // namespace

MergedResults merge_results(const std::vector<std::string>& paths) {
  if (paths.empty()) throw InputError("merge: no input files");
  MergedResults merged;
  std::map<std::string, std::pair<ResultRow, Origin>> by_hash;
  for (const std::string& path : paths) {
    const ResultsTable table = read_results(path);
    if (table.header.empty()) throw InputError(SourceLocation{path, 0, ""}, "the file is empty");
    if (merged.header.empty()) merged.header = table.header;
    check_header(table, merged.header, paths.front());
    if (table.torn_bytes > 0)
      merged.notes.push_back(
          fmt::format("{}: ignored an incomplete last line ({} bytes)", path, table.torn_bytes));
    const std::size_t hash = table.column("hash");
    for (const auto& [key, index] : table.latest_by_hash()) {
      const ResultRow& row = table.rows[index];
      const Origin here{path, table.lines[index]};
      const auto [it, inserted] = by_hash.emplace(key, std::make_pair(row, here));
      if (inserted) continue;
      const std::string difference = first_difference(merged.header, it->second.first, row);
      if (!difference.empty())
        throw InputError(SourceLocation{path, here.line, ""},
                         fmt::format("point {} conflicts with {}:{}: {}", row[hash],
                                     it->second.second.path, it->second.second.line, difference));
      ++merged.duplicates;
    }
  }
  ResultsTable layout;
  layout.header = merged.header;
  for (auto& entry : by_hash) merged.rows.push_back(std::move(entry.second.first));
  sort_by_point(layout, merged.rows);
  return merged;
}

}  // namespace lpusim
