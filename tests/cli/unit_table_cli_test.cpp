// The unit table (kernels/isa.h) is the one list of queues: the report, the JSON trace's tracks,
// the VCD scopes, the SVG timeline's rows and the .lpuasm header each list exactly its units, in
// its order, and no other queue.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::CliResult;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kTinyGemm = {"gemm", "--k", "256", "--n", "64", "--quant", "int4"};

std::vector<std::string> table_names() {
  std::vector<std::string> names;
  for (const UnitInfo& unit : unit_table()) names.emplace_back(unit.name);
  return names;
}

// Every match of group 1 of `pattern` in `text`, in order.
std::vector<std::string> matches(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

class UnitTableCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> args = kTinyGemm;
    for (const std::string& a :
         {std::string("--format"), std::string("json"), std::string("--trace"), dir_.file("t.json"),
          std::string("--vcd"), dir_.file("t.vcd")}) {
      args.push_back(a);
    }
    const CliResult r = run_lpusim(args, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    report_ = nlohmann::json::parse(r.out);
  }
  TempDir dir_;
  nlohmann::json report_;
};

TEST_F(UnitTableCli, ReportUnits_AreTheChannelTheTableAndDispatch) {
  std::vector<std::string> expected = {"memory"};
  for (const std::string& name : table_names()) expected.push_back(name);
  expected.emplace_back("dispatch");
  std::vector<std::string> reported;
  for (const auto& [name, value] : report_.at("units").items()) reported.push_back(name);
  // JSON objects list keys sorted; compare as sets of names.
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(reported, expected);
}

TEST_F(UnitTableCli, TraceTracks_AreEachUnitAndItsSyncTrack_ThenTheChannel) {
  const std::string trace = testing::read_file(dir_.file("t.json"));
  std::vector<std::string> expected;
  for (const UnitInfo& unit : unit_table()) {
    expected.emplace_back(unit.name);
    expected.emplace_back(unit.sync_track);
  }
  expected.emplace_back("memory channel");
  EXPECT_EQ(matches(trace, R"re("name":"thread_name"[^}]*"args":\{"name":"([^"]*)")re"), expected);
}

TEST_F(UnitTableCli, VcdScopes_HoldOneScopePerUnit) {
  const std::string vcd = testing::read_file(dir_.file("t.vcd"));
  std::vector<std::string> scopes = matches(vcd, R"(\$scope module (\S+) \$end)");
  for (const std::string& name : table_names()) {
    EXPECT_EQ(std::count(scopes.begin(), scopes.end(), name), 1) << name;
  }
  // SystemC, dispatch and memory_channel besides the units.
  EXPECT_EQ(scopes.size(), table_names().size() + 3);
}

TEST_F(UnitTableCli, TimelineRows_AreTheUnitsThenTheChannel) {
  const CliResult r = run_lpusim({"timeline", dir_.file("t.json"), "-o", dir_.file("t.svg")}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = testing::read_file(dir_.file("t.svg"));
  std::vector<std::string> expected = table_names();
  expected.emplace_back("memory channel");
  EXPECT_EQ(matches(svg, R"re(text-anchor="end">([^<]*)</text>)re"), expected);
}

TEST(UnitTableAsm, ProgramHeader_CountsEachUnitInTableOrder_AndQueuesUseTheTableNames) {
  TempDir dir;
  std::vector<std::string> args = {
      "kernel", "--k", "256", "--n", "64", "--quant", "int4", "-o", dir.file("k.lpuasm")};
  const CliResult r = run_lpusim(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = testing::read_file(dir.file("k.lpuasm"));
  const std::string header = text.substr(0, text.find('\n'));
  EXPECT_EQ(matches(header, R"(([a-z]+) [0-9]+[,)])"), table_names()) << header;
  // Each non-empty queue is written under its table name, in table order (this kernel uses all).
  EXPECT_EQ(matches(text, R"(\n\.queue (\S+))"), table_names());
}

}  // namespace
}  // namespace lpusim
