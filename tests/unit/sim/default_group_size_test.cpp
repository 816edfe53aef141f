// The group size of a run that asks for none: per channel for int8, whose 8-bit codes need no
// finer scale, and 128 for the sub-byte formats; an explicit --group-size wins; and every report
// names the group size it used.
#include <gtest/gtest.h>

#include "kernels/format.h"
#include "sim/llm/workload_options.h"

namespace lpusim {
namespace {

TEST(DefaultGroupSize, Int8_IsPerChannel_SubByteFormatsAre128) {
  EXPECT_EQ(default_group_size(parse_format("int8")), kPerChannel);
  for (const char* format : {"int4", "q3.5", "q3.5-b8", "q3", "q2.5"}) {
    EXPECT_EQ(default_group_size(parse_format(format)), 128) << format;
  }
}

TEST(DefaultGroupSize, AnOptionsSpecWithNoGroupSize_TakesTheFormatsDefault) {
  LlmOptions options;
  options.model = "llama2-7b";
  EXPECT_EQ(options.spec("int8").group_size, kPerChannel);
  EXPECT_EQ(options.spec("q3.5").group_size, 128);
}

TEST(DefaultGroupSize, AnExplicitGroupSize_Wins) {
  LlmOptions options;
  options.model = "llama2-7b";
  options.group_size = "64";
  EXPECT_EQ(options.spec("int8").group_size, 64);
  options.group_size = "per-channel";
  EXPECT_EQ(options.spec("int4").group_size, kPerChannel);
}

TEST(DefaultGroupSize, Labels_AreGAndTheSizeOrPerChannel) {
  EXPECT_EQ(group_size_label(128), "g128");
  EXPECT_EQ(group_size_label(kPerChannel), "per-channel");
}

}  // namespace
}  // namespace lpusim
