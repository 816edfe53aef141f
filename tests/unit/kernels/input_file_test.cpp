// The bounded reader of every user-named input: regular files only (a FIFO is refused without
// blocking, a device or directory before any read), at most the cap of its kind, errors that
// name the file and what it is.
#include "kernels/input_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "kernels/error.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr InputKind kSmall{"test file", 16};

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The message of the InputError that `read_input_file(path, kind)` throws ("" if none).
std::string error_of(const std::string& path, const InputKind& kind = kSmall) {
  try {
    read_input_file(path, kind);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(InputFile, RegularFileWithinTheCap_IsReadWhole) {
  TempDir dir;
  write(dir.file("a"), std::string("0123456789abcdef", 16));
  EXPECT_EQ(read_input_file(dir.file("a"), kSmall), "0123456789abcdef");
  write(dir.file("empty"), "");
  EXPECT_EQ(read_input_file(dir.file("empty"), kSmall), "");
}

TEST(InputFile, OneByteOverTheCap_IsRefusedWithTheCapAndSize) {
  TempDir dir;
  write(dir.file("big"), std::string(17, 'x'));
  const std::string message = error_of(dir.file("big"));
  EXPECT_THAT(message, HasSubstr(dir.file("big") + ": "));
  EXPECT_THAT(message, HasSubstr("17 bytes"));
  EXPECT_THAT(message, HasSubstr("cap of 16 bytes"));
}

TEST(InputFile, CapInMiB_IsWrittenInMiB) {
  EXPECT_EQ(byte_cap_text(512 * kMiB), "512 MiB");
  EXPECT_EQ(byte_cap_text(100'000'000), "100000000 bytes");
}

TEST(InputFile, DevZero_IsRefusedBeforeAnyRead) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of("/dev/zero", kAsmInput);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_THAT(message, HasSubstr("/dev/zero: is a character device"));
  EXPECT_THAT(message, HasSubstr("regular .lpuasm program"));
}

TEST(InputFile, Directory_IsRefused) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.path().string()), HasSubstr("is a directory"));
}

TEST(InputFile, FifoWithNoWriter_IsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(error_of(fifo), HasSubstr("is a FIFO"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(InputFile, MissingFile_NamesTheFileAndTheReason) {
  TempDir dir;
  const std::string message = error_of(dir.file("nope.yaml"), kConfigYamlInput);
  EXPECT_THAT(message, HasSubstr(dir.file("nope.yaml") + ": cannot open the YAML config"));
  EXPECT_THAT(message, HasSubstr("No such file"));
}

TEST(InputFile, Release_HandsTheDescriptorOver) {
  TempDir dir;
  write(dir.file("a"), "abc");
  InputFile file(dir.file("a"), kSmall);
  EXPECT_EQ(file.size(), 3u);
  const int fd = file.release();
  EXPECT_GE(fd, 0);
  EXPECT_EQ(file.fd(), -1);
  char buffer[4] = {};
  EXPECT_EQ(::read(fd, buffer, sizeof(buffer)), 3);
  ::close(fd);
}

}  // namespace
}  // namespace lpusim
