// AtomicFile: new and replaced regular files appear whole; symlinks are followed; devices and
// FIFOs are written in place and stay what they are; directories and unwritable places are
// refused; a full disk leaves the target untouched and no temporary file; results files cut back.
#include "traces/atomic_file.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "kernels/error.h"
#include "sim/sweep/sweep_store.h"
#include "tests/support/cli_runner.h"
#include "tests/support/small_disk.h"

namespace lpusim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::read_file;
using testing::SmallDisk;
using testing::TempDir;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(AtomicFile, NewFile_AppearsOnlyAtCommit_UnderATemporaryNameUntilThen) {
  TempDir dir;
  AtomicFile file(dir.file("out.txt"), "-o");
  file.write("hello\n");
  EXPECT_EQ(file.temporary_path(), dir.file(".out.txt.tmp-" + std::to_string(::getpid())));
  EXPECT_THAT(dir.entries(), ElementsAre(".out.txt.tmp-" + std::to_string(::getpid())));
  file.commit();
  EXPECT_THAT(dir.entries(), ElementsAre("out.txt"));
  EXPECT_EQ(read_file(dir.file("out.txt")), "hello\n");
}

TEST(AtomicFile, Overwrite_ReplacesTheWholeFile) {
  TempDir dir;
  write_text(dir.file("out.txt"), "a much longer old content\n");
  write_file_atomically(dir.file("out.txt"), "new\n", "-o");
  EXPECT_EQ(read_file(dir.file("out.txt")), "new\n");
  EXPECT_THAT(dir.entries(), ElementsAre("out.txt"));
}

TEST(AtomicFile, Overwrite_KeepsThePermissionBitsOfTheReplacedFile) {
  TempDir dir;
  write_text(dir.file("out.txt"), "old\n");
  ASSERT_EQ(::chmod(dir.file("out.txt").c_str(), 0640), 0);
  write_file_atomically(dir.file("out.txt"), "new\n", "-o");
  EXPECT_EQ(mode_of(dir.file("out.txt")) & 07777, 0640u);
}

TEST(AtomicFile, SameFileOpenedTwice_IsRefused_AndTheFirstStillCommits) {
  TempDir dir;
  std::filesystem::create_symlink("out.txt", dir.file("link.txt"));
  AtomicFile first(dir.file("out.txt"), "-o");
  first.write("first\n");
  try {
    AtomicFile second(dir.file("link.txt"), "--trace");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already being written"));
  }
  first.commit();
  EXPECT_EQ(read_file(dir.file("out.txt")), "first\n");
}

TEST(AtomicFile, DiscardedOrDestroyedWithoutCommit_LeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  write_text(dir.file("out.txt"), "old\n");
  {
    AtomicFile file(dir.file("out.txt"), "-o");
    file.write(std::string(200000, 'x'));  // more than the buffer: some bytes reached the file
  }
  EXPECT_EQ(read_file(dir.file("out.txt")), "old\n");
  EXPECT_THAT(dir.entries(), ElementsAre("out.txt"));
}

TEST(AtomicFile, Symlink_IsFollowed_AndItsTargetReplaced_TheLinkKept) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("real"));
  write_text(dir.file("real/target.txt"), "old\n");
  std::filesystem::create_symlink("real/target.txt", dir.file("link.txt"));
  const ResolvedOutput resolved = resolve_output(dir.file("link.txt"), "-o");
  EXPECT_EQ(resolved.target, dir.file("real/target.txt"));
  EXPECT_FALSE(resolved.in_place);
  write_file_atomically(dir.file("link.txt"), "new\n", "-o");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("link.txt"))));
  EXPECT_EQ(read_file(dir.file("real/target.txt")), "new\n");
  EXPECT_THAT(dir.entries(), ElementsAre("link.txt", "real"));
}

TEST(AtomicFile, DanglingSymlink_CreatesItsTarget) {
  TempDir dir;
  std::filesystem::create_symlink("made.txt", dir.file("link.txt"));
  write_file_atomically(dir.file("link.txt"), "new\n", "-o");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("link.txt"))));
  EXPECT_EQ(read_file(dir.file("made.txt")), "new\n");
}

TEST(AtomicFile, SymlinkLoop_IsAnInputError) {
  TempDir dir;
  std::filesystem::create_symlink("b", dir.file("a"));
  std::filesystem::create_symlink("a", dir.file("b"));
  try {
    write_file_atomically(dir.file("a"), "x", "-o");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("symbolic links"));
  }
}

TEST(AtomicFile, DevNull_IsWrittenInPlace_AndStaysACharacterDevice) {
  ASSERT_TRUE(S_ISCHR(mode_of("/dev/null")));
  AtomicFile file("/dev/null", "--trace");
  EXPECT_TRUE(file.in_place());
  EXPECT_EQ(file.temporary_path(), "");
  file.write("discarded\n");
  file.commit();
  EXPECT_TRUE(S_ISCHR(mode_of("/dev/null")));
}

TEST(AtomicFile, SymlinkToDevNull_WritesTheDeviceInPlace) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/null", dir.file("null.json"));
  write_file_atomically(dir.file("null.json"), "x", "--trace");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("null.json"))));
  EXPECT_TRUE(S_ISCHR(mode_of("/dev/null")));
}

TEST(AtomicFile, ProcFdLink_IsWrittenInPlace_NotFollowedToAPath) {
  TempDir dir;
  const int fd = ::open(dir.file("open.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_TRUE(resolve_output(link, "-o").in_place);
  write_file_atomically(link, "through the descriptor\n", "-o");
  ::close(fd);
  EXPECT_EQ(read_file(dir.file("open.txt")), "through the descriptor\n");
  EXPECT_THAT(dir.entries(), ElementsAre("open.txt"));
}

TEST(AtomicFile, Fifo_IsWrittenInPlace_ForItsReader) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read_file(fifo); });
  const std::string text(300000, 'v');  // more than a pipe holds: the reader must drain it
  write_file_atomically(fifo, text, "-o");
  reader.join();
  EXPECT_EQ(received, text);
  EXPECT_TRUE(S_ISFIFO(mode_of(fifo)));
  EXPECT_THAT(dir.entries(), ElementsAre("pipe"));
}

TEST(AtomicFile, Directory_IsRefused) {
  TempDir dir;
  try {
    AtomicFile file(dir.path().string(), "-o");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory"));
    EXPECT_THAT(e.what(), HasSubstr("-o"));
  }
}

TEST(AtomicFile, MissingDirectory_IsRefused) {
  TempDir dir;
  EXPECT_THROW(AtomicFile(dir.file("missing/out.txt"), "-o"), InputError);
}

TEST(AtomicFile, UnwritableDirectory_IsRefused_WithTheReason) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("ro"));
  std::filesystem::permissions(
      dir.file("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  // root writes through permission bits: a read-only mount is what stops it.
  SmallDisk read_only(true);
  std::string ro = dir.file("ro");
  if (::geteuid() == 0) {
    LPUSIM_REQUIRE_SMALL_DISK(read_only);
    ro = read_only.file("");
  }
  try {
    AtomicFile file(ro + "/new-file.txt", "-o");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not writable"));
  }
  std::filesystem::permissions(dir.file("ro"), std::filesystem::perms::owner_all);
}

TEST(AtomicFile, FullDisk_IsAnInputErrorNamingThePath_AndLeavesTheOldFile) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  write_text(disk.file("out.txt"), "old\n");
  disk.fill();
  try {
    write_file_atomically(disk.file("out.txt"), std::string(100000, 'x'), "-o");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(disk.file("out.txt")));
    EXPECT_THAT(e.what(), HasSubstr("No space left on device"));
  }
  EXPECT_EQ(read_file(disk.file("out.txt")), "old\n");
  EXPECT_THAT(disk.entries(), ElementsAre("out.txt"));
}

const std::vector<std::string> kHeader = {"point", "hash", "status", "value", "error"};

TEST(ResultsAppender, FullDiskOnANewFile_LeavesNoFile) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  disk.fill();
  try {
    ResultsAppender appender(disk.file("r.csv"), kHeader);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("No space left on device"));
  }
  EXPECT_TRUE(disk.entries().empty());
}

TEST(ResultsAppender, FullDiskDuringARow_CutsTheFileBackToTheLastWholeRow) {
  SmallDisk disk;
  LPUSIM_REQUIRE_SMALL_DISK(disk);
  ResultsAppender appender(disk.file("r.csv"), kHeader);
  appender.append({"0", "aa", "ok", "1.5", ""});
  const std::string before = read_file(disk.file("r.csv"));
  disk.fill();
  // Longer than the free end of the file's last page: part of it fits, the rest does not.
  EXPECT_THROW(appender.append({"1", "bb", "failed", "", std::string(20000, 'n')}), InputError);
  EXPECT_EQ(read_file(disk.file("r.csv")), before);
  EXPECT_THAT(disk.entries(), ElementsAre("r.csv"));
}

TEST(ResultsAppender, DanglingSymlink_CreatesItsTarget_WithTheHeader) {
  TempDir dir;
  std::filesystem::create_symlink("real.csv", dir.file("r.csv"));
  {
    ResultsAppender appender(dir.file("r.csv"), kHeader);
    appender.append({"0", "aa", "ok", "1.5", ""});
  }
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("r.csv"))));
  EXPECT_EQ(read_file(dir.file("real.csv")), "point,hash,status,value,error\n0,aa,ok,1.5,\n");
  EXPECT_THAT(dir.entries(), ElementsAre("r.csv", "real.csv"));
}

TEST(ResultsAppender, DeviceAsResultsFile_IsRefused_NotRead) {
  try {
    ResultsAppender appender("/dev/zero", kHeader);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not a regular file"));
  }
}

TEST(CleanupPaths, TheTableHasAFixedSize_AndSlotsAreReused) {
  std::vector<int> slots;
  for (int i = 0; i < kMaxCleanupPaths; ++i) {
    slots.push_back(register_cleanup_path("/nonexistent/" + std::to_string(i)));
    EXPECT_GE(slots.back(), 0);
  }
  EXPECT_EQ(register_cleanup_path("/nonexistent/full"), -1);
  unregister_cleanup_path(slots[3]);
  EXPECT_EQ(register_cleanup_path("/nonexistent/again"), slots[3]);
  for (const int slot : slots) unregister_cleanup_path(slot);
}

TEST(CleanupPaths, Sigterm_RemovesTheOpenTemporaryFile_AndTheProcessDiesOfIt) {
  TempDir dir;
  const pid_t pid = ::fork();
  if (pid == 0) {
    AtomicFile file(dir.file("out.txt"), "-o");
    file.write("partial");
    ::raise(SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace lpusim
