// End-to-end: prefills that do not fit in SRAM at once run in chunks and exit 0 on the default
// chip (long prompts, batched prompts, compare), report their chunking, trace each chunk as its
// own run, and a prompt that does not fit even one token at a time is exit 3 saying why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_lpusim;
using testing::TempDir;

nlohmann::json prefill_of(const std::vector<std::string>& args) {
  TempDir dir;
  std::vector<std::string> json = args;
  json.insert(json.end(), {"--format", "json"});
  const testing::CliResult r = run_lpusim(json, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out).at("prefill") : nlohmann::json();
}

void expect_chunked_above_floors(const nlohmann::json& p) {
  ASSERT_TRUE(p.is_object());
  EXPECT_GT(p.at("chunks").get<int>(), 1);
  EXPECT_GE(p.at("seconds").get<double>(), p.at("bandwidth_floor_s").get<double>());
  EXPECT_GE(p.at("seconds").get<double>(), p.at("mac_floor_s").get<double>());
}

TEST(PrefillChunksCli, LongPromptOnTheDefaultChipRunsInChunks) {
  expect_chunked_above_floors(prefill_of({"run", "--prompt", "1024"}));
}

TEST(PrefillChunksCli, BatchedPromptOnTheDefaultChipRunsInChunks) {
  // Per-group: the two-level prefill of `auto` fits the batch's 128 tokens in one program.
  expect_chunked_above_floors(prefill_of({"run", "--batch", "4", "--group-kernel", "per-group"}));
}

TEST(PrefillChunksCli, Llama2_7bPrompt2048RunsInChunks) {
  const nlohmann::json p = prefill_of({"run", "--model", "llama2-7b", "--prompt", "2048"});
  expect_chunked_above_floors(p);
  EXPECT_EQ(p.at("chunk_tokens").get<int>(),
            (2048 + p.at("chunks").get<int>() - 1) / p.at("chunks").get<int>());
}

TEST(PrefillChunksCli, Llama3_8bPrompt4096RunsInChunks) {
  expect_chunked_above_floors(
      prefill_of({"run", "--model", "llama3-8b", "--prompt", "4096", "--context", "4096"}));
}

TEST(PrefillChunksCli, CompareBatch4ReportsBothFirstTokenLatencies) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"compare", "--batch", "4"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("first-token latency"));
}

TEST(PrefillChunksCli, PromptThatFitsIsOneChunkOfTheWholePrompt) {
  const nlohmann::json p = prefill_of({"run", "--model", "llama2-7b", "--prompt", "64"});
  EXPECT_EQ(p.at("chunks").get<int>(), 1);
  EXPECT_EQ(p.at("chunk_tokens").get<int>(), 64);
}

TEST(PrefillChunksCli, TextReportOfAPromptThatFits_HasNoChunkLine) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"run", "--model", "llama2-7b", "--prompt", "64"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("first-token latency"));
  EXPECT_THAT(r.out, Not(HasSubstr("prefill chunks")));
}

TEST(PrefillChunksCli, TextReportHasTheChunkLine) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--model", "llama2-7b", "--prompt", "64", "--context", "64", "--set",
                  "sram.capacity=10MiB", "--group-kernel", "per-group"},
                 dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("prefill chunks (of 22 tokens per sequence)          3  chunks"));
}

TEST(PrefillChunksCli, EachChunkIsTracedAsItsOwnRun) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--model", "llama2-7b", "--prompt", "64", "--context", "64", "--set",
                  "sram.capacity=10MiB", "--group-kernel", "per-group", "--trace",
                  dir.file("t.json"), "--trace-limit", "1000"},
                 dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string trace = testing::read_file(dir.file("t.json"));
  for (const char* run : {"prefill chunk 1/3 (batch 1, prompt 64, past 0, tokens 22)",
                          "prefill chunk 3/3 (batch 1, prompt 64, past 44, tokens 20)"}) {
    EXPECT_THAT(trace, HasSubstr(run));
  }
}

TEST(PrefillChunksCli, PromptNotFittingOneTokenAtATimeIsExit3NamingNeededAndAvailable) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"run", "--model", "llama2-7b", "--context", "16",
                                           "--prompt", "4096", "--set", "sram.capacity=4MiB"},
                                          dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("does not fit in SRAM even one prompt token per sequence"));
  EXPECT_THAT(r.err, HasSubstr("it needs"));
  EXPECT_THAT(r.err, HasSubstr("but the SRAM holds 4194304 bytes"));
}

}  // namespace
}  // namespace lpusim
