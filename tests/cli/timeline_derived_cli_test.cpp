// `lpusim timeline` end to end: drawn over the whole step, each row's "busy" percentage is the
// report's utilization of that unit (its busy time over the step time), measured separately.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::run_lpusim;
using testing::TempDir;

std::vector<double> busy_percentages(const std::string& svg) {
  std::vector<double> out;
  const std::regex re(">busy ([0-9.]+)%<");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

TEST(TimelineDerivedCli, BusyPercentOfEachRow_IsTheReportsUtilization) {
  TempDir dir;
  const testing::CliResult run =
      run_lpusim({"run", "--hw", "seed-80gbps", "--model", "tests/data/sweeps/tiny-model.yaml",
                  "--quant", "int4", "--batch", "4", "--context", "64", "--no-prefill", "--format",
                  "json", "--trace", dir.file("t.json")},
                 dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json report = nlohmann::json::parse(run.out);
  char window[64];
  std::snprintf(window, sizeof window, "0ns:%.6fns", report.at("seconds").get<double>() * 1e9);
  const testing::CliResult timeline = run_lpusim(
      {"timeline", dir.file("t.json"), "--window", window, "-o", dir.file("t.svg")}, dir);
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  const std::vector<double> busy = busy_percentages(testing::read_file(dir.file("t.svg")));
  ASSERT_EQ(busy.size(), 4u);
  // rows: mem, vxm, mxm, memory channel; percentages printed to 0.1
  const char* units[] = {"mem", "vxm", "mxm", "memory"};
  for (std::size_t i = 0; i < 4; ++i) {
    const double utilization = report.at("units").at(units[i]).at("utilization").get<double>();
    EXPECT_NEAR(busy[i], utilization * 100, 0.05 + 1e-9) << units[i];
  }
  // the step is not idle: the channel carried data most of the time on this memory-bound chip
  EXPECT_GT(busy[3], 50);
}

}  // namespace
}  // namespace lpusim
