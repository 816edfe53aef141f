// End-to-end tests of `lpusim sweep` and `lpusim merge`: every point gets one row (failures
// included), reruns resume after a kill without duplicates or gaps, shards merge back into the
// whole sweep, conflicts and bad sweep files are exit 2, and every shipped sweep file loads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using ::testing::HasSubstr;
using testing::read_file;
using testing::run_lpusim;
using testing::TempDir;

const std::string kTinySweep = "tests/data/sweeps/tiny-sweep.yaml";
constexpr std::size_t kTinyRows = 13;  // 12 grid points + the failing point (one repeats)

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  return lines;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// The value of `column` in each data row of a results file.
std::vector<std::string> column_of(const std::string& text, const std::string& column) {
  const std::vector<std::string> lines = lines_of(text);
  const std::vector<std::string> header = split(lines.at(0));
  const auto at =
      static_cast<std::size_t>(std::find(header.begin(), header.end(), column) - header.begin());
  std::vector<std::string> values;
  for (std::size_t i = 1; i < lines.size(); ++i) values.push_back(split(lines[i]).at(at));
  return values;
}

CliResult sweep(const TempDir& dir, const std::string& sweep_file, const std::string& out,
                std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"sweep", sweep_file, "--out", out};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_lpusim(args, dir);
}

// A 70B sweep whose points take long enough to kill the sweep between them.
std::string write_slow_sweep(const TempDir& dir) {
  std::ofstream(dir.file("slow.yaml")) << "model: llama2-70b\ncontext: 512\nprefill: false\n"
                                          "axes:\n  quant: [int4, q3.5, q3, int8]\n"
                                          "  memory.bandwidth: [100 GB/s, 1 TB/s, 10 TB/s]\n";
  return dir.file("slow.yaml");
}

// Starts `lpusim ARGS` in the background from the source tree; returns its pid.
pid_t start_lpusim(const std::vector<std::string>& args) {
  std::string command = "cd " + testing::shell_quote(LPUSIM_SOURCE_DIR) + " && exec " +
                        testing::shell_quote(LPUSIM_BINARY);
  for (const std::string& a : args) command += " " + testing::shell_quote(a);
  command += " >/dev/null 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits until `path` holds at least `rows` data rows (or a minute passes).
void wait_for_rows(const std::string& path, std::size_t rows) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_file(path);
    if (std::count(text.begin(), text.end(), '\n') >= static_cast<long>(rows + 1)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int stop_with(pid_t pid, int signal) {
  kill(pid, signal);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SweepCli, EveryPoint_GetsOneRow_AndTheFailingPointIsRecorded) {
  TempDir dir;
  const CliResult r = sweep(dir, kTinySweep, dir.file("r.csv"), {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(dir.file("r.csv"));
  EXPECT_EQ(lines_of(text).size(), kTinyRows + 1);
  const std::vector<std::string> status = column_of(text, "status");
  EXPECT_EQ(std::count(status.begin(), status.end(), "ok"), 12);
  EXPECT_EQ(status.back(), "failed");
  EXPECT_EQ(column_of(text, "exit_code").back(), "3");
  EXPECT_THAT(column_of(text, "error").back(), HasSubstr("SRAM for resident weights"));
  EXPECT_EQ(column_of(text, "point").front(), "0");
  EXPECT_EQ(column_of(text, "hash").front(), "89fd8bfbf8d02050");
  EXPECT_THAT(r.err, HasSubstr("[13/13] "));  // not a terminal: one line per point
  // The int8 point: per-channel groups, int8's default group size.
  EXPECT_THAT(r.err, HasSubstr("FAILED dc7e85479e14c26a"));
}

TEST(SweepCli, OneAndTwoWorkers_WriteIdenticalFiles) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("one.csv"), {"--jobs", "1"}).exit_code, 0);
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("two.csv"), {"--jobs", "2"}).exit_code, 0);
  EXPECT_EQ(read_file(dir.file("one.csv")), read_file(dir.file("two.csv")));
}

TEST(SweepCli, Rerun_SkipsEveryPointAlreadyDone) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("r.csv")).exit_code, 0);
  const std::string first = read_file(dir.file("r.csv"));
  const CliResult again = sweep(dir, kTinySweep, dir.file("r.csv"));
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("13 already in"));
  EXPECT_THAT(again.err, HasSubstr("0 to run"));
  EXPECT_EQ(read_file(dir.file("r.csv")), first);
}

TEST(SweepCli, RetryFailed_RunsOnlyTheFailedPointAgain) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("r.csv")).exit_code, 0);
  const CliResult again = sweep(dir, kTinySweep, dir.file("r.csv"), {"--retry-failed"});
  EXPECT_THAT(again.err, HasSubstr("1 to run"));
  EXPECT_EQ(lines_of(read_file(dir.file("r.csv"))).size(), kTinyRows + 1);
}

TEST(SweepCli, FileCutMidLine_RerunCompletesIt_WithoutDuplicatesOrGaps) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("full.csv")).exit_code, 0);
  const std::string full = read_file(dir.file("full.csv"));
  std::size_t cut = 0;
  for (int line = 0; line < 6; ++line) cut = full.find('\n', cut) + 1;
  std::ofstream(dir.file("cut.csv"), std::ios::binary) << full.substr(0, cut + 25);
  const CliResult r = sweep(dir, kTinySweep, dir.file("cut.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("dropped an incomplete last line (25 bytes)"));
  EXPECT_THAT(r.err, HasSubstr("5 already in"));
  EXPECT_EQ(read_file(dir.file("cut.csv")), full);
}

TEST(SweepCli, KilledWithSigkill_RerunCompletesIt_WithoutDuplicatesOrGaps) {
  TempDir dir;
  const std::string slow = write_slow_sweep(dir);
  ASSERT_EQ(sweep(dir, slow, dir.file("full.csv"), {"--jobs", "2"}).exit_code, 0);
  const pid_t pid = start_lpusim({"sweep", slow, "--jobs", "1", "--out", dir.file("k.csv")});
  wait_for_rows(dir.file("k.csv"), 2);
  EXPECT_EQ(stop_with(pid, SIGKILL), 128 + SIGKILL);
  const std::size_t rows_at_kill = lines_of(read_file(dir.file("k.csv"))).size() - 1;
  EXPECT_LT(rows_at_kill, 12u);
  const CliResult r = sweep(dir, slow, dir.file("k.csv"), {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir.file("k.csv")), read_file(dir.file("full.csv")));
}

TEST(SweepCli, StoppedWithSigterm_ExitsWith143_AndLeavesAValidFile) {
  TempDir dir;
  const std::string slow = write_slow_sweep(dir);
  const pid_t pid = start_lpusim({"sweep", slow, "--jobs", "1", "--out", dir.file("t.csv")});
  wait_for_rows(dir.file("t.csv"), 1);
  EXPECT_EQ(stop_with(pid, SIGTERM), 128 + SIGTERM);
  const std::string text = read_file(dir.file("t.csv"));
  EXPECT_EQ(text.back(), '\n');
  const std::vector<std::string> lines = lines_of(text);
  ASSERT_GE(lines.size(), 2u);
  for (const std::string& line : lines) EXPECT_EQ(split(line).size(), split(lines[0]).size());
}

TEST(SweepCli, Shards_MergeBackIntoTheWholeSweep) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("all.csv"), {"--jobs", "1"}).exit_code, 0);
  std::vector<std::string> merge_args = {"merge"};
  std::size_t rows = 0;
  for (const char* shard : {"1/3", "2/3", "3/3"}) {
    const std::string out = dir.file(std::string("shard-") + shard[0] + ".csv");
    ASSERT_EQ(sweep(dir, kTinySweep, out, {"--shard", shard}).exit_code, 0);
    rows += lines_of(read_file(out)).size() - 1;
    merge_args.push_back(out);
  }
  EXPECT_EQ(rows, kTinyRows);
  merge_args.insert(merge_args.end(), {"-o", dir.file("merged.csv")});
  const CliResult merged = run_lpusim(merge_args, dir);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(read_file(dir.file("merged.csv")), read_file(dir.file("all.csv")));
}

TEST(SweepCli, MergeOfConflictingResults_IsExit2_AndWritesNothing) {
  TempDir dir;
  ASSERT_EQ(sweep(dir, kTinySweep, dir.file("a.csv")).exit_code, 0);
  std::string text = read_file(dir.file("a.csv"));
  const std::size_t row = text.find("\n0,") + 1;
  const std::size_t ok = text.find(",ok,0,", row) + 6;
  text.replace(ok, 1, "9");  // another per-token latency for point 0
  std::ofstream(dir.file("b.csv"), std::ios::binary) << text;
  const CliResult r =
      run_lpusim({"merge", dir.file("a.csv"), dir.file("b.csv"), "-o", dir.file("m.csv")}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("b.csv:2: point 89fd8bfbf8d02050 conflicts with"));
  EXPECT_THAT(r.err, HasSubstr("column per_token_latency_s"));
  EXPECT_FALSE(fs::exists(dir.file("m.csv")));
}

TEST(SweepCli, BadSweepFile_IsExit2AtFileLine_BeforeAnythingRuns) {
  TempDir dir;
  std::ofstream(dir.file("bad.yaml")) << "model: llama2-7b\naxes:\n  quant: [int4]\n"
                                         "  mxm.plane: [2, 4]\n";
  const CliResult r = sweep(dir, dir.file("bad.yaml"), dir.file("r.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:4: mxm.plane: unknown axis; did you mean `mxm.planes`?"));
  EXPECT_FALSE(fs::exists(dir.file("r.csv")));
}

TEST(SweepCli, BadOptions_AreExit2) {
  TempDir dir;
  EXPECT_EQ(sweep(dir, kTinySweep, dir.file("r.csv"), {"--shard", "3/2"}).exit_code, 2);
  EXPECT_EQ(sweep(dir, kTinySweep, dir.file("no-dir/r.csv")).exit_code, 2);
  std::ofstream(dir.file("other.csv")) << "point,hash,status\n";
  const CliResult r = sweep(dir, kTinySweep, dir.file("other.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("the columns differ"));
}

TEST(SweepCli, EveryShippedSweepFile_Loads) {
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(fs::path(LPUSIM_SOURCE_DIR) / "configs/sweeps")) {
    const CliResult r = sweep(dir, entry.path().string(), dir.file("r.csv"), {"--dry-run"});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << r.err;
    EXPECT_THAT(r.out, HasSubstr("to run")) << entry.path();
  }
}

// The finding docs/SWEEPS.md reports: fewer bits win while bytes bound the step (20 GB/s); the
// VXM's unpacking of q3.5 makes it slower than int4 once bandwidth is plentiful (20 TB/s).
TEST(SweepCli, BandwidthSweep_Q35BeatsInt4OnlyWhileMemoryBound) {
  TempDir dir;
  const CliResult r =
      sweep(dir, "configs/sweeps/bandwidth.yaml", dir.file("bw.csv"), {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(dir.file("bw.csv"));
  const std::vector<std::string> quant = column_of(text, "quant");
  const std::vector<std::string> bandwidth = column_of(text, "memory.bandwidth");
  const std::vector<std::string> throughput = column_of(text, "throughput_tok_s");
  ASSERT_EQ(quant.size(), 40u);
  const auto at = [&](const std::string& q, const std::string& bw) {
    for (std::size_t i = 0; i < quant.size(); ++i) {
      if (quant[i] == q && bandwidth[i] == bw) return std::stod(throughput[i]);
    }
    return -1.0;
  };
  EXPECT_GT(at("q3.5", "20000000000"), at("int4", "20000000000"));
  EXPECT_LT(at("q3.5", "20000000000000"), at("int4", "20000000000000"));
}

TEST(SweepCli, ExampleSweep_RunsAndRecordsItsFailingPoint) {
  TempDir dir;
  const CliResult r =
      sweep(dir, "configs/sweeps/example.yaml", dir.file("ex.csv"), {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> status = column_of(read_file(dir.file("ex.csv")), "status");
  EXPECT_EQ(status.size(), 14u);
  EXPECT_EQ(std::count(status.begin(), status.end(), "failed"), 1);
}

}  // namespace
}  // namespace lpusim
