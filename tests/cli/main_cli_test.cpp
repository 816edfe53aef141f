// The top level of the `lpusim` binary: an unknown or missing command is exit 2 with a message
// naming the commands; --help and --version succeed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

TEST(MainCli, UnknownCommand_IsExit2NamingItAndTheCommands) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({"frob"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frob'"));
  EXPECT_THAT(r.err, HasSubstr("compare"));
}

TEST(MainCli, NoCommand_IsExit2) {
  TempDir dir;
  const testing::CliResult r = run_lpusim({}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("subcommand is required"));
}

TEST(MainCli, HelpAndVersion_SucceedOnStdout) {
  TempDir dir;
  const testing::CliResult help = run_lpusim({"--help"}, dir);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("compare"));
  const testing::CliResult version = run_lpusim({"--version"}, dir);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("lpusim 0.1.0"));
}

}  // namespace
}  // namespace lpusim
