// Results CSV caps: a line or a row's field count past its cap is refused at path:line, and a file
// that is not regular is refused before any read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>

#include "kernels/error.h"
#include "sim/sweep/sweep_results.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

const std::string kHeader = "point,hash,status\n";

std::string error_of(const std::string& text) {
  try {
    parse_results("r.csv", text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ResultsLimits, LineAtTheCap_IsReadAndOnePastIsRefused) {
  const std::string at_cap = "0,aa," + std::string(ResultsLimits::kMaxLineBytes - 5, 'x') + "\n";
  const ResultsTable table = parse_results("r.csv", kHeader + at_cap);
  ASSERT_EQ(table.rows.size(), 1u);
  const std::string past = "0,aa," + std::string(ResultsLimits::kMaxLineBytes - 4, 'x') + "\n";
  EXPECT_THAT(error_of(kHeader + past),
              HasSubstr("r.csv:2: expected a line of at most 1048576 bytes, got 1048577"));
}

TEST(ResultsLimits, TooManyColumns_AreRefused) {
  EXPECT_THAT(error_of(std::string(ResultsLimits::kMaxColumns, ',') + "\n"),
              HasSubstr("r.csv:1: expected at most 4096 fields, got 4097"));
}

TEST(ResultsLimits, DevZeroAndFifo_AreRefusedWithoutReading) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("p.csv").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& path : {std::string("/dev/zero"), dir.file("p.csv")}) {
    try {
      read_results(path);
      ADD_FAILURE() << path << " was read";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path + ": is a"));
      EXPECT_THAT(e.what(), HasSubstr("expected a regular results CSV"));
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace lpusim
