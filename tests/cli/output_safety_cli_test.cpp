// End-to-end output safety: device nodes stay device nodes, a full disk gives exit 2 and leaves
// every target as it was (no truncated file, no temporary file), and a run stopped by SIGTERM
// leaves no temporary file behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/cli_runner.h"
#include "tests/support/small_disk.h"

namespace lpusim {
namespace {

using testing::CliResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::read_file;
using testing::run_lpusim;
using testing::SmallDisk;
using testing::TempDir;

const std::vector<std::string> kTinyGemm = {"gemm", "--k", "256", "--n", "64", "--quant", "int4"};
const std::string kTinySweep = "tests/data/sweeps/tiny-sweep.yaml";

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

bool is_char_device(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

TEST(OutputSafetyCli, TraceAndVcdToDevNull_KeepDevNullACharacterDevice) {
  TempDir dir;
  ASSERT_TRUE(is_char_device("/dev/null"));
  const CliResult r = run_lpusim(with(kTinyGemm, {"--trace", "/dev/null"}), dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(is_char_device("/dev/null"));
  std::filesystem::create_symlink("/dev/null", dir.file("null.json.gz"));
  std::filesystem::create_symlink("/dev/null", dir.file("null.vcd"));
  const CliResult links = run_lpusim(
      with(kTinyGemm, {"--trace", dir.file("null.json.gz"), "--vcd", dir.file("null.vcd")}), dir);
  EXPECT_EQ(links.exit_code, 0) << links.err;
  EXPECT_TRUE(is_char_device("/dev/null"));
  EXPECT_THAT(dir.entries(), ElementsAre("null.json.gz", "null.vcd"));
}

TEST(OutputSafetyCli, DashOToDevNull_KeepsDevNullACharacterDevice) {
  TempDir dir;
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json")}), dir).exit_code, 0);
  const CliResult timeline = run_lpusim({"timeline", dir.file("t.json"), "-o", "/dev/null"}, dir);
  EXPECT_EQ(timeline.exit_code, 0) << timeline.err;
  EXPECT_TRUE(is_char_device("/dev/null"));
  const CliResult kernel =
      run_lpusim({"kernel", "--k", "256", "--n", "64", "-o", "/dev/null"}, dir);
  EXPECT_EQ(kernel.exit_code, 0) << kernel.err;
  EXPECT_TRUE(is_char_device("/dev/null"));
  EXPECT_THAT(dir.entries(), ElementsAre("t.json"));
}

TEST(OutputSafetyCli, DashOToDevStdout_WritesToTheStandardOutput) {
  TempDir dir;
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json")}), dir).exit_code, 0);
  const CliResult r = run_lpusim({"timeline", dir.file("t.json"), "-o", "/dev/stdout"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("<svg"));
  EXPECT_THAT(dir.entries(), ElementsAre("t.json"));
}

TEST(OutputSafetyCli, SweepResultsOnADevice_IsExit2_AndTheDeviceIsNotRead) {
  TempDir dir;
  const CliResult r = run_lpusim({"sweep", kTinySweep, "--out", "/dev/zero"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a regular file"));
  EXPECT_TRUE(is_char_device("/dev/zero"));
}

TEST(OutputSafetyCli, SweepDryRunWithADeviceAsResults_IsExit2_WithoutReadingIt) {
  TempDir dir;
  const CliResult r = run_lpusim({"sweep", kTinySweep, "--dry-run", "--out", "/dev/zero"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is a character device; expected a regular results CSV"));
}

TEST(OutputSafetyCli, TraceOnAFullDisk_IsExit2_AndTheOldFileStays) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  TempDir dir;
  for (const std::string name : {"t.json", "t.json.gz"}) {
    std::ofstream(disk.file(name)) << "old";
  }
  disk.fill();
  for (const std::string name : {"t.json", "t.json.gz"}) {
    const CliResult r = run_lpusim(with(kTinyGemm, {"--trace", disk.file(name)}), dir);
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_THAT(r.err, HasSubstr(disk.file(name))) << name;
    EXPECT_THAT(r.err, HasSubstr("No space left on device")) << name;
    EXPECT_EQ(read_file(disk.file(name)), "old") << name;
  }
  EXPECT_THAT(disk.entries(), ElementsAre("t.json", "t.json.gz"));
}

TEST(OutputSafetyCli, VcdOnAFullDisk_IsExit2_AndNoFileAppears) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  TempDir dir;
  disk.fill();
  const CliResult r = run_lpusim(with(kTinyGemm, {"--vcd", disk.file("t.vcd")}), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(disk.file("t.vcd")));
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
  EXPECT_TRUE(disk.entries().empty());
}

TEST(OutputSafetyCli, DashOOnAFullDisk_IsExit2_AndTheOldFileStays) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  TempDir dir;
  ASSERT_EQ(run_lpusim(with(kTinyGemm, {"--trace", dir.file("t.json")}), dir).exit_code, 0);
  std::ofstream(disk.file("t.svg")) << "old";
  disk.fill();
  const CliResult r = run_lpusim({"timeline", dir.file("t.json"), "-o", disk.file("t.svg")}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
  EXPECT_EQ(read_file(disk.file("t.svg")), "old");
  EXPECT_THAT(disk.entries(), ElementsAre("t.svg"));
}

TEST(OutputSafetyCli, SweepOnAFullDisk_IsExit2_AndLeavesNoResultsFile) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  TempDir dir;
  disk.fill();
  const CliResult r = run_lpusim({"sweep", kTinySweep, "--out", disk.file("r.csv")}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
  EXPECT_TRUE(disk.entries().empty()) << "no 0-byte results file";
}

TEST(OutputSafetyCli, SweepThatFillsTheDisk_IsExit2_AndKeepsOnlyWholeRows) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  TempDir dir;
  // Room for one page of the results (4 KiB; the whole file is about 6.4 KB).
  {
    std::ofstream filler(disk.file(".filler"), std::ios::binary);
    filler << std::string(64 * 1024 - 4096, 'f');
  }
  const CliResult r =
      run_lpusim({"sweep", kTinySweep, "--jobs", "1", "--out", disk.file("r.csv")}, dir);
  const std::string text = read_file(disk.file("r.csv"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "cut back to the last whole row";
  EXPECT_LE(text.size(), 4096u);
  const CliResult rerun = run_lpusim({"sweep", kTinySweep, "--out", dir.file("full.csv")}, dir);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(read_file(dir.file("full.csv")).substr(0, text.size()), text)
      << "the rows kept are the first rows of a complete run";
  EXPECT_THAT(disk.entries(), ElementsAre("r.csv"));
}

// Starts `lpusim ARGS` in the background from the source tree; returns its pid.
pid_t start_lpusim(const std::vector<std::string>& args) {
  std::string command = "cd " + testing::shell_quote(LPUSIM_SOURCE_DIR) + " && exec " +
                        testing::shell_quote(LPUSIM_BINARY);
  for (const std::string& a : args) command += " " + testing::shell_quote(a);
  command += " >/dev/null 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits until the directory holds an entry whose name contains `part`, or is `part` when `exact`
// (or ten seconds pass).
bool wait_for_entry(const TempDir& dir, const std::string& part, bool exact = false) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    for (const std::string& name : dir.entries()) {
      if (exact ? name == part : name.find(part) != std::string::npos) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(OutputSafetyCli, RunStoppedBySigterm_LeavesNoTemporaryFile) {
  TempDir dir;
  const pid_t pid = start_lpusim(
      {"run", "--model", "llama2-70b", "--trace", dir.file("t.json"), "--vcd", dir.file("t.vcd")});
  ASSERT_TRUE(wait_for_entry(dir, ".tmp-"));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) GTEST_SKIP() << "the run finished first";
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(dir.entries().empty()) << dir.entries().front();
}

TEST(OutputSafetyCli, SweepStoppedBySigterm_LeavesOnlyItsResultsFile) {
  TempDir dir;
  std::ofstream(dir.file("slow.yaml")) << "model: llama2-70b\ncontext: 512\nprefill: false\n"
                                          "axes:\n  quant: [int4, q3.5, q3, int8]\n";
  const pid_t pid =
      start_lpusim({"sweep", dir.file("slow.yaml"), "--jobs", "1", "--out", dir.file("r.csv")});
  ASSERT_TRUE(wait_for_entry(dir, "r.csv", true));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_THAT(dir.entries(), ElementsAre("r.csv", "slow.yaml"));
  const std::string text = read_file(dir.file("r.csv"));
  ASSERT_FALSE(text.empty()) << "the results file is created with its header";
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace lpusim
