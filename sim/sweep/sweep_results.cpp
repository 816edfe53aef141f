// Results rows from `lpusim run --format json` reports, and the tolerant reader of results files:
// complete lines are checked, an incomplete last line (a kill mid-write) is set aside.
#include "sim/sweep/sweep_results.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "kernels/input_file.h"
#include "sim/llm/statistics.h"
#include "sim/sweep/sweep_csv.h"

namespace lpusim {
namespace {

constexpr std::string_view kStatusOk = "ok";
constexpr std::string_view kStatusFailed = "failed";
constexpr std::size_t kMaxErrorChars = 400;

const std::vector<std::string>& parameter_columns() {
  static const std::vector<std::string> columns = {
      "point",        "hash",  "hw",      "model",  "quant",     "group_size",
      "group_kernel", "batch", "context", "prompt", "kv_format", "prefill"};
  return columns;
}

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> columns = sweep_metric_columns();
  return columns;
}

std::string json_field(const nlohmann::json& report, const std::string& column) {
  std::string pointer = "/" + column;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  const nlohmann::json::json_pointer at(pointer);
  if (!report.contains(at)) return "";
  const nlohmann::json& value = report.at(at);
  if (value.is_null()) return "";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// The worker's error message: its last non-empty stderr line without the "lpusim: " prefix.
std::string error_message(const PointOutcome& outcome) {
  std::string text = outcome.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  text = text.substr(text.find_last_of('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  const std::string prefix = "lpusim: ";
  if (text.compare(0, prefix.size(), prefix) == 0) text = text.substr(prefix.size());
  if (outcome.exit_code > 128 && text.empty())
    text = fmt::format("worker killed by signal {}", outcome.exit_code - 128);
  if (text.empty()) text = fmt::format("worker exited with code {}", outcome.exit_code);
  return text.substr(0, kMaxErrorChars);
}

// The JSON report in a worker's stdout: from its first line that opens an object, so that a stray
// line printed before it (a library's notice) does not lose the point.
std::string_view report_text(std::string_view out) {
  if (out.substr(0, 1) == "{") return out;
  const std::size_t start = out.find("\n{");
  return start == std::string_view::npos ? out : out.substr(start + 1);
}

std::map<std::string, std::string> parameter_fields(const SweepPoint& p) {
  std::map<std::string, std::string> fields = {
      {"point", std::to_string(p.index)},
      {"hash", p.hash},
      {"hw", p.hw.name},
      {"model", p.spec.model.name},
      {"quant", p.spec.format.name},
      {"group_size", p.spec.group_size == 0 ? "per-channel" : std::to_string(p.spec.group_size)},
      {"group_kernel", group_kernels_text(p.spec.group_kernels)},
      {"batch", std::to_string(p.spec.batch)},
      {"context", std::to_string(p.spec.context)},
      {"prompt", std::to_string(p.spec.prompt)},
      {"kv_format", std::string(kv_format_name(p.spec.kv))},
      {"prefill", p.prefill ? "true" : "false"}};
  for (const auto& [key, value] : p.hw_values) fields[key] = value;
  return fields;
}

void add_outcome_fields(const PointOutcome& outcome, std::map<std::string, std::string>& fields) {
  fields["exit_code"] = std::to_string(outcome.exit_code);
  if (outcome.exit_code == 0) {
    nlohmann::json report;
    try {
      report = nlohmann::json::parse(report_text(outcome.out));
    } catch (const nlohmann::json::exception&) {
      fields["status"] = std::string(kStatusFailed);
      fields["error"] = "the worker's report is not JSON: " + outcome.out.substr(0, 80);
      return;
    }
    for (const std::string& column : metric_columns()) fields[column] = json_field(report, column);
    fields["status"] = std::string(kStatusOk);
    return;
  }
  fields["status"] = std::string(kStatusFailed);
  fields["error"] = error_message(outcome);
}

}  // namespace

std::vector<std::string> results_header(const std::vector<std::string>& hw_axes) {
  return results_header(hw_axes, metric_columns());
}

std::vector<std::string> results_header(const std::vector<std::string>& hw_axes,
                                        const std::vector<std::string>& metrics) {
  std::vector<std::string> header = parameter_columns();
  header.insert(header.end(), hw_axes.begin(), hw_axes.end());
  header.emplace_back("status");
  header.emplace_back("exit_code");
  header.insert(header.end(), metrics.begin(), metrics.end());
  header.emplace_back("error");
  return header;
}

ResultRow result_row(const SweepPoint& point, const std::vector<std::string>& header,
                     const PointOutcome& outcome) {
  std::map<std::string, std::string> fields = parameter_fields(point);
  add_outcome_fields(outcome, fields);
  ResultRow row;
  for (const std::string& column : header) row.push_back(fields[column]);
  return row;
}

std::size_t ResultsTable::column(std::string_view name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end())
    throw InputError(SourceLocation{path, 1, ""},
                     fmt::format("not a sweep results file: no column \"{}\"", name));
  return static_cast<std::size_t>(it - header.begin());
}

std::map<std::string, std::size_t> ResultsTable::latest_by_hash() const {
  std::map<std::string, std::size_t> latest;
  const std::size_t hash = column("hash");
  for (std::size_t i = 0; i < rows.size(); ++i) latest[rows[i][hash]] = i;
  return latest;
}

ResultsTable parse_results(const std::string& path, std::string_view text) {
  ResultsTable table;
  table.path = path;
  const std::size_t last_newline = text.rfind('\n');
  table.complete_bytes = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  table.torn_bytes = text.size() - table.complete_bytes;
  std::size_t start = 0;
  std::size_t cells = 0;
  for (int line = 1; start < table.complete_bytes; ++line) {
    const std::size_t end = text.find('\n', start);
    std::string_view record = text.substr(start, end - start);
    if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
    start = end + 1;
    const SourceLocation where{path, line, ""};
    if (record.size() > ResultsLimits::kMaxLineBytes)
      throw InputError(where, fmt::format("expected a line of at most {} bytes, got {}",
                                          ResultsLimits::kMaxLineBytes, record.size()));
    ResultRow fields = parse_csv_line(record, where);
    if (fields.size() > ResultsLimits::kMaxColumns)
      throw InputError(where, fmt::format("expected at most {} fields, got {}",
                                          ResultsLimits::kMaxColumns, fields.size()));
    cells += fields.size();
    if (cells > ResultsLimits::kMaxCells)
      throw InputError(where, fmt::format("expected at most {} fields in the whole file, got more",
                                          ResultsLimits::kMaxCells));
    if (line == 1) {
      table.header = std::move(fields);
      for (const char* needed : {"point", "hash", "status"}) table.column(needed);
      continue;
    }
    if (fields.size() != table.header.size())
      throw InputError(where, fmt::format("expected {} fields as in the header, got {}",
                                          table.header.size(), fields.size()));
    table.rows.push_back(std::move(fields));
    table.lines.push_back(line);
  }
  return table;
}

ResultsTable read_results(const std::string& path) {
  return parse_results(path, read_input_file(path, kResultsCsvInput));
}

void sort_by_point(const ResultsTable& table, std::vector<ResultRow>& rows) {
  const std::size_t point = table.column("point");
  const std::size_t hash = table.column("hash");
  const auto number = [](const std::string& text) {
    return text.empty() || text.size() > 18 ||
                   text.find_first_not_of("0123456789") != std::string::npos
               ? ~0ULL
               : std::stoull(text);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const ResultRow& a, const ResultRow& b) {
    const auto ka = number(a[point]);
    const auto kb = number(b[point]);
    return ka != kb ? ka < kb : a[hash] < b[hash];
  });
}

}  // namespace lpusim
