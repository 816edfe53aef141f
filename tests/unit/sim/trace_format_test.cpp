// Trace basics without a chip: femtoseconds printed as exact microseconds and read back, layer
// numbers of tags, window overlap, and the parsing of --trace-window and --trace-layers.
#include <gtest/gtest.h>

#include "kernels/error.h"
#include "sim/cli/trace_options.h"
#include "traces/trace_filter.h"

namespace lpusim {
namespace {

TEST(TraceTime, Microseconds_AreExactToTheFemtosecondWithoutTrailingZeros) {
  EXPECT_EQ(microseconds_text(0), "0");
  EXPECT_EQ(microseconds_text(1), "0.000000001");
  EXPECT_EQ(microseconds_text(1'111'111), "0.001111111");  // one cycle at 900 MHz
  EXPECT_EQ(microseconds_text(2'000'000'000), "2");
  EXPECT_EQ(microseconds_text(12'500'000'000), "12.5");
  EXPECT_EQ(microseconds_text(411'045'343'999'764'000ull), "411045343.999764");
}

TEST(TraceTime, ParsedMicroseconds_RoundTripEveryFormattedValue) {
  for (Femtoseconds fs : {0ull, 1ull, 999ull, 1'111'111ull, 2'000'000'000ull, 12'345'678'901'234ull,
                          411'045'343'999'764ull}) {
    EXPECT_EQ(parse_microseconds(microseconds_text(fs)), fs) << fs;
  }
  EXPECT_EQ(parse_microseconds("1e-3"), 1'000'000u);
  EXPECT_EQ(parse_microseconds("0.0000000014"), 1u);  // beyond femtoseconds: rounded
  EXPECT_EQ(parse_microseconds("0.0000000016"), 2u);
  EXPECT_FALSE(parse_microseconds("-1"));
  EXPECT_FALSE(parse_microseconds("1.2.3"));
}

TEST(TraceFilter, LayerOfTag_ReadsTheNumberAfterLayer) {
  EXPECT_EQ(layer_of_tag("layer12.mlp.down"), 12);
  EXPECT_EQ(layer_of_tag("layer0.attn.q"), 0);
  EXPECT_EQ(layer_of_tag("layer7"), 7);
  EXPECT_FALSE(layer_of_tag("lm_head"));
  EXPECT_FALSE(layer_of_tag("embedding"));
  EXPECT_FALSE(layer_of_tag("layerx.mlp"));
  EXPECT_FALSE(layer_of_tag(""));
}

TEST(TraceFilter, LayerRange_SelectsOnlyTaggedLayersInsideIt) {
  TraceFilter f;
  EXPECT_TRUE(f.selects_layer(std::nullopt));
  f.layers = LayerRange{3, 5};
  EXPECT_FALSE(f.selects_layer(std::nullopt));
  EXPECT_FALSE(f.selects_layer(2));
  EXPECT_TRUE(f.selects_layer(3));
  EXPECT_TRUE(f.selects_layer(5));
  EXPECT_FALSE(f.selects_layer(6));
}

TEST(TraceFilter, Window_HoldsSlicesThatOverlapIt) {
  const TimeWindow w{100, 200};
  EXPECT_FALSE(w.overlaps(50, 100));  // ends where the window starts
  EXPECT_TRUE(w.overlaps(50, 101));
  EXPECT_TRUE(w.overlaps(199, 300));
  EXPECT_FALSE(w.overlaps(200, 300));  // starts where the window ends
  EXPECT_TRUE(w.overlaps(150, 150));   // zero length, inside
  EXPECT_TRUE(w.overlaps(100, 100));
  EXPECT_FALSE(w.overlaps(200, 200));
}

TEST(TraceOptions, Window_ParsesTimesWithUnitsAndOpenEnds) {
  const Hertz ghz{1e9};
  const TimeWindow w = parse_trace_window("10us:20us", ghz);
  EXPECT_EQ(w.from_fs, 10'000'000'000u);
  EXPECT_EQ(w.to_fs, 20'000'000'000u);
  EXPECT_EQ(parse_trace_window(":5 ms", ghz).from_fs, 0u);
  EXPECT_EQ(parse_trace_window(":5 ms", ghz).to_fs, 5'000'000'000'000u);
  EXPECT_EQ(parse_trace_window("1ms:", ghz).to_fs, kEndOfTime);
  EXPECT_EQ(parse_trace_window("90 cycles:100 cycles", ghz).from_fs, 90'000'000u);
}

TEST(TraceOptions, BadWindow_IsAnInputErrorNamingTheFlag) {
  const Hertz ghz{1e9};
  for (const char* bad : {"10us", "20us:10us", "5us:5us", "a:b", "1us:2us:3us", "-1us:2us"}) {
    try {
      parse_trace_window(bad, ghz);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--trace-window"), std::string::npos) << e.what();
    }
  }
}

TEST(TraceOptions, Layers_ParseARangeOrOneLayer) {
  EXPECT_EQ(parse_trace_layers("3-5").first, 3);
  EXPECT_EQ(parse_trace_layers("3-5").last, 5);
  EXPECT_EQ(parse_trace_layers("7").first, 7);
  EXPECT_EQ(parse_trace_layers("7").last, 7);
  for (const char* bad : {"5-3", "x", "1-", "-1", ""}) {
    EXPECT_THROW(parse_trace_layers(bad), InputError) << bad;
  }
}

}  // namespace
}  // namespace lpusim
