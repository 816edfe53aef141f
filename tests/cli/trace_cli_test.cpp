// End-to-end tests of the trace options of `lpusim gemm`, `exec` and `run`, and of `lpusim
// timeline`: bad paths fail before anything runs, gzip and VCD files, the event limit's warning,
// byte-identical repeats, the golden VCD of a tiny GEMM, and the SVG picture.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/support/cli_runner.h"
#include "traces/trace_reader.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

const std::vector<std::string> kTinyGemm = {"gemm", "--k", "256", "--n", "64", "--quant", "int4"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The VCD text without its $date and $version blocks (they name the day and the SystemC build).
std::string without_date(const std::string& vcd) {
  static const std::regex kBlocks(R"(\$(date|version)\n[^$]*\$end\n\n?)");
  return std::regex_replace(vcd, kBlocks, "");
}

TEST(TraceCli, TracePathInAMissingDirectory_IsExit2BeforeAnythingRuns) {
  TempDir dir;
  for (const char* flag : {"--trace", "--vcd"}) {
    const std::string file = std::string(flag) == "--vcd" ? "x.vcd" : "x.json";
    const testing::CliResult r =
        run_lpusim(with(kTinyGemm, {flag, dir.file("missing/" + file)}), dir);
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_THAT(r.err, HasSubstr("missing")) << flag;
    EXPECT_EQ(r.out, "") << flag << ": no report, nothing was simulated";
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(TraceCli, TracePathThatIsADirectory_IsExit2) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("d.json"));
  const testing::CliResult r = run_lpusim(with(kTinyGemm, {"--trace", dir.file("d.json")}), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is a directory"));
  EXPECT_EQ(r.out, "");
}

TEST(TraceCli, TraceInAReadOnlyDirectory_IsExit2) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write anywhere";
  TempDir dir;
  std::filesystem::create_directory(dir.file("ro"));
  std::filesystem::permissions(
      dir.file("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  const testing::CliResult r = run_lpusim(with(kTinyGemm, {"--trace", dir.file("ro/t.json")}), dir);
  std::filesystem::permissions(dir.file("ro"), std::filesystem::perms::owner_all);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not writable"));
  EXPECT_EQ(r.out, "");
}

TEST(TraceCli, TraceOptionsWithoutATrace_AreExit2) {
  TempDir dir;
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--trace-window", "1us:2us"},
        std::vector<std::string>{"--trace-layers", "1-2"},
        std::vector<std::string>{"--trace-merge"},
        std::vector<std::string>{"--trace", dir.file("t.json"), "--trace-window", "2us:1us"},
        std::vector<std::string>{"--trace", dir.file("t.json"), "--trace-limit", "0"},
        std::vector<std::string>{"--vcd", dir.file("t.vcd"), "--trace-layers", "1"},
        std::vector<std::string>{"--vcd", dir.file("t.txt")}}) {
    const testing::CliResult r = run_lpusim(with(kTinyGemm, extra), dir);
    EXPECT_EQ(r.exit_code, 2) << extra[0];
    EXPECT_EQ(r.out, "") << extra[0];
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(TraceCli, GemmExecAndRun_WriteTracesThatParse) {
  TempDir dir;
  ASSERT_EQ(
      run_lpusim(
          {"kernel", "--k", "256", "--n", "64", "--quant", "int4", "-o", dir.file("k.lpuasm")}, dir)
          .exit_code,
      0);
  const std::vector<std::vector<std::string>> commands = {
      with(kTinyGemm, {"--trace", dir.file("gemm.json")}),
      {"exec", dir.file("k.lpuasm"), "--trace", dir.file("exec.json")},
      {"run", "--model", "llama2-7b", "--no-prefill", "--trace", dir.file("run.json"),
       "--trace-layers", "3-3"}};
  for (const std::vector<std::string>& args : commands) {
    const testing::CliResult r = run_lpusim(args, dir);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_NE(r.out, "") << args[0];
  }
  for (const char* name : {"gemm.json", "exec.json", "run.json"}) {
    const nlohmann::json j = nlohmann::json::parse(testing::read_file(dir.file(name)));
    EXPECT_GT(j["traceEvents"].size(), 20u) << name;
  }
  const nlohmann::json run = nlohmann::json::parse(testing::read_file(dir.file("run.json")));
  for (const nlohmann::json& e : run["traceEvents"]) {
    if (e["ph"] == "X") {
      EXPECT_EQ(e["args"]["layer"], 3) << e;
    }
  }
}

TEST(TraceCli, RunWithPrefill_TracesTheDecodeStepAndThePrefillAsTwoProcesses) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"run", "--model", "llama2-7b", "--prompt", "8",
                                           "--trace", dir.file("t.json"), "--trace-layers", "0-0"},
                                          dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> processes;
  read_chrome_trace(dir.file("t.json"), [&](const TraceEvent& e) {
    if (e.ph == 'M' && e.name == "process_name") processes.push_back(e.arg_name);
  });
  ASSERT_EQ(processes.size(), 2u);
  EXPECT_THAT(processes[0], HasSubstr("decode step"));
  EXPECT_THAT(processes[1], HasSubstr("prefill"));
}

TEST(TraceCli, GzipTrace_IsGzipAndReadsBackLikeThePlainOne) {
  TempDir dir;
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json")}), dir).exit_code, 0);
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json.gz")}), dir).exit_code, 0);
  const std::string gz = testing::read_file(dir.file("t.json.gz"));
  ASSERT_GT(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  std::size_t plain = 0;
  std::size_t zipped = 0;
  read_chrome_trace(dir.file("t.json"), [&](const TraceEvent&) { ++plain; });
  read_chrome_trace(dir.file("t.json.gz"), [&](const TraceEvent&) { ++zipped; });
  EXPECT_EQ(zipped, plain);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"t.json", "t.json.gz"}));  // no temporaries
}

TEST(TraceCli, EventLimit_WarnsOnStderrRecordsItAndStillReports) {
  TempDir dir;
  const testing::CliResult full = run_lpusim(with(kTinyGemm, {"--format", "json"}), dir);
  const testing::CliResult r = run_lpusim(
      with(kTinyGemm, {"--format", "json", "--trace", dir.file("t.json"), "--trace-limit", "25"}),
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, full.out) << "the simulation ran to the end";
  EXPECT_THAT(r.err, HasSubstr("warning"));
  EXPECT_THAT(r.err, HasSubstr("event limit of 25"));
  const nlohmann::json j = nlohmann::json::parse(testing::read_file(dir.file("t.json")));
  EXPECT_EQ(j["otherData"]["truncated"], true);
  EXPECT_THAT(j["otherData"]["truncation"].get<std::string>(), HasSubstr("event limit of 25"));
}

TEST(TraceCli, SameCommandTwice_GivesByteIdenticalTraceAndVcd) {
  TempDir dir;
  for (const char* n : {"1", "2"}) {
    const testing::CliResult r =
        run_lpusim(with(kTinyGemm, {"--trace", dir.file(std::string("t") + n + ".json"), "--vcd",
                                    dir.file(std::string("t") + n + ".vcd")}),
                   dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(testing::read_file(dir.file("t1.json")), testing::read_file(dir.file("t2.json")));
  EXPECT_EQ(without_date(testing::read_file(dir.file("t1.vcd"))),
            without_date(testing::read_file(dir.file("t2.vcd"))));
}

TEST(TraceCli, TinyGemmVcd_MatchesTheGolden) {
  TempDir dir;
  const testing::CliResult r = run_lpusim(with(kTinyGemm, {"--vcd", dir.file("t.vcd")}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string golden =
      testing::read_file(std::string(LPUSIM_SOURCE_DIR) + "/tests/golden/tiny_gemm.vcd");
  ASSERT_FALSE(golden.empty());
  EXPECT_EQ(without_date(testing::read_file(dir.file("t.vcd"))), without_date(golden))
      << "if the kernel or the chip model changed on purpose, regenerate with `lpusim gemm --k 256 "
         "--n 64 --quant int4 --vcd tests/golden/tiny_gemm.vcd` and review the diff";
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"t.vcd"}));
}

TEST(TraceCli, Timeline_DrawsAnSvgWithEveryRowALegendAndAnAxis) {
  TempDir dir;
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json")}), dir).exit_code, 0);
  const testing::CliResult r =
      run_lpusim({"timeline", dir.file("t.json"), "-o", dir.file("t.svg")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = testing::read_file(dir.file("t.svg"));
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  for (const char* text : {">mem<", ">vxm<", ">mxm<", ">memory channel<", "MXM matmul",
                           "VXM vector ops", "waiting", "simulated time", " us<"}) {
    EXPECT_THAT(svg, HasSubstr(text)) << text;
  }
  const testing::CliResult again =
      run_lpusim({"timeline", dir.file("t.json"), "-o", dir.file("u.svg")}, dir);
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_EQ(testing::read_file(dir.file("u.svg")), svg);
}

TEST(TraceCli, TimelineOfAMissingOrBadTrace_IsExit2) {
  TempDir dir;
  std::ofstream(dir.file("bad.json")) << "{\"traceEvents\": [";
  for (const char* name : {"none.json", "bad.json"}) {
    const testing::CliResult r =
        run_lpusim({"timeline", dir.file(name), "-o", dir.file("t.svg")}, dir);
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_THAT(r.err, HasSubstr(name));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("t.svg")));
}

}  // namespace
}  // namespace lpusim
