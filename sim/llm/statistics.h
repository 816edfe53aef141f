// The statistics of the reports, each declared once: its key (JSON and sweep column), text label,
// unit, table scaling, description, value type, which writers show it and how it is read. The JSON
// writer, the text/markdown/CSV tables, the sweep result columns, the finite check and the docs
// test all iterate these catalogues (docs/WORKLOAD.md, "Report contract").
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/io/report.h"

namespace lpusim {

struct ChipRunResult;
struct HwConfig;
struct KindBreakdown;
struct LlmRunResult;
struct StepMetrics;
struct UnitMetrics;

// A read statistic: absent (JSON null, no table row, empty sweep cell), a real number, a count or
// a text.
using StatValue = std::variant<std::monostate, double, std::uint64_t, std::string>;

enum class StatType { kReal, kCount, kText };

// The writers that show a statistic (a flag set). The CSV output is the tables as CSV; a sweep
// column is Statistic::sweep_column, a `lpusim compare` row Statistic::compare.
enum StatWriter : unsigned {
  kJsonWriter = 1u << 0,      // the JSON report
  kTableWriter = 1u << 1,     // the text, markdown and CSV table of the statistic's catalogue
  kHeadlineWriter = 1u << 2,  // the headline table of `lpusim run` (step statistics only)
};

// How a table shows a number: value * scale / divisor with `decimals` decimals, in `unit`. A count
// shown as it is (scale and divisor 1) is an integer.
struct TableScale {
  double scale;
  int decimals;
  std::string_view unit;  // a literal: "ms" (not a std::string, which GCC 12 at -O2 wrongly
                          // reports as maybe uninitialized in the catalogues' initializer lists)
  double divisor = 1;     // bytes as GB: divide by 1e9 rather than multiply by 1e-9

  double of(double value) const { return value * scale / divisor; }
  bool is_identity() const { return scale == 1 && divisor == 1; }
};

// How `lpusim compare` shows a statistic: its row (0: not shown), label and scaling.
struct CompareShow {
  int row = 0;
  std::string label;
  TableScale shown{1, 0, ""};
};

template <class Source>
struct Statistic {
  std::string key;    // JSON key and sweep column: "bandwidth_floor_s"
  std::string label;  // table row: "bandwidth floor"
  std::string unit;   // unit of the JSON value: "s", "B", "J" ("" for a name or a plain count)
  StatType type;      // the alternative `read` returns (or absent)
  TableScale shown;   // in tables: seconds shown as us with 3 decimals, ...
  unsigned writers;   // StatWriter flags
  int sweep_column;   // position among the sweep result columns; 0: not a sweep column
  std::string description;  // one line, as in docs/WORKLOAD.md
  std::function<StatValue(const Source&)> read;
  // A table label that depends on the source ("first-token latency (prefill of 128)"); optional.
  std::function<std::string(const Source&)> label_of = nullptr;
  CompareShow compare = {};
};

// One per-unit statistic: a column of the units table, `units.<unit>.<key>` in JSON and sweeps.
struct UnitStatistic {
  std::string key;    // "busy_s"
  std::string label;  // units table column: "busy (us)"
  std::string unit;   // unit of the JSON value
  TableScale shown;
  std::string description;
  std::function<double(const UnitMetrics&)> read;
};

// One row of the per-unit statistics: the shared memory channel, each queue of unit_table(), the
// dispatch slots. `bounds_steps`: its busy time can be what bounds a step (`bound`).
struct ResourceRow {
  std::string name;
  bool bounds_steps;
  std::string description;
  std::function<double(const ChipRunResult&, const HwConfig&)> busy_s;
};

// The statistics of one simulated step (StepMetrics): `lpusim exec`, `gemm`, and each phase of
// `run`.
struct StepCatalogue {
  std::vector<Statistic<StepMetrics>> statistics;
  std::vector<UnitStatistic> unit_statistics;  // in the order of StepMetrics::units values
  std::vector<ResourceRow> resources;          // "memory", the queues, "dispatch"
  int units_sweep_column;                      // where units.<unit>.<key> go among sweep columns
};
const StepCatalogue& step_catalogue();

// What a run-level statistic is read from.
struct RunSource {
  const LlmRunResult& result;
  const HwConfig& hw;
};
// The statistics of `lpusim run` beyond its decode step's: the workload, latencies, model size.
using RunCatalogue = std::vector<Statistic<RunSource>>;
const RunCatalogue& run_catalogue();

// The per-layer-kind statistics of a phase (`breakdown.<kind>.<key>` in JSON, a column of the
// "by layer kind" tables, labelled by the statistic's label).
using BreakdownCatalogue = std::vector<Statistic<KindBreakdown>>;
const BreakdownCatalogue& breakdown_catalogue();

// The number a value holds, for finite checks and tables (0 for absent or text).
double stat_number(const StatValue& value);
nlohmann::json stat_json(const StatValue& value);
// The table cell of `value` scaled as `shown`.
Cell stat_cell(const StatValue& value, const TableScale& shown);

// Writes every statistic shown in JSON into `json`.
template <class Source>
void write_statistics_json(const std::vector<Statistic<Source>>& statistics, const Source& source,
                           nlohmann::json& json) {
  for (const Statistic<Source>& s : statistics) {
    if (s.writers & kJsonWriter) json[s.key] = stat_json(s.read(source));
  }
}

// Adds a (label, value, unit) row to `table` per statistic shown by `writer`, skipping absent ones.
template <class Source>
void add_statistics_rows(const std::vector<Statistic<Source>>& statistics, const Source& source,
                         unsigned writer, Table& table) {
  for (const Statistic<Source>& s : statistics) {
    if (!(s.writers & writer)) continue;
    const StatValue value = s.read(source);
    if (std::holds_alternative<std::monostate>(value)) continue;
    table.add_row({s.label_of ? s.label_of(source) : s.label, stat_cell(value, s.shown),
                   std::string(s.shown.unit)});
  }
}

// check_finite_metric for every real statistic, named by its key.
template <class Source>
void check_finite_statistics(const std::vector<Statistic<Source>>& statistics,
                             const Source& source) {
  for (const Statistic<Source>& s : statistics) {
    if (s.type == StatType::kReal) check_finite_metric(s.key, stat_number(s.read(source)));
  }
}

// A sweep result column: its key and position (Statistic::sweep_column).
struct SweepColumn {
  int position;
  std::string key;
};

// The sweep columns of a catalogue, unordered.
template <class Source>
void add_sweep_columns(const std::vector<Statistic<Source>>& statistics,
                       std::vector<SweepColumn>& columns) {
  for (const Statistic<Source>& s : statistics) {
    if (s.sweep_column > 0) columns.push_back({s.sweep_column, s.key});
  }
}

// Every metric column of a sweep results file, in order: the run and step statistics by their
// sweep_column, units.<unit>.<key> per resource and per-unit statistic at units_sweep_column.
std::vector<std::string> sweep_metric_columns(const RunCatalogue& run = run_catalogue(),
                                              const StepCatalogue& step = step_catalogue());

}  // namespace lpusim
