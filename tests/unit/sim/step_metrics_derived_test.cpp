// Every statistic of the report contract worked out by hand from a hand-made run on the
// round-number chip (1 GHz, 100 GB/s, 2 x 64 x 64 MXM) with round energy coefficients, then
// compared with compute_step_metrics, its JSON and its tables. The expected values come from the
// numbers written here, never from the code under test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sim/llm/step_metrics.h"
#include "tests/support/test_hw.h"
#include "tests/unit/sim/hand_step.h"

namespace lpusim {
namespace {

constexpr double kRelTol = 1e-12;  // only double rounding separates the two computations

#define EXPECT_CLOSE(actual, expected) EXPECT_NEAR((actual), (expected), kRelTol*(expected))

using testing::chip_with_energy;
using testing::hand_work;
using testing::kNs;
using testing::mxm_heavy_run;

const UnitMetrics& unit_named(const StepMetrics& m, const std::string& name) {
  for (const UnitMetrics& u : m.units) {
    if (u.name == name) return u;
  }
  throw std::runtime_error("no unit " + name);
}

TEST(StepMetricsDerived, BandwidthFloor_IsWeightPlusKvBytesOverBandwidth) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  // (60000 + 20000) B / 100 GB/s = 800 ns; without the KV bytes it would be 600 ns.
  EXPECT_CLOSE(m.bandwidth_floor_s, 800e-9);
}

TEST(StepMetricsDerived, MacFloor_IsMacsOverPlanesRowsColsTimesClock) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  // 4096000 MACs / (2 x 64 x 64 = 8192 MAC/cycle) = 500 cycles = 500 ns at 1 GHz.
  EXPECT_CLOSE(m.mac_floor_s, 500e-9);
}

TEST(StepMetricsDerived, TimesAndCounts_AreTheRunsOwn) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  EXPECT_CLOSE(m.seconds, 1000e-9);
  EXPECT_EQ(m.simulated_cycles, 1000u);
  EXPECT_EQ(m.instructions, 240u);
  EXPECT_CLOSE(m.memory_busy_s, 400e-9);
  EXPECT_CLOSE(m.bandwidth_bound_s, 100e-9);
  EXPECT_EQ(m.memory_bytes, 6400u);  // burst-rounded bytes on the channel
  EXPECT_EQ(m.alu_ops, 5000u);
  EXPECT_EQ(m.work.weight_bytes, 60'000u);
  EXPECT_EQ(m.work.kv_bytes, 20'000u);
  EXPECT_EQ(m.work.macs, 4'096'000u);
}

TEST(StepMetricsDerived, Utilization_IsBusyTimeOverStepTime) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  ASSERT_EQ(m.units.size(), 5u);
  // busy / 1000 ns; dispatch: the longest queue's 200 issues at 1 per cycle = 200 ns.
  const std::pair<const char*, double> expected[] = {
      {"memory", 0.4}, {"mem", 0.03}, {"vxm", 0.3}, {"mxm", 0.6}, {"dispatch", 0.2}};
  for (const auto& [name, utilization] : expected) {
    EXPECT_CLOSE(unit_named(m, name).utilization, utilization) << name;
    EXPECT_CLOSE(unit_named(m, name).busy_s, utilization * 1000e-9) << name;
  }
}

TEST(StepMetricsDerived, DispatchBusy_DividesByIssueWidth) {
  HwConfig hw = chip_with_energy();
  hw.dispatch.issue_per_cycle = 4;
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), hw, hand_work());
  EXPECT_CLOSE(unit_named(m, "dispatch").busy_s, 50e-9);  // 200 issues / 4 per cycle
}

TEST(StepMetricsDerived, Bound_IsTheBusiestResource_WhenBusyAtLeast80PercentOfTheStep) {
  const HwConfig hw = chip_with_energy();
  ChipRunResult mxm_heavy = mxm_heavy_run();
  mxm_heavy.units[static_cast<int>(Unit::kMxm)].busy_fs = 850 * kNs;
  EXPECT_EQ(compute_step_metrics(mxm_heavy, hw, hand_work()).bound, "mxm");

  ChipRunResult memory_heavy = mxm_heavy_run();
  memory_heavy.memory.busy_fs = 900 * kNs;
  EXPECT_EQ(compute_step_metrics(memory_heavy, hw, hand_work()).bound, "memory");

  ChipRunResult vxm_heavy = mxm_heavy_run();
  vxm_heavy.units[static_cast<int>(Unit::kVxm)].busy_fs = 870 * kNs;
  EXPECT_EQ(compute_step_metrics(vxm_heavy, hw, hand_work()).bound, "vxm");

  // 900 LOAD issues keep the mem queue busy 900 ns and dispatch 900 ns: issuing is not a
  // resource, dispatch is.
  ChipRunResult issue_heavy = mxm_heavy_run();
  issue_heavy.units[static_cast<int>(Unit::kMem)].instructions = 900;
  issue_heavy.units[static_cast<int>(Unit::kMem)].busy_fs = 900 * kNs;
  EXPECT_EQ(compute_step_metrics(issue_heavy, hw, hand_work()).bound, "dispatch");
}

TEST(StepMetricsDerived, Bound_IsLatency_WhenTheBusiestResourceIsBusyUnder80PercentOfTheStep) {
  const HwConfig hw = chip_with_energy();
  // The MXM, the busiest, is busy 600 of 1000 ns.
  EXPECT_EQ(compute_step_metrics(mxm_heavy_run(), hw, hand_work()).bound, "latency");
  ChipRunResult just_under = mxm_heavy_run();
  just_under.units[static_cast<int>(Unit::kMxm)].busy_fs = 799 * kNs;
  EXPECT_EQ(compute_step_metrics(just_under, hw, hand_work()).bound, "latency");
  ChipRunResult at_threshold = mxm_heavy_run();
  at_threshold.units[static_cast<int>(Unit::kMxm)].busy_fs = 800 * kNs;
  EXPECT_EQ(compute_step_metrics(at_threshold, hw, hand_work()).bound, "mxm");
}

TEST(StepMetricsDerived, LatencyTime_IsTheStepLessComputeBusyLessBandwidthBoundTime) {
  // VXM or MXM busy in [0, 800) ns, 100 ns bandwidth-bound: 1000 - 800 - 100 = 100 ns.
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  EXPECT_CLOSE(m.latency_s, 100e-9);
  // Overlapping busy intervals count once: the MXM busy over the VXM's whole interval too.
  ChipRunResult overlapping = mxm_heavy_run();
  overlapping.units[static_cast<int>(Unit::kMxm)].busy = BusyIntervals();
  overlapping.units[static_cast<int>(Unit::kMxm)].busy.add(100 * kNs, 250 * kNs);
  // Busy in [0, 300): idle 700 ns, of which 100 ns bandwidth-bound.
  EXPECT_CLOSE(compute_step_metrics(overlapping, chip_with_energy(), hand_work()).latency_s,
               600e-9);
}

TEST(StepMetricsDerived, Energy_IsEachCoefficientTimesItsCountPlusStaticPower) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  // memory 10 pJ x 6400 burst bytes = 64000 pJ; SRAM 1 pJ x (6000 loaded + 1000 VXM + 2000 MXM)
  // = 9000 pJ; MACs 0.5 pJ x 1e6 = 500000 pJ; VXM 2 pJ x 5000 = 10000 pJ; total 583000 pJ.
  // Static 3 W x 1 us = 3 uJ.
  const double energy_j = 583000e-12 + 3e-6;
  EXPECT_CLOSE(m.energy_j, energy_j);
  EXPECT_CLOSE(m.energy_j_per_token, energy_j / 4);
  EXPECT_CLOSE(m.avg_power_w, energy_j / 1e-6);
}

TEST(StepMetricsDerived, EachEnergyCoefficient_CountsOnItsOwn) {
  const ChipRunResult run = mxm_heavy_run();
  auto energy_with = [&](auto set) {
    HwConfig hw = testing::round_number_chip();
    set(hw.energy);
    return compute_step_metrics(run, hw, hand_work()).energy_j;
  };
  EXPECT_CLOSE(energy_with([](EnergyConfig& e) { e.memory_pj_per_byte = 1; }), 6400e-12);
  EXPECT_CLOSE(energy_with([](EnergyConfig& e) { e.sram_pj_per_byte = 1; }), 9000e-12);
  EXPECT_CLOSE(energy_with([](EnergyConfig& e) { e.mac_int8_pj = 1; }), 1e6 * 1e-12);
  EXPECT_CLOSE(energy_with([](EnergyConfig& e) { e.vxm_op_pj = 1; }), 5000e-12);
  EXPECT_CLOSE(energy_with([](EnergyConfig& e) { e.static_w = 1; }), 1e-6);
}

TEST(StepMetricsDerived, EmptyRun_HasZeroUtilizationAndPower_NotNan) {
  ChipRunResult empty;
  const StepMetrics m = compute_step_metrics(empty, chip_with_energy(), StepWork{});
  EXPECT_EQ(m.seconds, 0.0);
  for (const UnitMetrics& u : m.units) EXPECT_EQ(u.utilization, 0.0) << u.name;
  EXPECT_EQ(m.avg_power_w, 0.0);
  EXPECT_EQ(m.energy_j, 0.0);
}

TEST(StepMetricsDerived, Json_CarriesEachNumberUnderItsOwnKey) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  const nlohmann::json j = step_metrics_json(m);
  EXPECT_CLOSE(j.at("seconds").get<double>(), 1000e-9);
  EXPECT_EQ(j.at("simulated_cycles").get<std::uint64_t>(), 1000u);
  EXPECT_EQ(j.at("instructions").get<std::uint64_t>(), 240u);
  EXPECT_EQ(j.at("weight_bytes").get<std::uint64_t>(), 60'000u);
  EXPECT_EQ(j.at("kv_bytes").get<std::uint64_t>(), 20'000u);
  EXPECT_EQ(j.at("macs").get<std::uint64_t>(), 4'096'000u);
  EXPECT_EQ(j.at("memory_bytes").get<std::uint64_t>(), 6400u);
  EXPECT_CLOSE(j.at("bandwidth_floor_s").get<double>(), 800e-9);
  EXPECT_CLOSE(j.at("mac_floor_s").get<double>(), 500e-9);
  EXPECT_CLOSE(j.at("memory_busy_s").get<double>(), 400e-9);
  EXPECT_CLOSE(j.at("bandwidth_bound_s").get<double>(), 100e-9);
  EXPECT_CLOSE(j.at("latency_s").get<double>(), 100e-9);
  EXPECT_EQ(j.at("bound"), "latency");
  EXPECT_CLOSE(j.at("units").at("vxm").at("utilization").get<double>(), 0.3);
  EXPECT_CLOSE(j.at("units").at("mxm").at("busy_s").get<double>(), 600e-9);
  EXPECT_CLOSE(j.at("units").at("dispatch").at("utilization").get<double>(), 0.2);
  EXPECT_CLOSE(j.at("energy_j").get<double>(), 583000e-12 + 3e-6);
  EXPECT_CLOSE(j.at("energy_j_per_token").get<double>(), (583000e-12 + 3e-6) / 4);
  EXPECT_CLOSE(j.at("avg_power_w").get<double>(), 3.583);
}

// The value cell of the summary row named `metric`.
std::string summary_value(const std::vector<Table>& tables, const std::string& metric) {
  for (const auto& row : tables.at(0).rows()) {
    if (row.at(0).text() == metric) return row.at(1).text();
  }
  return "<no row " + metric + ">";
}

TEST(StepMetricsDerived, Tables_PrintEachNumberInItsUnit) {
  const StepMetrics m = compute_step_metrics(mxm_heavy_run(), chip_with_energy(), hand_work());
  const std::vector<Table> t = step_metrics_tables(m, "step");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(summary_value(t, "time"), "1.000");  // us
  EXPECT_EQ(summary_value(t, "bandwidth floor"), "0.800");
  EXPECT_EQ(summary_value(t, "MAC floor"), "0.500");
  EXPECT_EQ(summary_value(t, "memory busy"), "0.400");
  EXPECT_EQ(summary_value(t, "bandwidth-bound"), "0.100");
  EXPECT_EQ(summary_value(t, "latency-bound"), "0.100");
  EXPECT_EQ(summary_value(t, "bound by"), "latency");
  EXPECT_EQ(summary_value(t, "kv bytes"), "20000");
  EXPECT_EQ(summary_value(t, "energy"), "0.0036");  // mJ
  EXPECT_EQ(summary_value(t, "average power"), "3.58");
  ASSERT_EQ(t[1].rows().size(), 5u);
  EXPECT_EQ(t[1].rows()[3].at(0).text(), "mxm");
  EXPECT_EQ(t[1].rows()[3].at(1).text(), "0.600");
  EXPECT_EQ(t[1].rows()[3].at(2).text(), "60.0");
}

}  // namespace
}  // namespace lpusim
