// `memory.capacity` from the command line: the run reports memory_footprint_bytes, a capacity at
// that footprint runs, one below it is exit 3 naming what is needed, and no trace is written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kRun = {"run",      "--model",  "llama2-7b", "--context", "256",
                                       "--prompt", "16",       "--quant",   "int4",      "--batch",
                                       "2",        "--format", "json"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(MemoryCapacityCli, FootprintIsReported_ACapacityBelowItIsExit3_AtItRuns) {
  TempDir dir;
  const testing::CliResult open = run_lpusim(kRun, dir);
  ASSERT_EQ(open.exit_code, 0) << open.err;
  const auto need = nlohmann::json::parse(open.out)["memory_footprint_bytes"].get<std::uint64_t>();
  // llama2-7b in int4 g128 is about 3.9 GB; the cache of 2 x 257 positions adds about 0.27 GB.
  EXPECT_GT(need, 3'500'000'000u);
  EXPECT_LT(need, 5'000'000'000u);

  const std::string out = dir.file("r.json");
  const testing::CliResult short_by_one = run_lpusim(
      with(kRun, {"--set", "memory.capacity=" + std::to_string(need - 1) + " B", "--trace", out}),
      dir);
  EXPECT_EQ(short_by_one.exit_code, 3) << short_by_one.err;
  EXPECT_THAT(short_by_one.err, HasSubstr("needs " + std::to_string(need) + " bytes"));
  EXPECT_THAT(short_by_one.err, HasSubstr("memory.capacity"));
  EXPECT_FALSE(std::filesystem::exists(out));

  const testing::CliResult exact =
      run_lpusim(with(kRun, {"--set", "memory.capacity=" + std::to_string(need) + " B"}), dir);
  EXPECT_EQ(exact.exit_code, 0) << exact.err;
}

}  // namespace
}  // namespace lpusim
