// The report statistics are declared once: the JSON report, the text/markdown/CSV tables and the
// sweep result columns all list exactly the statistics of the catalogues (and the units of
// unit_table() plus the memory channel and dispatch), each writer only those its flags name; a
// statistic or a unit row added to a catalogue appears in every writer without another edit.
#include "sim/llm/statistics.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/format.h"
#include "kernels/isa.h"
#include "sim/llm/llm_run.h"
#include "sim/llm/step_metrics.h"
#include "sim/sweep/sweep_results.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"
#include "tests/unit/sim/hand_step.h"

namespace lpusim {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

using testing::hand_work;
using testing::mxm_heavy_run;

StepMetrics hand_metrics(const StepCatalogue& catalogue = step_catalogue()) {
  return compute_step_metrics(mxm_heavy_run(), testing::chip_with_energy(), hand_work(), catalogue);
}

// A run report built from hand-made steps (decode and prefill) of the tiny model.
LlmRunResult hand_llm_run() {
  LlmRunResult r;
  r.spec.model = testing::tiny_model();
  r.spec.format = parse_format("int4");
  r.size = {1'000'000, 4'000'000};
  r.decode.metrics = hand_metrics();
  r.decode.kv_write_bytes = 512;
  r.decode.breakdown = {{"attention", 2e-6, {0, 3e-7, 4e-7}, 120},
                        {"mlp", 5e-6, {0, 6e-7, 7e-7}, 90}};
  r.prefill = PhaseResult{};
  r.prefill->metrics = hand_metrics();
  r.prefill->chunks = 2;  // a chunked prefill, so that its chunk row is shown
  r.prefill->chunk_tokens = 64;
  return r;
}

// The row of `table` whose first cell is `label`, or nullptr.
const std::vector<Cell>* row_labelled(const Table& table, const std::string& label) {
  for (const std::vector<Cell>& row : table.rows()) {
    if (row.at(0).text() == label) return &row;
  }
  return nullptr;
}

bool has_line_starting(const std::string& text, const std::string& start) {
  return ("\n" + text).find("\n" + start) != std::string::npos;
}

// The first line of `text` that starts with `start`, or "".
std::string line_starting(const std::string& text, const std::string& start) {
  const std::size_t at = ("\n" + text).find("\n" + start);
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

std::size_t count_flagged(const std::vector<Statistic<StepMetrics>>& statistics, unsigned writer) {
  return static_cast<std::size_t>(
      std::count_if(statistics.begin(), statistics.end(),
                    [&](const Statistic<StepMetrics>& s) { return (s.writers & writer) != 0; }));
}

TEST(StatisticsCatalogue, EachStepStatistic_IsInExactlyTheWritersItsFlagsName) {
  const StepMetrics m = hand_metrics();
  const nlohmann::json json = step_metrics_json(m);
  const std::vector<Table> tables = step_metrics_tables(m, "step");
  const std::string csv = render_tables(tables, OutputFormat::kCsv);
  const std::string text = render_tables(tables, OutputFormat::kText);
  const std::vector<std::string> sweep = sweep_metric_columns();
  const std::vector<std::string> header = results_header({});
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    const bool in_json = (s.writers & kJsonWriter) != 0;
    const bool in_table = (s.writers & kTableWriter) != 0;
    EXPECT_EQ(json.contains(s.key), in_json) << s.key;
    const std::vector<Cell>* row = row_labelled(tables.at(0), s.label);
    EXPECT_EQ(row != nullptr, in_table) << s.key;
    if (row) {
      EXPECT_EQ(row->at(2).text(), s.shown.unit) << s.key;
    }
    EXPECT_EQ(has_line_starting(csv, s.label + ","), in_table) << s.key;
    EXPECT_EQ(has_line_starting(text, s.label + " "), in_table) << s.key;
    EXPECT_EQ(std::count(sweep.begin(), sweep.end(), s.key), s.sweep_column > 0 ? 1 : 0) << s.key;
    EXPECT_EQ(std::count(header.begin(), header.end(), s.key), s.sweep_column > 0 ? 1 : 0) << s.key;
  }
  // Nothing else: one table row per table statistic, one JSON key per JSON statistic + "units".
  EXPECT_EQ(tables.at(0).rows().size(), count_flagged(step_catalogue().statistics, kTableWriter));
  EXPECT_EQ(json.size(), count_flagged(step_catalogue().statistics, kJsonWriter) + 1);
}

bool holds_type(const StatValue& value, StatType type) {
  switch (type) {
    case StatType::kReal:
      return std::holds_alternative<double>(value);
    case StatType::kCount:
      return std::holds_alternative<std::uint64_t>(value);
    case StatType::kText:
      return std::holds_alternative<std::string>(value);
  }
  return false;
}

TEST(StatisticsCatalogue, EachStatistic_ReadsTheValueTypeItDeclares) {
  const StepMetrics m = hand_metrics();
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    EXPECT_TRUE(holds_type(s.read(m), s.type)) << s.key;
  }
  const HwConfig hw = testing::chip_with_energy();
  const LlmRunResult r = hand_llm_run();
  for (const Statistic<RunSource>& s : run_catalogue()) {
    EXPECT_TRUE(holds_type(s.read(RunSource{r, hw}), s.type)) << s.key;
  }
}

TEST(StatisticsCatalogue, UnitRows_AreMemoryThenTheQueuesOfTheUnitTableThenDispatch) {
  std::vector<std::string> expected = {"memory"};
  for (const UnitInfo& info : unit_table()) expected.emplace_back(info.name);
  expected.emplace_back("dispatch");
  std::vector<std::string> names;
  for (const ResourceRow& r : step_catalogue().resources) names.push_back(r.name);
  EXPECT_EQ(names, expected);
  for (const UnitInfo& info : unit_table()) {
    EXPECT_EQ(step_catalogue().resources.at(static_cast<std::size_t>(info.unit) + 1).bounds_steps,
              info.bounds_steps)
        << info.name;
  }
}

TEST(StatisticsCatalogue, EachUnitRowAndUnitStatistic_IsInJsonTablesCsvAndSweepColumns) {
  const StepMetrics m = hand_metrics();
  const nlohmann::json json = step_metrics_json(m);
  const std::vector<Table> tables = step_metrics_tables(m, "step");
  const std::string csv = render_tables(tables, OutputFormat::kCsv);
  const std::vector<std::string> sweep = sweep_metric_columns();
  const StepCatalogue& c = step_catalogue();
  ASSERT_EQ(tables.at(1).rows().size(), c.resources.size());
  ASSERT_EQ(json.at("units").size(), c.resources.size());
  for (std::size_t i = 0; i < c.resources.size(); ++i) {
    const std::string& name = c.resources[i].name;
    EXPECT_EQ(tables.at(1).rows()[i].at(0).text(), name);  // in declaration order
    EXPECT_TRUE(has_line_starting(csv, name + ",")) << name;
    for (const UnitStatistic& s : c.unit_statistics) {
      EXPECT_TRUE(json.at("units").at(name).contains(s.key)) << name << " " << s.key;
      EXPECT_THAT(sweep, Contains("units." + name + "." + s.key));
    }
  }
  std::vector<std::string> columns = {"unit"};
  for (const UnitStatistic& s : c.unit_statistics) columns.push_back(s.label);
  EXPECT_EQ(tables.at(1).columns(), columns);
  EXPECT_EQ(sweep.size(), c.resources.size() * c.unit_statistics.size() +
                              static_cast<std::size_t>(
                                  std::count_if(c.statistics.begin(), c.statistics.end(),
                                                [](const auto& s) { return s.sweep_column > 0; })) +
                              static_cast<std::size_t>(
                                  std::count_if(run_catalogue().begin(), run_catalogue().end(),
                                                [](const auto& s) { return s.sweep_column > 0; })));
}

TEST(StatisticsCatalogue, EachRunStatistic_IsInExactlyTheWritersItsFlagsName) {
  const HwConfig hw = testing::round_number_chip();
  const LlmRunResult r = hand_llm_run();
  const nlohmann::json json = llm_run_json(r, hw);
  const Table head = llm_run_tables(r, hw).at(0);
  const std::vector<std::string> sweep = sweep_metric_columns();
  for (const Statistic<RunSource>& s : run_catalogue()) {
    EXPECT_EQ(json.contains(s.key), (s.writers & kJsonWriter) != 0) << s.key;
    const std::string label = s.label_of ? s.label_of(RunSource{r, hw}) : s.label;
    const std::vector<Cell>* row = row_labelled(head, label);
    EXPECT_EQ(row != nullptr, (s.writers & kTableWriter) != 0) << s.key;
    if (row) {
      EXPECT_EQ(row->at(2).text(), s.shown.unit) << s.key;
    }
    EXPECT_EQ(std::count(sweep.begin(), sweep.end(), s.key), s.sweep_column > 0 ? 1 : 0) << s.key;
  }
  // The headline also shows the decode step's statistics flagged for it, after the run's own.
  std::size_t headline = 0;
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    if (!(s.writers & kHeadlineWriter)) continue;
    ++headline;
    EXPECT_NE(row_labelled(head, s.label), nullptr) << s.key;
  }
  std::size_t run_rows = 0;
  for (const Statistic<RunSource>& s : run_catalogue())
    run_rows += (s.writers & kTableWriter) ? 1 : 0;
  EXPECT_EQ(head.rows().size(), run_rows + headline);
}

TEST(StatisticsCatalogue, EachBreakdownStatistic_IsAKeyOfEachKindAndAColumnOfTheKindTable) {
  const HwConfig hw = testing::chip_with_energy();
  const LlmRunResult r = hand_llm_run();
  const nlohmann::json json = llm_run_json(r, hw);
  const std::vector<Table> tables = llm_run_tables(r, hw);
  const Table& by_kind = tables.at(3);
  ASSERT_EQ(by_kind.title(), "decode step by layer kind");
  std::vector<std::string> columns = {"layer kind"};
  for (const Statistic<KindBreakdown>& s : breakdown_catalogue()) {
    if (s.writers & kTableWriter) columns.push_back(s.label);
    for (const KindBreakdown& k : r.decode.breakdown) {
      EXPECT_EQ(json.at("breakdown").at(k.kind).contains(s.key), (s.writers & kJsonWriter) != 0)
          << k.kind << " " << s.key;
    }
  }
  EXPECT_EQ(by_kind.columns(), columns);
  ASSERT_EQ(by_kind.rows().size(), 2u);
  EXPECT_EQ(by_kind.rows()[1].at(1).text(), "0.005");  // mlp memory_s in ms
  EXPECT_EQ(by_kind.rows()[1].at(4).text(), "90");
}

// A sweep resumes or merges a results file only if its header is the same: the metric columns
// keep the names and order of files written before (a tiny-sweep results file kept as a corpus).
TEST(StatisticsCatalogue, SweepColumns_AreThoseOfResultsFilesWrittenBefore) {
  const ResultsTable earlier = read_results(std::string(LPUSIM_SOURCE_DIR) +
                                            "/tests/fuzz/corpus/results_csv/tiny-sweep.csv");
  const auto first = earlier.header.begin() + static_cast<long>(earlier.column("exit_code")) + 1;
  const auto last = earlier.header.begin() + static_cast<long>(earlier.column("error"));
  EXPECT_EQ(sweep_metric_columns(), std::vector<std::string>(first, last));
}

TEST(StatisticsCatalogue, EverySweepColumn_IsAKeyOfTheRunJsonReport) {
  const nlohmann::json json = llm_run_json(hand_llm_run(), testing::round_number_chip());
  for (std::string column : sweep_metric_columns()) {
    std::string pointer = "/" + column;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    EXPECT_TRUE(json.contains(nlohmann::json::json_pointer(pointer))) << column;
  }
}

TEST(StatisticsCatalogue, AbsentRunStatistic_IsJsonNullAndNoTableRow) {
  const HwConfig hw = testing::round_number_chip();
  LlmRunResult r = hand_llm_run();
  r.prefill.reset();
  EXPECT_TRUE(llm_run_json(r, hw).at("first_token_latency_s").is_null());
  const std::vector<Table> tables = llm_run_tables(r, hw);
  for (const std::vector<Cell>& row : tables.at(0).rows()) {
    EXPECT_THAT(row.at(0).text(), Not(HasSubstr("first-token")));
  }
}

Statistic<StepMetrics> fake_statistic(std::function<StatValue(const StepMetrics&)> read) {
  return {"fake_twice_s",
          "fake twice",
          "s",
          StatType::kReal,
          {1e6, 3, "us"},
          kJsonWriter | kTableWriter,
          99,
          "twice the step",
          std::move(read)};
}

TEST(StatisticsCatalogue, AFakeStatistic_AppearsInJsonTextCsvAndSweepColumns) {
  StepCatalogue catalogue = step_catalogue();
  catalogue.statistics.push_back(
      fake_statistic([](const StepMetrics& m) -> StatValue { return 2 * m.seconds; }));
  const StepMetrics m = hand_metrics(catalogue);
  EXPECT_DOUBLE_EQ(step_metrics_json(m, catalogue).at("fake_twice_s").get<double>(), 2000e-9);
  const std::vector<Table> tables = step_metrics_tables(m, "step", catalogue);
  EXPECT_THAT(line_starting(render_tables(tables, OutputFormat::kText), "fake twice "),
              MatchesRegex("fake twice +2\\.000 +us"));
  EXPECT_TRUE(has_line_starting(render_tables(tables, OutputFormat::kCsv), "fake twice,2.000,us"));
  EXPECT_TRUE(has_line_starting(render_tables(tables, OutputFormat::kMarkdown),
                                "| fake twice | 2.000 | us |"));
  const std::vector<std::string> sweep = sweep_metric_columns(run_catalogue(), catalogue);
  EXPECT_EQ(sweep.back(), "fake_twice_s");  // position 99: after every real column
  EXPECT_THAT(results_header({}, sweep), Contains("fake_twice_s"));
  // The real catalogue is untouched.
  EXPECT_FALSE(step_metrics_json(hand_metrics()).contains("fake_twice_s"));
}

TEST(StatisticsCatalogue, AFakeRunStatistic_AppearsInTheRunJsonHeadlineCsvAndSweepColumns) {
  RunCatalogue catalogue = run_catalogue();
  catalogue.push_back({"fake_tokens_per_joule",
                       "fake tokens per joule",
                       "tokens/J",
                       StatType::kReal,
                       {1, 1, "tokens/J"},
                       kJsonWriter | kTableWriter,
                       99,
                       "tokens per joule of the decode step",
                       [](const RunSource& r) -> StatValue {
                         return 1 / r.result.decode.metrics.energy_j_per_token;
                       }});
  const HwConfig hw = testing::chip_with_energy();
  const LlmRunResult r = hand_llm_run();
  const double expected = 1 / r.decode.metrics.energy_j_per_token;
  EXPECT_DOUBLE_EQ(llm_run_json(r, hw, catalogue).at("fake_tokens_per_joule").get<double>(),
                   expected);
  const std::vector<Table> tables = llm_run_tables(r, hw, catalogue);
  const std::vector<Cell>* row = row_labelled(tables.at(0), "fake tokens per joule");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->at(1).text(), fmt::format("{:.1f}", expected));
  EXPECT_TRUE(has_line_starting(render_tables(tables, OutputFormat::kCsv),
                                "fake tokens per joule," + row->at(1).text() + ",tokens/J"));
  EXPECT_EQ(sweep_metric_columns(catalogue, step_catalogue()).back(), "fake_tokens_per_joule");
}

TEST(StatisticsCatalogue, AFakeNonFiniteStatistic_IsRefusedNamingItsKey) {
  StepCatalogue catalogue = step_catalogue();
  catalogue.statistics.push_back(fake_statistic(
      [](const StepMetrics&) -> StatValue { return std::numeric_limits<double>::infinity(); }));
  try {
    hand_metrics(catalogue);
    FAIL() << "accepted";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("fake_twice_s is not a finite number (inf)"));
  }
}

TEST(StatisticsCatalogue, AFakeUnitRow_AppearsInJsonTextCsvAndSweepColumns_AndCanBound) {
  StepCatalogue catalogue = step_catalogue();
  catalogue.resources.push_back(
      {"fake", true, "a resource busy for the whole step",
       [](const ChipRunResult& run, const HwConfig&) { return fs_to_seconds(run.elapsed_fs); }});
  const StepMetrics m = hand_metrics(catalogue);
  EXPECT_EQ(m.bound, "fake");  // busy 1000 ns, more than the MXM's 600 ns
  const nlohmann::json json = step_metrics_json(m, catalogue);
  EXPECT_DOUBLE_EQ(json.at("units").at("fake").at("utilization").get<double>(), 1.0);
  const std::vector<Table> tables = step_metrics_tables(m, "step", catalogue);
  EXPECT_TRUE(has_line_starting(render_tables(tables, OutputFormat::kCsv), "fake,1.000,100.0"));
  EXPECT_TRUE(has_line_starting(render_tables(tables, OutputFormat::kText), "fake"));
  const std::vector<std::string> sweep = sweep_metric_columns(run_catalogue(), catalogue);
  EXPECT_THAT(sweep, Contains("units.fake.busy_s"));
  EXPECT_THAT(sweep, Contains("units.fake.utilization"));

  // Shown, but never what bounds the step; the MXM's 600 of 1000 ns is under 80% of the step.
  catalogue.resources.back().bounds_steps = false;
  EXPECT_EQ(hand_metrics(catalogue).bound, "latency");
}

}  // namespace
}  // namespace lpusim
