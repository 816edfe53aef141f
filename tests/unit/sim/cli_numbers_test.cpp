// The command line's number parsing: integers are read as signed decimals and range-checked (a
// negative value is never wrapped to 2^64 - n), floating values must be finite and in range, and
// every refusal names the flag and the range.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

std::string integer_error(const std::string& text, std::uint64_t min, std::uint64_t max) {
  try {
    parse_integer_flag("--flag", text, min, max);
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(CliNumbers, IntegersInRange_AreParsedExactly) {
  EXPECT_EQ(parse_integer_flag("--f", "0", 0, 10), 0u);
  EXPECT_EQ(parse_integer_flag("--f", "+7", 0, 10), 7u);
  EXPECT_EQ(parse_integer_flag("--f", "-0", 0, 10), 0u);
  EXPECT_EQ(parse_integer_flag("--f", "18446744073709551615", 0, kU64Max), kU64Max);
  EXPECT_EQ(parse_integer_flag("--f", "65536", 1, 65536), 65536u);
}

TEST(CliNumbers, NegativeInteger_IsBelowTheRangeNotWrapped) {
  EXPECT_EQ(integer_error("-1", 0, 100), "--flag: expected a whole number in [0, 100], got \"-1\"");
  EXPECT_THAT(integer_error("-18446744073709551615", 0, kU64Max), HasSubstr("expected"));
}

TEST(CliNumbers, IntegerAboveTheRangeOrPast64Bits_IsRefused) {
  EXPECT_THAT(integer_error("101", 0, 100), HasSubstr("in [0, 100], got \"101\""));
  EXPECT_THAT(integer_error("18446744073709551616", 0, kU64Max),
              HasSubstr("in [0, 18446744073709551615], got \"18446744073709551616\""));
  EXPECT_THAT(integer_error("99999999999999999999999", 0, kU64Max), HasSubstr("expected"));
}

TEST(CliNumbers, TextThatIsNotADecimalInteger_IsRefused) {
  for (const std::string text : {"", "-", "+", "1e3", "0x10", " 1", "1 ", "1.0", "one", "1_000"}) {
    EXPECT_THAT(integer_error(text, 0, 100), HasSubstr("expected a whole number in [0, 100]"))
        << "'" << text << "'";
  }
}

TEST(CliNumbers, FloatingValue_MustBeFiniteAndInRange) {
  EXPECT_DOUBLE_EQ(parse_number_flag("--t", "2.5", 0, 10), 2.5);
  EXPECT_DOUBLE_EQ(parse_number_flag("--t", "1e1", 0, 10), 10.0);
  for (const std::string text : {"nan", "inf", "-inf", "1e400", "-1", "11", "", " 1", "1s"}) {
    try {
      parse_number_flag("--t", text, 0, 10);
      ADD_FAILURE() << "'" << text << "' accepted";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("--t: expected a finite number in [0, 10], got \"" + text))
          << text;
    }
  }
}

}  // namespace
}  // namespace lpusim
