// End-to-end tests of `lpusim run` and `lpusim compare`: the report contract, the golden default
// comparison, and every bad input's exit code and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kSmallRun = {"run",  "--model",   "llama2-7b", "--quant",
                                            "q3.5", "--context", "256",       "--prompt",
                                            "16",   "--format",  "json"};

TEST(RunCli, JsonReport_HasEveryKeyOfTheReportContract) {
  TempDir dir;
  const testing::CliResult r = run_lpusim(kSmallRun, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key :
       {"weight_bytes", "kv_bytes", "per_token_latency_s", "throughput_tok_s",
        "first_token_latency_s", "bandwidth_floor_s", "memory_busy_s", "bandwidth_bound_s", "bound",
        "energy_j_per_token", "avg_power_w", "simulated_cycles", "instructions"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* unit : {"memory", "vxm", "mxm"}) {
    EXPECT_TRUE(j["units"][unit].contains("busy_s")) << unit;
    EXPECT_TRUE(j["units"][unit].contains("utilization")) << unit;
  }
  for (const char* kind : {"attention", "mlp", "lm_head"}) {
    EXPECT_TRUE(j["breakdown"].contains(kind)) << kind;
  }
  EXPECT_THAT(j["config"]["hw"].get<std::string>(), HasSubstr("memory:"));
  EXPECT_THAT(j["config"]["model"].get<std::string>(), HasSubstr("hidden: 4096"));
  EXPECT_DOUBLE_EQ(j["throughput_tok_s"].get<double>(),
                   1.0 / j["per_token_latency_s"].get<double>());
  EXPECT_GE(j["per_token_latency_s"].get<double>(), j["bandwidth_floor_s"].get<double>());
}

TEST(RunCli, SameArguments_GiveByteIdenticalReports) {
  TempDir dir;
  EXPECT_EQ(run_lpusim(kSmallRun, dir).out, run_lpusim(kSmallRun, dir).out);
}

TEST(RunCli, ModelTooBigForResidentSram_IsExit3NamingNeedAndHave) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--hw", "groq-tsp-v1", "--model", "llama2-70b", "--quant", "int8"}, dir);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("llama2-70b"));
  EXPECT_THAT(r.err, HasSubstr("230686720"));
}

TEST(RunCli, BadInputs_AreExit2NamingTheFlag) {
  TempDir dir;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", "--model", "llama9-1t"}, "llama9-1t"},
      {{"run", "--model", "llama2-7b", "--batch", "0"}, "--batch"},
      {{"run", "--model", "llama2-7b", "--context", "5000"}, "--context"},
      {{"run", "--model", "llama2-7b", "--kv-format", "fp8"}, "fp8"},
      {{"run", "--model", "llama2-7b", "--quant", "int5"}, "int5"},
      {{"run", "--model", "llama2-7b", "--group-size", "zero"}, "zero"},
      {{"run", "--model", "llama2-7b", "--format", "xml"}, "xml"},
      {{"compare", "--quant", "int4,bogus"}, "bogus"},
  };
  for (const auto& [args, needle] : cases) {
    const testing::CliResult r = run_lpusim(args, dir);
    EXPECT_EQ(r.exit_code, 2) << args[1] << " " << needle << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(needle));
  }
}

TEST(CompareCli, NoArguments_PrintsTheGoldenSeedComparison) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"compare"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string golden =
      testing::read_file(std::string(LPUSIM_SOURCE_DIR) + "/tests/golden/compare_default.txt");
  EXPECT_EQ(r.out, golden) << "if the model changed on purpose, regenerate with "
                              "scripts/update-golden.sh and review the diff";
}

TEST(CompareCli, Json_HasOneSchemePerFormatAndTheSeedClaims) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"compare", "--model", "llama2-7b", "--context", "256", "--prompt", "16",
                  "--quant", "int8,int4,q3.5", "--format", "json"},
                 dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["schemes"].size(), 3u);
  EXPECT_EQ(j["schemes"][1]["quant"], "int4");
  EXPECT_FALSE(j.contains("seed_claims"));  // the seed's claims are about llama2-70b only
  const double int8 = j["schemes"][0]["per_token_latency_s"];
  const double q35 = j["schemes"][2]["per_token_latency_s"];
  EXPECT_LT(q35, int8);  // memory-bound: fewer bytes, less time
}

TEST(CompareCli, Csv_IsOneHeaderAndOneRowPerMetric) {
  TempDir dir;
  const testing::CliResult r = run_lpusim(
      {"compare", "--model", "llama2-7b", "--context", "256", "--prompt", "16", "--format", "csv"},
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("metric,unit,int4,q3.5,change q3.5\n"));
  EXPECT_THAT(r.out, HasSubstr("\nthroughput,tokens/s,"));
}

}  // namespace
}  // namespace lpusim
