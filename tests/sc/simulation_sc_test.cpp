// The Simulation: one per process (a second one is a clear error), any number of runs with
// different hardware in it giving the reports those runs give each in a process of its own, and a
// system of several chips whose chips run one after another.
#include "sim/engine/simulation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"
#include "sim/llm/llm_run.h"
#include "sim/llm/workload_options.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/cli_runner.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

TEST(Simulation, SecondSimulationInOneProcess_IsASimulationErrorSayingWhy) {
  testing::test_simulation();
  try {
    Simulation second;
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("elaborates once per process"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("reuse the first Simulation"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("child process"));
  }
  // The first one still runs.
  Program p;
  p.queue(Unit::kVxm) = {testing::nop(3)};
  EXPECT_EQ(testing::run_on_test_chip(p, testing::round_number_chip()).cycles, 3u);
}

// `lpusim run --hw HW --model llama2-7b --no-prefill --format json`, simulated in this process.
nlohmann::json run_report_in_process(const std::string& hw_name) {
  HwOptions hw_options;
  hw_options.hw = hw_name;
  const HwConfig hw = hw_options.load();
  LlmOptions llm;
  llm.model = "llama2-7b";
  const LlmRunResult r = run_llm(testing::test_simulation(), llm.spec("q3.5"), hw, false);
  nlohmann::json json = llm_run_json(r, hw);
  json["hw"] = hw.name;
  return json;
}

TEST(Simulation, RunsWithDifferentHardwareInOneProcess_ReportAsSeparateProcessesDo) {
  const std::vector<std::string> configs = {"seed-80gbps", "hbm3-3tbps", "seed-80gbps"};
  std::vector<nlohmann::json> in_process;
  for (const std::string& hw : configs) in_process.push_back(run_report_in_process(hw));
  testing::TempDir dir;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const testing::CliResult child = testing::run_lpusim(
        {"run", "--hw", configs[i], "--model", "llama2-7b", "--no-prefill", "--format", "json"},
        dir);
    ASSERT_EQ(child.exit_code, 0) << child.err;
    EXPECT_EQ(in_process[i], nlohmann::json::parse(child.out)) << configs[i];
  }
  EXPECT_NE(in_process[0]["per_token_latency_s"], in_process[1]["per_token_latency_s"]);
}

TEST(Simulation, EveryChipOfTheSystem_RunsTheSameProgramToTheSameResult) {
  Program p;
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kVxm) = {testing::nop(10), testing::sem_op(Opcode::kNotify, 0)};
  p.queue(Unit::kMxm) = {testing::sem_op(Opcode::kWait, 0), testing::nop(1)};
  ASSERT_EQ(testing::test_simulation().chips(), 2);
  SimRunOptions on_chip1;
  on_chip1.chip = 1;
  const ChipRunResult a = testing::run_on_test_chip(p, testing::round_number_chip());
  const ChipRunResult b = testing::run_on_test_chip(p, testing::round_number_chip(), on_chip1);
  const ChipRunResult c = testing::run_on_test_chip(p, testing::round_number_chip());
  // NOTIFY issues in cycle 10 and lands at 11; the WAIT resumes at 12; the NOP ends at 13.
  for (const ChipRunResult* r : {&a, &b, &c}) EXPECT_EQ(r->cycles, 13u);
  EXPECT_EQ(a.unit(Unit::kMxm).wait_fs, b.unit(Unit::kMxm).wait_fs);
}

TEST(Simulation, ChipOutsideTheSystem_IsASimulationErrorNamingTheCount) {
  SimRunOptions options;
  options.chip = 2;
  try {
    testing::run_on_test_chip(Program{}, testing::round_number_chip(), options);
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("chip 2 does not exist"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("2 chip(s)"));
  }
}

// Every sink sees the run's bounds and each executed instruction once, in queue order.
class CountingSink : public ChipEventSink {
 public:
  void on_run_begin(const RunBegin& run) override { labels.push_back(run.label); }
  void on_instruction(const InstructionEvent& e) override { indices.push_back(e.index); }
  void on_run_end(const RunEnd&) override { ++ends; }
  std::vector<std::string> labels;
  std::vector<std::uint32_t> indices;
  int ends = 0;
};

TEST(Simulation, AttachedAndPerRunSinks_SeeEveryInstructionOfTheirRuns) {
  Program p;
  p.queue(Unit::kVxm) = {testing::nop(1), testing::nop(2)};
  CountingSink attached;
  CountingSink per_run;
  testing::test_simulation().attach(attached);
  SimRunOptions options;
  options.label = "first";
  options.sinks = {&per_run};
  testing::run_on_test_chip(p, testing::round_number_chip(), options);
  testing::run_on_test_chip(p, testing::round_number_chip());
  testing::test_simulation().detach(attached);
  testing::run_on_test_chip(p, testing::round_number_chip());
  EXPECT_EQ(attached.labels, (std::vector<std::string>{"first", ""}));
  EXPECT_EQ(attached.indices, (std::vector<std::uint32_t>{0, 1, 0, 1}));
  EXPECT_EQ(attached.ends, 2);
  EXPECT_EQ(per_run.indices, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(per_run.ends, 1);
}

}  // namespace
}  // namespace lpusim
