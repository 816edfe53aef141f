// One case per hostile input to lpusim's readers: each exits 2 within seconds with a message that
// names the file (and the line, byte, event, field or flag), never hangs, crashes or exits 1.
// The small inputs live in tests/data/hostile/ (also seeds for fuzzing).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::CliResult;
using ::testing::HasSubstr;
using testing::TempDir;

const std::string kHostile = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/hostile/";

// Runs lpusim and checks it ended with exit 2 within 10 s (the limit for a slow CI machine; each
// case takes well under a second here).
CliResult run_bad(const std::vector<std::string>& args, const TempDir& dir) {
  const auto start = std::chrono::steady_clock::now();
  CliResult r = testing::run_lpusim(args, dir);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("internal error")));
  return r;
}

// A minimal valid trace: one busy slice of the `mem` row of run 1.
std::string valid_trace(const TempDir& dir) {
  std::ofstream(dir.file("t.json"))
      << R"({"traceEvents":[{"ph":"X","name":"LOAD","cat":"issue","ts":0,"dur":5,"pid":1,)"
      << R"("tid":1}],"otherData":{}})";
  return dir.file("t.json");
}

TEST(HostileInput, ExecOfDevZero_IsRefusedNotReadForever) {
  TempDir dir;
  EXPECT_THAT(run_bad({"exec", "/dev/zero"}, dir).err,
              HasSubstr("/dev/zero: is a character device; expected a regular .lpuasm program"));
}

TEST(HostileInput, MergeOfDevZero_IsRefusedNotReadForever) {
  TempDir dir;
  EXPECT_THAT(run_bad({"merge", "/dev/zero", "-o", dir.file("all.csv")}, dir).err,
              HasSubstr("/dev/zero: is a character device; expected a regular results CSV"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("all.csv")));
}

TEST(HostileInput, ExecOfAFifo_DoesNotBlockOnOpen) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("k.lpuasm").c_str(), 0600), 0);
  EXPECT_THAT(run_bad({"exec", dir.file("k.lpuasm")}, dir).err, HasSubstr("is a FIFO"));
}

TEST(HostileInput, HwConfigOfDevZero_IsRefused) {
  TempDir dir;
  EXPECT_THAT(run_bad({"run", "--hw", "/dev/zero"}, dir).err,
              HasSubstr("/dev/zero: is a character device; expected a regular YAML config"));
}

TEST(HostileInput, SweepFileThatIsADirectory_IsRefused) {
  TempDir dir;
  EXPECT_THAT(run_bad({"sweep", dir.path().string(), "-o", dir.file("r.csv")}, dir).err,
              HasSubstr("is a directory; expected a regular sweep file"));
}

TEST(HostileInput, YamlSyntaxError_GivesLineAndColumn) {
  TempDir dir;
  EXPECT_THAT(run_bad({"run", "--hw", kHostile + "bad_syntax.yaml"}, dir).err,
              HasSubstr("bad_syntax.yaml:3: invalid YAML at line 3, column 1"));
}

TEST(HostileInput, SemaphoreInitOfInt32Max_IsRefusedAtItsLine) {
  TempDir dir;
  EXPECT_THAT(run_bad({"exec", kHostile + "sem_init_huge.lpuasm"}, dir).err,
              HasSubstr("sem_init_huge.lpuasm:2: .sem: init: expected at most 65535, got "
                        "2147483647"));
}

TEST(HostileInput, TraceTsOfUint64Max_IsRefusedNotDrawnForever) {
  TempDir dir;
  const CliResult r =
      run_bad({"timeline", kHostile + "trace_huge_ts.json", "-o", dir.file("t.svg")}, dir);
  EXPECT_THAT(r.err, HasSubstr("trace_huge_ts.json: not a valid trace at byte "));
  EXPECT_THAT(r.err, HasSubstr("traceEvents[1]: ts: expected a time in microseconds"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("t.svg")));
}

TEST(HostileInput, TraceOtherDataOfTheWrongType_IsExit2NamingTheField) {
  TempDir dir;
  EXPECT_THAT(
      run_bad({"timeline", kHostile + "trace_other_data_types.json", "-o", dir.file("t.svg")}, dir)
          .err,
      HasSubstr("otherData.selection: expected a string, got 3"));
}

TEST(HostileInput, TraceNestedTooDeep_IsRefused) {
  TempDir dir;
  EXPECT_THAT(
      run_bad({"timeline", kHostile + "trace_deep_nesting.json", "-o", dir.file("t.svg")}, dir).err,
      HasSubstr("nested deeper than 32 levels"));
}

TEST(HostileInput, TimelineWidthOutOfRange_IsExit2WithTheRange) {
  TempDir dir;
  const std::string trace = valid_trace(dir);
  for (const std::string width : {"2147483647", "-5", "399", "100001", "12px", ""}) {
    EXPECT_THAT(run_bad({"timeline", trace, "-o", dir.file("t.svg"), "--width", width}, dir).err,
                HasSubstr("--width: expected a whole number in [400, 100000], got \"" + width))
        << width;
  }
  EXPECT_EQ(testing::run_lpusim({"timeline", trace, "-o", dir.file("t.svg"), "--width", "400"}, dir)
                .exit_code,
            0);
}

TEST(HostileInput, TimelineProcessOutOfRange_IsExit2) {
  TempDir dir;
  EXPECT_THAT(
      run_bad({"timeline", valid_trace(dir), "-o", dir.file("t.svg"), "--process", "-1"}, dir).err,
      HasSubstr("--process: expected a whole number in [1, 2147483647]"));
}

TEST(HostileInput, TimelineWindowOrSpanBeyondTheTimeRange_IsExit2) {
  TempDir dir;
  const std::string trace = valid_trace(dir);
  EXPECT_THAT(
      run_bad({"timeline", trace, "-o", dir.file("t.svg"), "--window", "0s:1e30s"}, dir).err,
      HasSubstr("--window: expected a time of at most 18446744073.709551615 us"));
  EXPECT_THAT(run_bad({"timeline", trace, "-o", dir.file("t.svg"), "--span", "20000s"}, dir).err,
              HasSubstr("--span: expected a time of at most"));
  EXPECT_THAT(run_bad({"timeline", trace, "-o", dir.file("t.svg"), "--window", "18000s:", "--span",
                       "1000s"},
                      dir)
                  .err,
              HasSubstr("--span: the window would end beyond the simulated time range"));
}

TEST(HostileInput, SafetensorsHeaderNumberBeyondDouble_IsExit2WithTheByte) {
  TempDir dir;
  const CliResult r =
      run_bad({"quant-error", "--in", kHostile + "safetensors_number_overflow.safetensors"}, dir);
  EXPECT_THAT(r.err, HasSubstr("header is not valid JSON: byte "));
  EXPECT_THAT(r.err, HasSubstr("number overflow parsing '1e400'"));
}

TEST(HostileInput, SafetensorsHeaderNestedTooDeep_IsExit2) {
  TempDir dir;
  EXPECT_THAT(
      run_bad({"quant-error", "--in", kHostile + "safetensors_deep_nesting.safetensors"}, dir).err,
      HasSubstr("header nests deeper than 16 levels"));
}

TEST(HostileInput, PackedFileWithANaNScale_IsExit2NamingTheTensor) {
  TempDir dir;
  EXPECT_THAT(
      run_bad({"gemm", "--weights", kHostile + "packed_nan_scale.safetensors", "--tensor", "w"},
              dir)
          .err,
      HasSubstr("tensor 'w': 'w.scales' [2, 1] is NaN; expected finite fp16 values"));
}

}  // namespace
}  // namespace lpusim
