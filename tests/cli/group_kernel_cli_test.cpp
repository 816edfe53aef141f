// --group-kernel per-group|two-level on `lpusim gemm`, `run` and `compare`: a prefill-sized GEMM
// with two-level scales runs near the MAC floor (never below it) while per-group runs far above
// it; the two-level functional result stays close to the stored format's and is deterministic;
// bad values are exit 2 naming the flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

nlohmann::json prefill_gemm(const TempDir& dir, const std::string& quant,
                            const std::string& kernel) {
  return json_of(
      run_lpusim({"gemm", "--hw", "hbm3-3tbps", "--m", "2048", "--k", "8192", "--n", "8192",
                  "--quant", quant, "--group-kernel", kernel, "--format", "json"},
                 dir));
}

// m = 2048, k = 8192, n = 8192, group 128: one MXM pass per group (depth 128 of 320) and a
// per-group epilogue put per-group 3-5x above MACs / peak; two-level runs full-depth passes and a
// per-channel epilogue.
TEST(GroupKernelCli, PrefillGemm_TwoLevelIsNearTheMacFloorAndNeverBelowIt) {
  TempDir dir;
  for (const char* quant : {"int4", "q3.5"}) {
    const nlohmann::json per_group = prefill_gemm(dir, quant, "per-group");
    const nlohmann::json two_level = prefill_gemm(dir, quant, "two-level");
    EXPECT_EQ(per_group["group_kernel"], "per-group");
    EXPECT_EQ(two_level["group_kernel"], "two-level");
    const double floor = two_level["mac_floor_s"].get<double>();
    ASSERT_GT(floor, 0);
    EXPECT_EQ(per_group["mac_floor_s"].get<double>(), floor) << quant;
    const double per_group_ratio = per_group["seconds"].get<double>() / floor;
    const double two_level_ratio = two_level["seconds"].get<double>() / floor;
    std::printf("%s: per-group %.3fx, two-level %.3fx the MAC floor (%.1f us)\n", quant,
                per_group_ratio, two_level_ratio, floor * 1e6);
    EXPECT_GE(per_group_ratio, 1.0) << quant;
    EXPECT_GE(two_level_ratio, 1.0) << quant;
    EXPECT_GT(per_group_ratio, 3.0) << quant;
    EXPECT_LT(two_level_ratio, 1.3) << quant;
    EXPECT_EQ(two_level["bound"], "mxm") << quant;
    // The two-level metadata (u8 s2 + i8 z per group, f16 s1 per row) is half the fp16 scale +
    // offset, and is loaded: 8192 rows x 64 groups x 2 bytes less, plus 8192 x 2 bytes of s1.
    EXPECT_EQ(per_group["weight_bytes"].get<std::int64_t>() -
                  two_level["weight_bytes"].get<std::int64_t>(),
              8192 * 64 * 2 - 8192 * 2)
        << quant;
  }
}

// Error bound of the two-level result against the stored format's X W_hat^T (what per-group
// computes up to activation quantization), on seeded random Gaussian GEMMs: at most 5% relative
// (measured about 3%, docs/FORMATS.md), and integer partials exact (the MXM multiplied exactly
// s2 x c + z by the quantized activations).
TEST(GroupKernelCli, Functional_TwoLevelIsExactInIntegersAndWithinTheBound) {
  TempDir dir;
  for (const char* quant : {"int4", "q3.5", "q3", "q2.5"}) {
    const std::vector<std::string> args = {"gemm",   "--m", "16",       "--k", "1024",
                                           "--n",    "640", "--quant",  quant, "--functional",
                                           "--seed", "1",   "--format", "json"};
    std::vector<std::string> two = args;
    two.insert(two.end(), {"--group-kernel", "two-level"});
    const testing::CliResult first = run_lpusim(two, dir);
    const nlohmann::json t = json_of(first)["functional"];
    const nlohmann::json p = json_of(run_lpusim(args, dir))["functional"];
    EXPECT_EQ(t["integer_exact"], true) << quant;
    EXPECT_LT(t["stored_rel_error"].get<double>(), 0.05) << quant;
    EXPECT_GT(t["stored_rel_error"].get<double>(), p["stored_rel_error"].get<double>()) << quant;
    // Against the unquantized product, two-level costs at most a tenth more error.
    EXPECT_LT(t["rel_error"].get<double>(), 1.1 * p["rel_error"].get<double>()) << quant;
    EXPECT_EQ(run_lpusim(two, dir).out, first.out) << quant;  // deterministic
  }
}

TEST(GroupKernelCli, Functional_TwoLevelWithKChunksAndAShortLastGroup) {
  TempDir dir;
  // k = 390 with groups of 64: six groups and a short one of 6; several strips.
  const nlohmann::json j =
      json_of(run_lpusim({"gemm", "--m", "3", "--k", "390", "--n", "700", "--quant", "q3.5",
                          "--group-size", "64", "--functional", "--group-kernel", "two-level",
                          "--format", "json", "--set", "sram.capacity=600KiB"},
                         dir));
  EXPECT_EQ(j["functional"]["integer_exact"], true);
  EXPECT_LT(j["functional"]["stored_rel_error"].get<double>(), 0.05);
}

TEST(GroupKernelCli, PerChannelAndFp16_AreUnchangedByTwoLevel) {
  TempDir dir;
  for (const char* quant : {"fp16", "int8"}) {
    const std::vector<std::string> args = {
        "gemm", "--m",          "4",           "--k",      "512", "--n", "320", "--quant",
        quant,  "--group-size", "per-channel", "--format", "json"};
    std::vector<std::string> two = args;
    two.insert(two.end(), {"--group-kernel", "two-level"});
    nlohmann::json a = json_of(run_lpusim(args, dir));
    nlohmann::json b = json_of(run_lpusim(two, dir));
    EXPECT_EQ(a["seconds"], b["seconds"]) << quant;
    EXPECT_EQ(a["weight_bytes"], b["weight_bytes"]) << quant;
  }
}

TEST(GroupKernelCli, BadValue_IsExit2NamingTheFlag) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"gemm", "--k", "256", "--n", "8", "--group-kernel", "fast"},
        std::vector<std::string>{"run", "--group-kernel", "fast"},
        std::vector<std::string>{"compare", "--group-kernel", "Two-Level"}}) {
    const testing::CliResult r = run_lpusim(args, dir);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_THAT(r.err, HasSubstr("--group-kernel")) << args[0];
    EXPECT_THAT(r.err, HasSubstr("per-group or two-level")) << args[0];
  }
}

TEST(GroupKernelCli, TwoLevelWithEightBitGroups_IsExit2NamingTheFlag) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"gemm", "--k", "256", "--n", "8", "--quant", "int8",
                                 "--group-kernel", "two-level"},
        std::vector<std::string>{"run", "--quant", "int8", "--group-size", "128", "--group-kernel",
                                 "two-level"}}) {
    const testing::CliResult r = run_lpusim(args, dir);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_THAT(r.err, HasSubstr("--group-kernel")) << args[0];
    EXPECT_THAT(r.err, HasSubstr("at most 7 bits")) << args[0];
  }
}

TEST(GroupKernelCli, TooDeepForInt32_IsExit2) {
  TempDir dir;
  const testing::CliResult r = run_lpusim(
      {"kernel", "--k", "262144", "--n", "8", "--quant", "int4", "--group-kernel", "two-level"},
      dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("two-level"));
}

// A small model's prefill: two-level is faster at first token; the decode step (m = 1) pays the
// dequantization on the VXM without an MXM gain.
TEST(GroupKernelCli, Run_TwoLevelSpeedsUpPrefillOfASmallModel) {
  TempDir dir;
  const std::vector<std::string> run = {"run",        "--model",  "llama2-7b", "--hw",
                                        "hbm3-3tbps", "--quant",  "int4",      "--prompt",
                                        "512",        "--format", "json",      "--group-kernel"};
  std::vector<std::string> args = run;
  args.push_back("per-group");
  std::vector<std::string> two = run;
  two.push_back("two-level");
  const nlohmann::json p = json_of(run_lpusim(args, dir));
  const nlohmann::json t = json_of(run_lpusim(two, dir));
  const double p_first = p["first_token_latency_s"].get<double>();
  const double t_first = t["first_token_latency_s"].get<double>();
  EXPECT_LT(t_first, 0.7 * p_first);
  EXPECT_GE(t_first, t["prefill"]["mac_floor_s"].get<double>());
}

}  // namespace
}  // namespace lpusim
