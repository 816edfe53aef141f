// `lpusim compare --no-prefill` simulates the decode steps only, as `lpusim run --no-prefill`
// does: no scheme has a prefill, the first-token latency is null in JSON and "-" in the table, and
// the decode numbers are those of the run with the prefill.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kSmallCompare = {"compare",   "--model", "llama2-7b",
                                                "--context", "256",     "--prompt",
                                                "16",        "--quant", "int4,q3.5"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(CompareNoPrefillCli, Json_HasNoPrefill_AndTheSameDecodeSteps) {
  TempDir dir;
  const testing::CliResult decode_only =
      run_lpusim(with(kSmallCompare, {"--no-prefill", "--format", "json"}), dir);
  ASSERT_EQ(decode_only.exit_code, 0) << decode_only.err;
  const testing::CliResult both = run_lpusim(with(kSmallCompare, {"--format", "json"}), dir);
  ASSERT_EQ(both.exit_code, 0) << both.err;
  const nlohmann::json a = nlohmann::json::parse(decode_only.out);
  const nlohmann::json b = nlohmann::json::parse(both.out);
  ASSERT_EQ(a["schemes"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    EXPECT_FALSE(a["schemes"][i].contains("prefill"));
    EXPECT_TRUE(a["schemes"][i]["first_token_latency_s"].is_null());
    EXPECT_TRUE(b["schemes"][i].contains("prefill"));
    EXPECT_EQ(a["schemes"][i]["per_token_latency_s"], b["schemes"][i]["per_token_latency_s"]);
  }
}

TEST(CompareNoPrefillCli, Table_ShowsADashForTheFirstTokenLatencyAndItsChange) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim(with(kSmallCompare, {"--no-prefill", "--format", "csv"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nfirst-token latency,ms,-,-,-\n"));
  EXPECT_THAT(r.out, HasSubstr("\nper-token latency,ms,"));
}

}  // namespace
}  // namespace lpusim
