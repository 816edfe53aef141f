// The commands' outputs list the statistics of the catalogues and nothing else, on real runs of
// the tiny model: `run` in JSON, text, markdown and CSV, `gemm` and `exec` through the step
// writers, `compare` in its rows, and `sweep` in its result columns, with each statistic's table
// unit beside it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "sim/llm/statistics.h"
#include "sim/llm/step_metrics.h"
#include "sim/sweep/sweep_results.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::CliResult;
using ::testing::ElementsAreArray;
using testing::run_lpusim;
using testing::TempDir;

// A small SRAM makes the tiny model's prefill run in two chunks, so that every row a run can show
// is shown (the chunk row appears only for a chunked prefill).
const std::vector<std::string> kTinyRun = {
    "run",     "--hw",  "seed-80gbps",         "--model", "tests/data/sweeps/tiny-model.yaml",
    "--quant", "int4",  "--context",           "64",      "--prompt",
    "8",       "--set", "sram.capacity=200KiB"};

std::string tiny_run(const std::string& format) {
  TempDir dir;
  std::vector<std::string> args = kTinyRun;
  args.insert(args.end(), {"--format", format});
  const CliResult r = run_lpusim(args, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The first line of `text` that starts with `start`, or "" (the table rows of a label).
std::string line_starting(const std::string& text, const std::string& start) {
  const std::string lines = "\n" + text;
  const std::size_t at = lines.find("\n" + start);
  if (at == std::string::npos) return "";
  return lines.substr(at + 1, lines.find('\n', at + 1) - at - 1);
}

// A table statistic's row in `text` starts with `start` and ends with `end`.
void expect_row(const std::string& text, const std::string& start, const std::string& end) {
  const std::string line = line_starting(text, start);
  ASSERT_FALSE(line.empty()) << "no row \"" << start << "\" in\n" << text;
  EXPECT_EQ(line.substr(line.size() - std::min(line.size(), end.size())), end) << line;
}

// Every statistic flagged for one of `writers` has its row, label then unit, in the text (padded
// columns), CSV and markdown outputs. A label that depends on the run is matched as a prefix.
template <class Source>
void expect_table_rows(const std::vector<Statistic<Source>>& statistics, unsigned writers,
                       const std::string& text, const std::string& csv,
                       const std::string& markdown) {
  for (const Statistic<Source>& s : statistics) {
    if (!(s.writers & writers)) continue;
    const bool exact = !s.label_of;
    const std::string unit(s.shown.unit);
    expect_row(text, s.label + (exact ? "  " : ""), unit.empty() ? "" : "  " + unit);
    expect_row(csv, s.label + (exact ? "," : ""), "," + unit);
    expect_row(markdown, "| " + s.label + (exact ? " |" : ""), " " + unit + " |");
  }
}

TEST(StatisticsCli, RunReport_ShowsEveryCatalogueStatisticInEachWriterThatShowsIt) {
  const nlohmann::json json = nlohmann::json::parse(tiny_run("json"));
  for (const Statistic<RunSource>& s : run_catalogue()) {
    EXPECT_EQ(json.contains(s.key), (s.writers & kJsonWriter) != 0) << s.key;
  }
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    EXPECT_EQ(json.contains(s.key), (s.writers & kJsonWriter) != 0) << s.key;
    EXPECT_EQ(json.at("prefill").contains(s.key), (s.writers & kJsonWriter) != 0) << s.key;
  }
  const std::string text = tiny_run("text");
  const std::string csv = tiny_run("csv");
  const std::string markdown = tiny_run("markdown");
  expect_table_rows(run_catalogue(), kTableWriter, text, csv, markdown);
  expect_table_rows(step_catalogue().statistics, kTableWriter | kHeadlineWriter, text, csv,
                    markdown);
}

TEST(StatisticsCli, RunReport_ShowsEveryUnitRowWithEveryUnitStatistic) {
  const nlohmann::json json = nlohmann::json::parse(tiny_run("json"));
  const std::string text = tiny_run("text");
  const std::string csv = tiny_run("csv");
  std::vector<std::string> units_header = {"unit"};
  for (const UnitStatistic& s : step_catalogue().unit_statistics) units_header.push_back(s.label);
  std::string csv_header;
  for (const std::string& column : units_header)
    csv_header += (csv_header.empty() ? "" : ",") + column;
  EXPECT_FALSE(line_starting(csv, csv_header).empty()) << csv;
  for (const ResourceRow& r : step_catalogue().resources) {
    EXPECT_FALSE(line_starting(text, r.name + " ").empty()) << r.name;
    EXPECT_FALSE(line_starting(csv, r.name + ",").empty()) << r.name;
    for (const UnitStatistic& s : step_catalogue().unit_statistics) {
      EXPECT_TRUE(json.at("units").at(r.name).contains(s.key)) << r.name << " " << s.key;
    }
  }
  EXPECT_EQ(json.at("units").size(), step_catalogue().resources.size());
}

TEST(StatisticsCli, Gemm_ShowsEveryStepStatisticInJsonAndTables) {
  TempDir dir;
  const std::vector<std::string> gemm = {"gemm", "--k", "256", "--n", "64", "--quant", "int4"};
  auto run = [&](const std::string& format) {
    std::vector<std::string> args = gemm;
    args.insert(args.end(), {"--format", format});
    const CliResult r = run_lpusim(args, dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const nlohmann::json json = nlohmann::json::parse(run("json"));
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    EXPECT_EQ(json.contains(s.key), (s.writers & kJsonWriter) != 0) << s.key;
  }
  for (const ResourceRow& r : step_catalogue().resources) {
    EXPECT_TRUE(json.at("units").contains(r.name)) << r.name;
  }
  expect_table_rows(step_catalogue().statistics, kTableWriter, run("text"), run("csv"),
                    run("markdown"));
}

TEST(StatisticsCli, Compare_ShowsTheStatisticsWithACompareRow_InRowOrder) {
  TempDir dir;
  std::vector<std::string> args = kTinyRun;
  args[0] = "compare";
  args.insert(args.end(), {"--quant", "int4,q3.5", "--format", "csv"});
  args.erase(args.begin() + 5, args.begin() + 7);  // compare takes --quant as a list
  const CliResult r = run_lpusim(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::pair<int, std::string>> expected;
  auto add = [&](const auto& statistics) {
    for (const auto& s : statistics) {
      if (s.compare.row == 0) continue;
      expected.emplace_back(s.compare.row,
                            s.compare.label + "," + std::string(s.compare.shown.unit) + ",");
    }
  };
  add(run_catalogue());
  add(step_catalogue().statistics);
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> starts;
  for (const auto& e : expected) starts.push_back(e.second);
  std::vector<std::string> rows;
  std::size_t start = r.out.find('\n') + 1;  // after the header
  for (std::size_t end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = r.out.substr(start, end - start);
    rows.push_back(line.substr(0, line.find(',', line.find(',') + 1) + 1));
  }
  EXPECT_THAT(rows, ElementsAreArray(starts));
}

TEST(StatisticsCli, Sweep_ResultColumnsAreTheCatalogueSweepColumns_FilledFromTheWorkersJson) {
  TempDir dir;
  const CliResult r = run_lpusim(
      {"sweep", "tests/data/sweeps/tiny-sweep.yaml", "--jobs", "2", "--out", dir.file("r.csv")},
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;  // one point fails on purpose; the sweep itself succeeds
  const ResultsTable table = read_results(dir.file("r.csv"));
  const std::vector<std::string> metrics = sweep_metric_columns();
  const std::size_t first = table.column("exit_code") + 1;
  const std::vector<std::string> shown(
      table.header.begin() + static_cast<long>(first),
      table.header.begin() + static_cast<long>(first) + static_cast<long>(metrics.size()));
  EXPECT_EQ(shown, metrics);
  EXPECT_EQ(table.header.at(first + metrics.size()), "error");
  const std::size_t status = table.column("status");
  for (const ResultRow& row : table.rows) {
    if (row[status] != "ok") continue;
    for (std::size_t c = first; c < first + metrics.size(); ++c) {
      // the tiny sweep runs without prefill: its first-token latency is null, an empty cell
      EXPECT_EQ(row[c].empty(), table.header[c] == "first_token_latency_s") << table.header[c];
    }
  }
}

}  // namespace
}  // namespace lpusim
