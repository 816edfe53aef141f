// The busy and waiting percentages `lpusim timeline` prints, checked against a hand-written
// Chrome trace whose slices add up to round percentages of the time shown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"
#include "traces/chrome_trace.h"
#include "traces/timeline_svg.h"

namespace lpusim {
namespace {

using testing::TempDir;

constexpr Femtoseconds kUs = 1'000'000'000;

std::string slice(int tid, const char* cat, int ts_us, int dur_us) {
  return "{\"ph\":\"X\",\"name\":\"op\",\"cat\":\"" + std::string(cat) +
         "\",\"pid\":1,\"tid\":" + std::to_string(tid) + ",\"ts\":" + std::to_string(ts_us) +
         ",\"dur\":" + std::to_string(dur_us) + "}";
}

// Run 1 spans [0, 100) us: the memory channel carries data from 5 us to 100 us, MXM computes
// [10, 90), VXM [0, 20) and [30, 40) with a WAIT over [20, 30), the mem queue issues for 1 us.
// A slice of run 2 lies outside and must not count.
std::string hand_trace(const TempDir& dir) {
  const std::vector<std::string> events = {
      "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"hand run\"}}",
      slice(busy_track(Unit::kMem), "issue", 0, 1),
      slice(busy_track(Unit::kVxm), "vector", 0, 20),
      slice(sync_track(Unit::kVxm), "wait", 20, 10),
      slice(busy_track(Unit::kVxm), "vector", 30, 10),
      slice(busy_track(Unit::kMxm), "matmul", 10, 80),
      slice(kTrackMemoryChannel, "transfer", 5, 95),
      "{\"ph\":\"X\",\"name\":\"op\",\"cat\":\"matmul\",\"pid\":2,\"tid\":5,\"ts\":0,\"dur\":500}",
  };
  std::string text = "{\"traceEvents\":[";
  for (std::size_t i = 0; i < events.size(); ++i) text += (i ? ",\n" : "\n") + events[i];
  text += "\n],\"otherData\":{}}\n";
  const std::string path = dir.file("hand.json");
  std::ofstream(path) << text;
  return path;
}

// The "busy N%" and "waiting N%" labels, in row order (mem, vxm, mxm, memory channel).
std::vector<std::string> labels(const std::string& svg, const char* word) {
  std::vector<std::string> out;
  const std::regex re(std::string(">") + word + " ([0-9.]+)%<");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

TEST(TimelineDerived, BusyPercentages_AreSliceTimeOverTheTraceExtent) {
  TempDir dir;
  const std::string svg = render_timeline_svg(hand_trace(dir), TimelineOptions{});
  // extent [0, 100) us: mem 1/100, vxm 30/100, mxm 80/100, channel 95/100
  EXPECT_EQ(labels(svg, "busy"), (std::vector<std::string>{"1.0", "30.0", "80.0", "95.0"}));
  // waiting rows exist for the three queues only: vxm waited 10 of 100 us
  EXPECT_EQ(labels(svg, "waiting"), (std::vector<std::string>{"0.0", "10.0", "0.0"}));
  EXPECT_THAT(svg, ::testing::HasSubstr("hand run"));
}

TEST(TimelineDerived, Window_CountsOnlyTheTimeInsideIt) {
  TempDir dir;
  TimelineOptions o;
  o.from_fs = 50 * kUs;
  o.to_fs = 100 * kUs;
  const std::string svg = render_timeline_svg(hand_trace(dir), o);
  // [50, 100): mxm [50, 90) = 40/50, channel 50/50, vxm and mem nothing
  EXPECT_EQ(labels(svg, "busy"), (std::vector<std::string>{"0.0", "0.0", "80.0", "100.0"}));
}

TEST(TimelineDerived, Span_SetsTheAxisLengthFromTheStart) {
  TempDir dir;
  TimelineOptions o;
  o.span_fs = 200 * kUs;
  const std::string svg = render_timeline_svg(hand_trace(dir), o);
  // the axis is [0, 200): every percentage halves
  EXPECT_EQ(labels(svg, "busy"), (std::vector<std::string>{"0.5", "15.0", "40.0", "47.5"}));
}

TEST(TimelineDerived, SpanFromALaterStart_EndsSpanAfterIt) {
  TempDir dir;
  TimelineOptions o;
  o.from_fs = 50 * kUs;
  o.span_fs = 100 * kUs;
  const std::string svg = render_timeline_svg(hand_trace(dir), o);
  // the axis is [50, 150): mxm [50, 90) = 40/100, channel [50, 100) = 50/100
  EXPECT_EQ(labels(svg, "busy"), (std::vector<std::string>{"0.0", "0.0", "40.0", "50.0"}));
}

TEST(TimelineDerived, OtherProcess_IsDrawnOnItsOwn) {
  TempDir dir;
  TimelineOptions o;
  o.process = 2;
  const std::string svg = render_timeline_svg(hand_trace(dir), o);
  EXPECT_EQ(labels(svg, "busy"), (std::vector<std::string>{"0.0", "0.0", "100.0", "0.0"}));
}

TEST(TimelineDerived, FullyBusyRow_IsOneFullHeightBarAcrossThePlot) {
  TempDir dir;
  TimelineOptions o;
  o.process = 2;
  o.width_px = 400;  // plot 400 - 130 - 170 = 100 px
  const std::string svg = render_timeline_svg(hand_trace(dir), o);
  // mxm is the third row: y = 56 + 2 x (36 + 12) = 152, its bar 36 px high from x 130, 100 wide
  EXPECT_THAT(svg, ::testing::HasSubstr("<rect x=\"130\" y=\"152\" width=\"100\" height=\"36\" "
                                        "fill=\"#59a14f\"/>"));
}

}  // namespace
}  // namespace lpusim
