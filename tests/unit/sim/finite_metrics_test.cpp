// Every reported number is checked finite before it is printed: a NaN or infinity is a
// SimulationError (exit 3) naming the metric, never "inf" in a table or null in JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/io/report.h"
#include "sim/llm/step_metrics.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

TEST(FiniteMetrics, InfinityOrNan_IsASimulationErrorNamingTheMetric) {
  EXPECT_NO_THROW(check_finite_metric("seconds", 1.5));
  try {
    check_finite_metric("avg_power_w", std::numeric_limits<double>::infinity());
    FAIL() << "accepted";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("avg_power_w is not a finite number (inf)"));
  }
  EXPECT_THROW(check_finite_metric("x", std::nan("")), SimulationError);
}

TEST(FiniteMetrics, TableWithAnInfiniteCell_IsRefusedNamingTableRowAndColumn) {
  Table table("decode step", {"metric", "value"});
  table.add_row({"time", Cell::number(1.0, 3)});
  EXPECT_NO_THROW(check_finite_tables({table}));
  table.add_row({"average power", Cell::number(std::numeric_limits<double>::infinity(), 2)});
  try {
    check_finite_tables({table});
    FAIL() << "accepted";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'decode step': 'average power' (value)"));
  }
}

TEST(FiniteMetrics, EnergyCoefficientNear1e308_IsRefusedNotInfinite) {
  HwConfig hw = testing::round_number_chip();
  hw.energy.memory_pj_per_byte = 1e308;  // past the key's range: only reachable from code
  ChipRunResult run;
  run.elapsed_fs = 1'000'000'000;  // 1 us
  run.memory.burst_bytes = 1'000'000;
  try {
    compute_step_metrics(run, hw, StepWork{});
    FAIL() << "accepted";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("energy_j is not a finite number (inf)"));
  }
}

}  // namespace
}  // namespace lpusim
