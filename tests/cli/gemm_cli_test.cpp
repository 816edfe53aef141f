// End-to-end tests of `lpusim gemm`, `lpusim kernel` and `lpusim exec`: report keys, functional
// checks, replaying written kernels, and every failure's exit code and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

nlohmann::json json_of(const testing::CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(GemmCli, JsonReport_HasEveryKeyOfTheContract) {
  TempDir dir;
  const nlohmann::json j = json_of(run_lpusim(
      {"gemm", "--m", "1", "--k", "2048", "--n", "640", "--quant", "q3.5", "--format", "json"},
      dir));
  for (const char* key : {"seconds", "simulated_cycles", "instructions", "weight_bytes",
                          "bandwidth_floor_s", "memory_busy_s", "bandwidth_bound_s", "bound"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* unit : {"memory", "mem", "vxm", "mxm", "dispatch"}) {
    EXPECT_TRUE(j["units"][unit].contains("busy_s")) << unit;
    EXPECT_TRUE(j["units"][unit].contains("utilization")) << unit;
  }
  EXPECT_EQ(j["bound"], "memory");
  // q3.5 at g128: 640 rows x 2048 x 3.5 bits + 640 x 16 groups x 4 bytes of scale and offset.
  EXPECT_EQ(j["weight_bytes"], 640 * 2048 * 7 / 16 + 640 * 16 * 4);
}

TEST(GemmCli, Functional_ReportsExactIntegersForEveryFormat) {
  TempDir dir;
  for (const char* quant : {"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5", "pattern:5,3"}) {
    const nlohmann::json j =
        json_of(run_lpusim({"gemm", "--m", "3", "--k", "390", "--n", "333", "--quant", quant,
                            "--group-size", "64", "--functional", "--format", "json"},
                           dir));
    EXPECT_EQ(j["functional"]["integer_exact"], true) << quant;
    // 333 rows: one strip of two 320-row column tiles (one MATMUL of n = 333).
    EXPECT_EQ(j["functional"]["matmuls_checked"], 1) << quant;
    EXPECT_LT(j["functional"]["rel_error"].get<double>(), 0.6) << quant;
  }
}

TEST(GemmCli, FunctionalFp16_HasNoIntegerPathAndSmallError) {
  TempDir dir;
  const nlohmann::json j =
      json_of(run_lpusim({"gemm", "--m", "2", "--k", "256", "--n", "100", "--quant", "fp16",
                          "--functional", "--format", "json"},
                         dir));
  EXPECT_TRUE(j["functional"]["integer_exact"].is_null());
  EXPECT_LT(j["functional"]["rel_error"].get<double>(), 1e-3);
}

TEST(GemmCli, SameSeed_GivesTheSameReport) {
  TempDir dir;
  const std::vector<std::string> args = {"gemm",    "--k",  "512",          "--n",      "320",
                                         "--quant", "int4", "--functional", "--format", "json"};
  EXPECT_EQ(run_lpusim(args, dir).out, run_lpusim(args, dir).out);
}

TEST(GemmCli, ZeroDimension_IsExit2NamingTheFlag) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"gemm", "--k", "0", "--n", "8"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--k"));
}

TEST(GemmCli, KNotAMultipleOfThePattern_IsExit2) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"gemm", "--k", "255", "--n", "8", "--quant", "q3.5"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("pattern length"));
}

TEST(GemmCli, BadOverride_IsExit2NamingTheKey) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"gemm", "--k", "256", "--n", "8", "--set", "memory.bandwidth=eighty"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("memory.bandwidth"));
  EXPECT_THAT(r.err, HasSubstr("eighty"));
}

TEST(GemmCli, ResidentWeightsThatDoNotFit_AreExit3NamingTheSizes) {
  TempDir dir;
  // 16384 x 16384 int8 = 256 MiB of resident weights, more than the TSP's 220 MiB.
  const testing::CliResult r = run_lpusim(
      {"gemm", "--hw", "groq-tsp-v1", "--k", "16384", "--n", "16384", "--quant", "int8"}, dir);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("230686720"));  // 220 MiB available
}

TEST(KernelCli, WrittenKernel_ReplaysWithExecToTheSameTiming) {
  TempDir dir;
  const std::string k = dir.file("k.lpuasm");
  ASSERT_EQ(
      run_lpusim({"kernel", "--quant", "q3.5", "--m", "2", "--k", "1024", "--n", "700", "-o", k},
                 dir)
          .exit_code,
      0);
  EXPECT_THAT(testing::read_file(k), HasSubstr(".queue vxm"));
  const nlohmann::json replay = json_of(run_lpusim({"exec", k, "--format", "json"}, dir));
  const nlohmann::json direct = json_of(run_lpusim(
      {"gemm", "--quant", "q3.5", "--m", "2", "--k", "1024", "--n", "700", "--format", "json"},
      dir));
  EXPECT_EQ(replay["simulated_cycles"], direct["simulated_cycles"]);
  EXPECT_EQ(replay["instructions"], direct["instructions"]);
  EXPECT_EQ(replay["weight_bytes"], direct["weight_bytes"]);
}

TEST(KernelCli, OutputIntoAMissingDirectory_IsExit2AndWritesNothing) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"kernel", "--k", "256", "--n", "8", "-o", dir.file("missing/k.lpuasm")}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ExecCli, MalformedLine_IsExit2WithFileAndLine) {
  TempDir dir;
  const std::string k = dir.file("bad.lpuasm");
  std::ofstream(k) << ".sem s\n.queue vxm\n  WAIT sem=s\n  FROB dst=x\n";
  const testing::CliResult r = run_lpusim({"exec", k}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.lpuasm:4"));
}

TEST(ExecCli, DeadlockedProgram_IsExit3NamingQueueAndSemaphore) {
  TempDir dir;
  const std::string k = dir.file("deadlock.lpuasm");
  std::ofstream(k) << ".sem never\n.sem other\n.queue vxm\n  WAIT sem=never\n"
                      ".queue mxm\n  WAIT sem=other\n";
  const testing::CliResult r = run_lpusim({"exec", k}, dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("deadlock"));
  EXPECT_THAT(r.err, HasSubstr("queue vxm"));
  EXPECT_THAT(r.err, HasSubstr("'never'"));
  EXPECT_THAT(r.err, HasSubstr("'other'"));
}

TEST(ExecCli, MissingFile_IsExit2) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"exec", dir.file("nope.lpuasm")}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.lpuasm"));
}

}  // namespace
}  // namespace lpusim
