// The trace reader on hostile traces: times outside the simulated time range, otherData fields of
// the wrong type, deep nesting, over-long tokens and whitespace padding are refused (InputError
// naming the file, and the event or field) or read in bounded memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <fstream>
#include <string>

#include "kernels/error.h"
#include "tests/support/cli_runner.h"
#include "traces/trace_reader.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

const std::string kEvent =
    R"({"ph":"X","name":"LOAD","cat":"issue","ts":1.5,"dur":2,"pid":1,"tid":1})";

std::string trace_with(const std::string& events, const std::string& other = "{}") {
  return "{\"traceEvents\":[" + events + "],\"otherData\":" + other + "}";
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The message of the InputError that reading `text` as a trace throws ("" if none).
std::string error_of(const std::string& text) {
  TempDir dir;
  write(dir.file("t.json"), text);
  try {
    read_chrome_trace(dir.file("t.json"), [](const TraceEvent&) {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceInput, PlainEvent_ReadsExactFemtoseconds) {
  TempDir dir;
  write(dir.file("t.json"), trace_with(kEvent, R"({"truncated":false,"selection":"everything"})"));
  std::vector<TraceEvent> events;
  const nlohmann::json other =
      read_chrome_trace(dir.file("t.json"), [&](const TraceEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ts, 1'500'000'000u);
  EXPECT_EQ(events[0].dur, 2'000'000'000u);
  EXPECT_EQ(other["selection"], "everything");
}

TEST(TraceInput, TsOfUint64Max_IsRefusedNamingTheEvent) {
  const std::string message =
      error_of(trace_with(kEvent + R"(,{"ph":"X","name":"A","ts":18446744073709551615,"dur":1})"));
  EXPECT_THAT(message, HasSubstr("traceEvents[1]: ts: expected a time in microseconds from 0 to "
                                 "18446744073.709551615"));
  EXPECT_THAT(message, HasSubstr("got 18446744073709551615"));
}

TEST(TraceInput, LargestRepresentableTs_IsAccepted) {
  EXPECT_EQ(error_of(trace_with(R"({"ph":"X","ts":18446744073.709551615,"dur":0})")), "");
}

TEST(TraceInput, TsPlusDurPastTheTimeRange_IsRefused) {
  EXPECT_THAT(error_of(trace_with(R"({"ph":"X","ts":18446744073.7,"dur":1})")),
              HasSubstr("traceEvents[0]: ts + dur: the event ends after"));
}

TEST(TraceInput, NegativeOrHugeFloatTimes_AreRefused) {
  EXPECT_THAT(error_of(trace_with(R"({"ph":"X","ts":-1,"dur":1})")), HasSubstr("ts: expected"));
  EXPECT_THAT(error_of(trace_with(R"({"ph":"X","ts":1,"dur":1e300})")),
              HasSubstr("dur: expected a time"));
}

TEST(TraceInput, PidOutOfIntRange_IsRefused) {
  EXPECT_THAT(error_of(trace_with(R"({"ph":"X","ts":1,"dur":1,"pid":4294967297})")),
              HasSubstr("pid: expected an integer from 0 to 2147483647"));
}

TEST(TraceInput, OtherDataOfTheWrongType_IsRefusedNamingTheField) {
  EXPECT_THAT(error_of(trace_with(kEvent, R"({"truncated":"yes"})")),
              HasSubstr("t.json: otherData.truncated: expected true or false, got \"yes\""));
  EXPECT_THAT(error_of(trace_with(kEvent, R"({"selection":3})")),
              HasSubstr("otherData.selection: expected a string, got 3"));
  EXPECT_THAT(error_of(trace_with(kEvent, R"({"merge":null})")),
              HasSubstr("otherData.merge: expected true or false"));
}

TEST(TraceInput, TooManyOtherDataFields_AreRefused) {
  std::string other = "{";
  for (int i = 0; i < 257; ++i) other += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  EXPECT_THAT(error_of(trace_with(kEvent, other + "}")),
              HasSubstr("otherData: more than 256 fields"));
}

TEST(TraceInput, DeepNesting_IsRefusedAtItsByte) {
  const std::string deep = "{\"traceEvents\":[],\"x\":" + std::string(100, '[');
  const std::string message = error_of(deep);
  EXPECT_THAT(message, HasSubstr("nested deeper than 32 levels"));
  EXPECT_THAT(message, HasSubstr("at byte "));
}

TEST(TraceInput, OverLongString_IsRefused) {
  const std::string name(70'000, 'a');
  EXPECT_THAT(error_of(trace_with(R"({"ph":"X","name":")" + name + "\"}")),
              HasSubstr("a token (string or number) longer than 65536 bytes"));
}

TEST(TraceInput, SyntaxError_GivesTheByte) {
  EXPECT_THAT(error_of("{\"traceEvents\":[\n\n   {]}"), HasSubstr("at byte 22"));
}

TEST(TraceInput, FifoAndDevice_AreRefusedWithoutReading) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("p").c_str(), 0600), 0);
  for (const std::string& path : {dir.file("p"), std::string("/dev/zero")}) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(read_chrome_trace(path, [](const TraceEvent&) {}), InputError) << path;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
}

TEST(TraceInput, OneWhitespaceRunPastTheCap_IsRefused) {
  EXPECT_THAT(error_of(trace_with(kEvent + std::string((1 << 20) + 1, ' '))),
              HasSubstr("a whitespace longer than 1048576 bytes"));
}

// 256 MB of padding, gzip-compressed to well under 1 MB, between events: the whole trace reads
// while the process's peak memory grows by far less than the padding.
TEST(TraceInput, WhitespacePaddedTrace_ReadsInBoundedMemory) {
  TempDir dir;
  const std::string path = dir.file("t.json.gz");
  gzFile gz = gzopen(path.c_str(), "wb1");
  ASSERT_NE(gz, nullptr);
  const std::string head = "{\"traceEvents\":[" + kEvent;
  gzwrite(gz, head.data(), static_cast<unsigned>(head.size()));
  const std::string padding((1 << 20) - 1, '\n');
  constexpr int kRuns = 256;
  for (int i = 0; i < kRuns; ++i) {
    gzwrite(gz, padding.data(), static_cast<unsigned>(padding.size()));
    const std::string more = "," + kEvent;
    gzwrite(gz, more.data(), static_cast<unsigned>(more.size()));
  }
  const std::string tail = "]}";
  gzwrite(gz, tail.data(), static_cast<unsigned>(tail.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);

  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  int events = 0;
  read_chrome_trace(path, [&](const TraceEvent&) { ++events; });
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(events, kRuns + 1);
  const long grown_kb = after.ru_maxrss - before.ru_maxrss;  // Linux: kilobytes
  EXPECT_LT(grown_kb, 32 * 1024) << "peak memory grew by " << grown_kb << " KB";
}

}  // namespace
}  // namespace lpusim
