// FNV-1a 64 against the published test vectors, so sweep hashes are the same on every machine.
#include "sim/sweep/sweep_hash.h"

#include <gtest/gtest.h>

namespace lpusim {
namespace {

TEST(Fnv1a64, MatchesThePublishedTestVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Fnv1a64, BytesAbove127_HashAsUnsigned) {
  EXPECT_NE(fnv1a64("\xff"), fnv1a64("\x7f"));
  EXPECT_EQ(fnv1a64("\xff"), (0xcbf29ce484222325ULL ^ 0xffULL) * 0x100000001b3ULL);
}

TEST(Hex64, IsSixteenLowerCaseDigits_ZeroPadded) {
  EXPECT_EQ(hex64(0), "0000000000000000");
  EXPECT_EQ(hex64(0xaf63dc4c8601ec8cULL), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace lpusim
