// `lpusim config` end to end: --dump and --describe exit 0 with the expected text; a bad config or
// --set exits 2 with file:line, key and what was expected on stderr, and prints nothing on stdout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ConfigCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("lpusim_config_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `lpusim <args>` (args are shell words) from `cwd`.
  Result run(const std::string& args, const fs::path& cwd = LPUSIM_SOURCE_DIR) {
    const fs::path out = dir_ / "stdout.txt";
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = "cd '" + cwd.string() + "' && '" LPUSIM_BINARY "' " + args + " >'" +
                                out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    return Result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }

  std::string write(const std::string& text) {
    const fs::path path = dir_ / "bad.yaml";
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ConfigCliTest, DumpOfTheDefault_IsTheSeedChip) {
  const Result r = run("config --dump");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name: \"seed-80gbps\""));
  EXPECT_THAT(r.out, HasSubstr("  bandwidth: 80 GB/s"));
  EXPECT_EQ(r.err, "");
}

TEST_F(ConfigCliTest, DumpWithSet_ShowsTheOverride) {
  const Result r =
      run("config --hw groq-tsp-v1 --set memory.bandwidth='64 GB/s' --set "
          "clock=1GHz --dump");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  bandwidth: 64 GB/s"));
  EXPECT_THAT(r.out, HasSubstr("clock: 1 GHz"));
}

TEST_F(ConfigCliTest, Dump_ReloadsFromAnyDirectory) {
  const Result first = run("config --hw configs/hw/hbm3-3tbps.yaml --dump");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string dumped = write(first.out);
  const Result second = run("config --hw '" + dumped + "' --dump", dir_);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out.substr(second.out.find('\n')), first.out.substr(first.out.find('\n')));
}

TEST_F(ConfigCliTest, NameResolves_FromOutsideTheSourceTree) {
  const Result r = run("config --hw seed-80gbps --dump", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ConfigCliTest, ModelDump_PrintsTheModel) {
  const Result r = run("config --model llama2-70b --dump");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("kv_heads: 8"));
  EXPECT_THAT(r.out, Not(HasSubstr("bandwidth")));
  const Result both = run("config --hw seed-80gbps --model llama3-8b");
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_THAT(both.out, HasSubstr("---\n"));
  EXPECT_THAT(both.out, HasSubstr("vocab: 128256"));
}

TEST_F(ConfigCliTest, Describe_ListsEveryKey) {
  const Result r = run("config --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"clock", "memory.bandwidth", "sram.bandwidth", "mxm.weight_load",
                          "dispatch.issue_per_cycle", "energy.static", "kv_heads", "quantized"})
    EXPECT_THAT(r.out, HasSubstr(key));
  const Result markdown = run("config --describe --format markdown");
  EXPECT_EQ(markdown.exit_code, 0) << markdown.err;
  EXPECT_THAT(markdown.out, HasSubstr("| `memory.bandwidth` |"));
}

TEST_F(ConfigCliTest, BadConfig_ExitsTwoWithFileLineKey) {
  const std::string path = write(
      "name: x\nclock: 900 MHz\nweights: streamed\nmemory:\n"
      "  bandwidth: eighty\n");
  const Result r = run("config --hw '" + path + "' --dump");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("lpusim: error: " + path +
                                ":5: memory.bandwidth: expected a "
                                "bandwidth like \"80 GB/s\""));
  EXPECT_THAT(r.err, HasSubstr("got \"eighty\""));
}

TEST_F(ConfigCliTest, UnknownKey_ExitsTwoWithSuggestion) {
  const std::string path = write("name: x\nclok: 900 MHz\n");
  const Result r = run("config --hw '" + path + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(path + ":2: clok: unknown key; did you mean `clock`?"));
}

TEST_F(ConfigCliTest, BadSet_ExitsTwo) {
  const Result r = run("config --set mxm.planes=0 --dump");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("--set: mxm.planes: expected a whole number in [1, 1024], got \"0\""));
  EXPECT_EQ(r.out, "");
  const Result unknown = run("config --set mxm.plane=4");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("did you mean `mxm.planes`?"));
}

TEST_F(ConfigCliTest, UnknownNames_ExitTwo) {
  EXPECT_EQ(run("config --hw no-such-chip").exit_code, 2);
  const Result r = run("config --model llama9-1t");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no model config named \"llama9-1t\""));
  EXPECT_THAT(r.err, HasSubstr("llama2-70b"));
}

TEST_F(ConfigCliTest, BadModel_ExitsTwoWithLine) {
  const std::string path = write(
      "name: m\nhidden: 4096\nffn: 1\nlayers: 1\nheads: 32\n"
      "kv_heads: 5\nhead_dim: 128\nvocab: 10\nmax_context: 8\n"
      "norm: rmsnorm\nmlp: swiglu\nposition: rope\n"
      "tied_embeddings: false\n");
  const Result r = run("config --model '" + path + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(path + ":6: kv_heads: expected a divisor of heads (32)"));
}

}  // namespace
