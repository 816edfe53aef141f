// `--group-kernel auto` on `lpusim run` and `compare` (their default): the prefill runs two-level
// and the decode step per-group, bit for bit as the runs that ask for each kernel; every report
// names the kernel of each phase, except for formats without groups, whose reports are unchanged;
// a bad value is exit 2 naming the flag and the values it takes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kSmallRun = {"run",        "--model",   "llama2-7b", "--hw",
                                            "hbm3-3tbps", "--context", "256",       "--prompt",
                                            "64",         "--quant",   "int4"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string output_of(const std::vector<std::string>& args, const TempDir& dir) {
  const testing::CliResult r = run_lpusim(args, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The line of `output` that starts with `label` ("" when none does).
std::string line_of(const std::string& output, const std::string& label) {
  std::size_t at = 0;
  while (at < output.size()) {
    const std::size_t end = std::min(output.find('\n', at), output.size());
    const std::string line = output.substr(at, end - at);
    if (line.rfind(label, 0) == 0) return line;
    at = end + 1;
  }
  return "";
}

nlohmann::json json_of(const std::vector<std::string>& args, const TempDir& dir) {
  return nlohmann::json::parse(output_of(with(args, {"--format", "json"}), dir));
}

TEST(AutoGroupKernelCli, Auto_PrefillIsTwoLevelsAndDecodeIsPerGroups_BitForBit) {
  TempDir dir;
  const nlohmann::json per_group = json_of(with(kSmallRun, {"--group-kernel", "per-group"}), dir);
  const nlohmann::json two_level = json_of(with(kSmallRun, {"--group-kernel", "two-level"}), dir);
  const nlohmann::json chosen = json_of(with(kSmallRun, {"--group-kernel", "auto"}), dir);
  // Exact: the same programs run, so the same cycles and the same doubles.
  EXPECT_EQ(chosen["prefill"]["simulated_cycles"], two_level["prefill"]["simulated_cycles"]);
  EXPECT_EQ(chosen["first_token_latency_s"], two_level["first_token_latency_s"]);
  EXPECT_EQ(chosen["prefill"]["weight_bytes"], two_level["prefill"]["weight_bytes"]);
  EXPECT_EQ(chosen["simulated_cycles"], per_group["simulated_cycles"]);
  EXPECT_EQ(chosen["step_latency_s"], per_group["step_latency_s"]);
  EXPECT_EQ(chosen["weight_bytes"], per_group["weight_bytes"]);
  // And each phase took the faster kernel here.
  EXPECT_LT(chosen["first_token_latency_s"].get<double>(),
            per_group["first_token_latency_s"].get<double>());
  EXPECT_LT(chosen["step_latency_s"].get<double>(), two_level["step_latency_s"].get<double>());
  EXPECT_EQ(chosen["group_kernel"],
            (nlohmann::json{{"prefill", "two-level"}, {"decode", "per-group"}}));
  EXPECT_EQ(per_group["group_kernel"],
            (nlohmann::json{{"prefill", "per-group"}, {"decode", "per-group"}}));
  EXPECT_EQ(two_level["group_kernel"],
            (nlohmann::json{{"prefill", "two-level"}, {"decode", "two-level"}}));
}

TEST(AutoGroupKernelCli, RunAndCompare_DefaultToAuto) {
  TempDir dir;
  const std::vector<std::string> decode = with(kSmallRun, {"--no-prefill"});
  EXPECT_EQ(output_of(decode, dir), output_of(with(decode, {"--group-kernel", "auto"}), dir));
  const std::vector<std::string> compare = {"compare",  "--model", "llama2-7b", "--context", "256",
                                            "--prompt", "16",      "--quant",   "int4,q3.5"};
  const nlohmann::json j = json_of(compare, dir);
  for (const nlohmann::json& scheme : j["schemes"]) {
    EXPECT_EQ(scheme["group_kernel"]["prefill"], "two-level") << scheme["quant"];
    EXPECT_EQ(scheme["group_kernel"]["decode"], "per-group") << scheme["quant"];
  }
}

TEST(AutoGroupKernelCli, WithoutPrefill_OnlyTheDecodeKernelIsNamed) {
  TempDir dir;
  const std::vector<std::string> decode = with(kSmallRun, {"--no-prefill"});
  const nlohmann::json j = json_of(decode, dir);
  EXPECT_TRUE(j["group_kernel"]["prefill"].is_null());
  EXPECT_EQ(j["group_kernel"]["decode"], "per-group");
  const std::string text = output_of(decode, dir);
  EXPECT_THAT(line_of(text, "group kernel (decode)"), HasSubstr("per-group"));
  EXPECT_EQ(line_of(text, "group kernel (prefill)"), "");
}

// Every table format of run and compare names the kernel of each phase.
TEST(AutoGroupKernelCli, Reports_NameTheKernelOfEachPhase) {
  TempDir dir;
  const std::string text = output_of(kSmallRun, dir);
  EXPECT_THAT(line_of(text, "group kernel (prefill)"), HasSubstr("two-level"));
  EXPECT_THAT(line_of(text, "group kernel (decode)"), HasSubstr("per-group"));
  const std::string markdown = output_of(with(kSmallRun, {"--format", "markdown"}), dir);
  EXPECT_THAT(markdown, HasSubstr("| group kernel (prefill) | two-level |"));
  EXPECT_THAT(markdown, HasSubstr("| group kernel (decode) | per-group |"));
  const std::string csv = output_of(with(kSmallRun, {"--format", "csv"}), dir);
  EXPECT_THAT(csv, HasSubstr("\ngroup kernel (prefill),two-level,\n"));
  EXPECT_THAT(csv, HasSubstr("\ngroup kernel (decode),per-group,\n"));
  // int8 is per channel: it has no group kernel to name.
  const std::vector<std::string> compare = {"compare",  "--model", "llama2-7b", "--context", "256",
                                            "--prompt", "16",      "--quant",   "int4,int8"};
  const std::string table = output_of(compare, dir);
  EXPECT_THAT(line_of(table, "group kernel (prefill)"), ::testing::MatchesRegex(".* two-level +-"));
  EXPECT_THAT(line_of(table, "group kernel (decode)"), ::testing::MatchesRegex(".* per-group +-"));
}

// int8 per channel and fp16 have no groups: every value of the flag gives the same report, byte
// for byte, and it names no group kernel.
TEST(AutoGroupKernelCli, FormatsWithoutGroups_ReportTheSameWhateverTheFlag) {
  TempDir dir;
  for (const char* quant : {"int8", "fp16"}) {
    const std::vector<std::string> run = {"run",      "--model", "llama2-7b", "--context", "256",
                                          "--prompt", "16",      "--quant",   quant};
    for (const char* format : {"text", "json"}) {
      const std::vector<std::string> args = with(run, {"--format", format});
      const std::string chosen = output_of(args, dir);
      EXPECT_EQ(chosen, output_of(with(args, {"--group-kernel", "per-group"}), dir)) << quant;
      EXPECT_EQ(chosen, output_of(with(args, {"--group-kernel", "two-level"}), dir)) << quant;
      EXPECT_THAT(chosen, Not(HasSubstr("group kernel"))) << quant;
      EXPECT_THAT(chosen, Not(HasSubstr("group_kernel"))) << quant;
    }
  }
  const std::vector<std::string> compare = {"compare",  "--model", "llama2-7b", "--context", "256",
                                            "--prompt", "16",      "--quant",   "int8,fp16"};
  const std::string table = output_of(compare, dir);
  EXPECT_EQ(table, output_of(with(compare, {"--group-kernel", "two-level"}), dir));
  EXPECT_THAT(table, Not(HasSubstr("group kernel")));
}

// int8 with groups of 128 has groups but 8-bit codes, which two-level cannot run: auto keeps
// per-group for the prefill too (two-level asked for explicitly is exit 2).
TEST(AutoGroupKernelCli, EightBitCodesWithGroups_AutoRunsPerGroup) {
  TempDir dir;
  const nlohmann::json j = json_of({"run", "--model", "llama2-7b", "--context", "256", "--prompt",
                                    "16", "--quant", "int8", "--group-size", "128"},
                                   dir);
  EXPECT_EQ(j["group_kernel"], (nlohmann::json{{"prefill", "per-group"}, {"decode", "per-group"}}));
}

TEST(AutoGroupKernelCli, BadValue_IsExit2NamingTheFlagAndItsValues) {
  TempDir dir;
  for (const char* command : {"run", "compare"}) {
    const testing::CliResult r = run_lpusim({command, "--group-kernel", "Auto"}, dir);
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_THAT(r.err, HasSubstr("--group-kernel")) << command;
    EXPECT_THAT(r.err, HasSubstr("expected auto, per-group or two-level, got \"Auto\"")) << command;
  }
  // A single GEMM has no phases: gemm and kernel take per-group or two-level only.
  for (const char* command : {"gemm", "kernel"}) {
    const testing::CliResult r =
        run_lpusim({command, "--k", "256", "--n", "8", "--group-kernel", "auto"}, dir);
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_THAT(r.err, HasSubstr("--group-kernel")) << command;
    EXPECT_THAT(r.err, HasSubstr("expected per-group or two-level")) << command;
  }
}

}  // namespace
}  // namespace lpusim
