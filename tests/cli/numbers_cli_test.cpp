// Numbers on the command line and in configs that cannot be represented: negative or too large
// integer flags, non-finite floating flags, out-of-range config values and runs whose simulated
// time overflows 64-bit femtoseconds all exit 2 or 3 with a message naming the flag or key and
// its range, never a wrapped number with exit 0 or a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::CliResult;
using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

struct Case {
  std::vector<std::string> args;
  int exit_code;
  std::string message;
};

void expect_refused(const Case& c) {
  TempDir dir;
  const CliResult r = run_lpusim(c.args, dir);
  EXPECT_EQ(r.exit_code, c.exit_code) << c.args.at(1) << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args.at(1);
  EXPECT_EQ(r.out, "") << c.args.at(1);
}

TEST(NumbersCli, NegativeIntegerFlags_AreExit2NotWrapped) {
  for (const Case& c : std::vector<Case>{
           {{"run", "--context", "-1"},
            2,
            "--context: expected a whole number in [0, 2147483646], got \"-1\""},
           {{"run", "--batch", "-1"},
            2,
            "--batch: expected a whole number in [1, 65536], got \"-1\""},
           {{"gemm", "--k", "-4", "--n", "64"},
            2,
            "--k: expected a whole number in [1, 2147483647], got \"-4\""},
           {{"sweep", "configs/sweeps/example.yaml", "--jobs", "-1", "--dry-run"},
            2,
            "--jobs: expected a whole number in [1, 1024], got \"-1\""},
           {{"run", "--group-size", "-1"},
            2,
            "--group-size: expected \"per-channel\" or a whole number in [1, 2147483647]"},
       }) {
    expect_refused(c);
  }
}

TEST(NumbersCli, IntegerFlagsAboveTheirRange_AreExit2) {
  for (const Case& c : std::vector<Case>{
           {{"gemm", "--seed", "18446744073709551616", "--k", "64", "--n", "64"},
            2,
            "--seed: expected a whole number in [0, 18446744073709551615]"},
           {{"run", "--prompt", "2147483648"}, 2, "--prompt: expected a whole number in [1, "},
           {{"run", "--batch", "65537"}, 2, "--batch: expected a whole number in [1, 65536]"},
           {{"gemm", "--m", "2147483648", "--k", "64", "--n", "64"}, 2, "--m: expected"},
           {{"sweep", "configs/sweeps/example.yaml", "--jobs", "1025", "--dry-run"},
            2,
            "--jobs: expected a whole number in [1, 1024]"},
           {{"run", "--batch", "1e3"}, 2, "--batch: expected a whole number"},
           {{"timeline", "t.json", "-o", "t.svg", "--width", "-5"},
            2,
            "--width: expected a whole number in [400, 100000], got \"-5\""},
       }) {
    expect_refused(c);
  }
}

TEST(NumbersCli, LargestSeed_IsAccepted) {
  TempDir dir;
  const CliResult r = run_lpusim(
      {"gemm", "--seed", "18446744073709551615", "--k", "64", "--n", "64", "--functional"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(NumbersCli, NonFiniteFloatingFlag_IsExit2) {
  for (const std::string value : {"nan", "inf", "-1", "1e400", "5s"}) {
    expect_refused({{"sweep", "configs/sweeps/example.yaml", "--timeout", value, "--dry-run"},
                    2,
                    "--timeout: expected a finite number in [0, 604800], got \"" + value + "\""});
  }
}

TEST(NumbersCli, MillionLayers_IsExit2NotBadAlloc) {
  TempDir dir;
  const std::string model = dir.file("big.yaml");
  std::FILE* f = std::fopen(model.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(
      "name: big\nhidden: 256\nffn: 512\nlayers: 1000000\nheads: 4\nkv_heads: 2\nhead_dim: 64\n"
      "vocab: 1000\nmax_context: 4096\nnorm: rmsnorm\nmlp: swiglu\nposition: rope\n"
      "tied_embeddings: false\n",
      f);
  std::fclose(f);
  expect_refused({{"run", "--model", model},
                  2,
                  "big.yaml:4: layers: expected a whole number in [1, 1024], got \"1000000\""});
}

TEST(NumbersCli, ClockAboveTheRange_IsExit2NotSigfpe) {
  expect_refused({{"run", "--set", "clock=3e15 Hz"},
                  2,
                  "--set: clock: expected a frequency in [1 kHz, 100 GHz], got \"3e15 Hz\""});
}

TEST(NumbersCli, RunOutlastingTheTimeLimit_IsExit3NamingTheOverflow) {
  expect_refused({{"run", "--model", "llama2-70b", "--quant", "int4", "--no-prefill", "--set",
                   "memory.bandwidth=2 MB/s"},
                  3,
                  "simulated time exceeds the representable 18,446 s"});
}

TEST(NumbersCli, SlowestClock_NeverReportsZeroCycles) {
  // At 1 kHz the default run needs more than 18,446 s: an overflow, not "0 cycles" with exit 0.
  expect_refused({{"run", "--set", "clock=1 kHz"}, 3, "simulated time exceeds"});
  TempDir dir;
  const CliResult r = run_lpusim(
      {"gemm", "--k", "64", "--n", "64", "--set", "clock=1 kHz", "--format", "json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("\"cycles\": 0")));
}

TEST(NumbersCli, HugeEnergyCoefficients_AreRefusedNotInfinite) {
  expect_refused({{"run", "--set", "energy.static=1e300 W"},
                  2,
                  "energy.static: expected a power in [0, 1000000 W]"});
}

}  // namespace
}  // namespace lpusim
