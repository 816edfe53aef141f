// Opening the files a user names, bounded: regular files only, at most a cap per kind.
#include "kernels/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "kernels/error.h"

namespace lpusim {

namespace {

constexpr std::size_t kReadChunkBytes = 1 << 16;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw InputError(SourceLocation{path, 0, ""}, message);
}

const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string too_big(const InputKind& kind, std::uint64_t size) {
  return "the " + std::string(kind.what) + " is " + std::to_string(size) +
         " bytes, above lpusim's cap of " + byte_cap_text(kind.max_bytes) +
         " for this kind of file";
}

}  // namespace

std::string byte_cap_text(std::uint64_t bytes) {
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

InputFile::InputFile(const std::string& path, const InputKind& kind) : path_(path), kind_(kind) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0)
    fail(path, "cannot open the " + std::string(kind.what) + ": " + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    fail(path, "cannot stat the " + std::string(kind.what) + ": " + reason);
  }
  if (!S_ISREG(status.st_mode)) {
    ::close(fd_);
    fail(path, std::string("is ") + file_type_name(status.st_mode) + "; expected a regular " +
                   std::string(kind.what) + " (lpusim reads it to the end)");
  }
  size_ = static_cast<std::uint64_t>(status.st_size);
  if (size_ > kind.max_bytes) {
    ::close(fd_);
    fail(path, too_big(kind, size_));
  }
  // Reads of a regular file never block; clear the flag so later readers see a plain descriptor.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

InputFile::InputFile(InputFile&& other) noexcept
    : path_(std::move(other.path_)),
      kind_(other.kind_),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_) {}

int InputFile::release() { return std::exchange(fd_, -1); }

std::string InputFile::read_all() {
  std::string text;
  text.reserve(static_cast<std::size_t>(size_));
  char chunk[kReadChunkBytes];
  for (;;) {
    const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path_, "read error: " + std::string(std::strerror(errno)));
    if (n == 0) return text;
    if (text.size() + static_cast<std::size_t>(n) > kind_.max_bytes)
      fail(path_, too_big(kind_, text.size() + static_cast<std::size_t>(n)) + " (it grew)");
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string read_input_file(const std::string& path, const InputKind& kind) {
  return InputFile(path, kind).read_all();
}

}  // namespace lpusim
