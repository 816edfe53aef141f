// ceil_div and round_up: exact at the edges (zero, exact multiples, the top of the range).
#include "kernels/int_math.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace lpusim {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

static_assert(ceil_div(7, 2) == 4, "ceil_div is usable in constant expressions");

TEST(CeilDiv, RoundsUpOnlyWhenThereIsARemainder) {
  EXPECT_EQ(ceil_div(0, 5), 0u);
  EXPECT_EQ(ceil_div(1, 5), 1u);
  EXPECT_EQ(ceil_div(5, 5), 1u);
  EXPECT_EQ(ceil_div(6, 5), 2u);
  EXPECT_EQ(ceil_div(10, 5), 2u);
  EXPECT_EQ(ceil_div(9, 1), 9u);
  EXPECT_EQ(ceil_div(3, 7), 1u);
}

TEST(CeilDiv, NeverOverflowsAtTheTopOfTheRange) {
  // (a + b - 1) / b would wrap for these.
  EXPECT_EQ(ceil_div(kMax, 1), kMax);
  EXPECT_EQ(ceil_div(kMax, 2), std::uint64_t{1} << 63);  // 2^64 - 1 is odd: (2^64 - 1 + 1) / 2
  EXPECT_EQ(ceil_div(kMax, kMax), 1u);
  EXPECT_EQ(ceil_div(kMax - 1, kMax), 1u);
}

TEST(RoundUp, GivesTheNextMultipleOrTheValueItself) {
  EXPECT_EQ(round_up(0, 8), 0u);
  EXPECT_EQ(round_up(7, 8), 8u);
  EXPECT_EQ(round_up(8, 8), 8u);
  EXPECT_EQ(round_up(9, 8), 16u);
}

}  // namespace
}  // namespace lpusim
