// POSIX file handling of sweep results: O_APPEND + flock + ftruncate for the live file, and a
// temporary file + fsync + rename for rewrites, so no kill or crash leaves a half-written file.
#include "sim/sweep_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "sim/output_file.h"
#include "sim/sweep_csv.h"

namespace lpusim {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what + ": " + std::strerror(errno));
}

std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buffer[1 << 16];
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, "cannot read");
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
}

void write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, "cannot write");
    done += static_cast<std::size_t>(n);
  }
}

void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already synced
  ::fsync(fd);
  ::close(fd);
}

std::string header_text(const std::vector<std::string>& header) { return csv_line(header); }

// Holds SIGINT, SIGTERM and SIGHUP back while a file is replaced, so Ctrl-C cannot leave the
// temporary file behind; a signal that arrived meanwhile is delivered when this goes away.
class DeferStopSignals {
 public:
  DeferStopSignals() {
    sigset_t stop;
    sigemptyset(&stop);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop, signal);
    sigprocmask(SIG_BLOCK, &stop, &previous_);
  }
  ~DeferStopSignals() { sigprocmask(SIG_SETMASK, &previous_, nullptr); }
  DeferStopSignals(const DeferStopSignals&) = delete;
  DeferStopSignals& operator=(const DeferStopSignals&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace

ResultsAppender::ResultsAppender(const std::string& path, const std::vector<std::string>& header)
    : path_(path), header_(header) {
  check_output_path(path, "sweep results");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, "cannot open");
  try {
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
      throw InputError(path + ": another lpusim sweep is writing this file");
    existing_ = parse_results(path, read_all(fd_, path));
    if (existing_.torn_bytes > 0) {
      if (::ftruncate(fd_, static_cast<off_t>(existing_.complete_bytes)) != 0)
        fail(path, "cannot drop the incomplete last line");
      if (::fsync(fd_) != 0) fail(path, "cannot sync");
    }
    if (existing_.header.empty()) {
      write_all(fd_, header_text(header), path);
      if (::fsync(fd_) != 0) fail(path, "cannot sync");
      sync_directory_of(path);
      existing_.header = header;
    } else if (existing_.header != header) {
      throw InputError(SourceLocation{path, 1, ""},
                       "the columns differ from this sweep's (results of another sweep?): use "
                       "another --out, or delete the file");
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ResultsAppender::~ResultsAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void ResultsAppender::append(const ResultRow& row) {
  const std::string line = csv_line(row);
  write_all(fd_, line, path_);
  if (::fsync(fd_) != 0) fail(path_, "cannot sync");
}

void ResultsAppender::rewrite(const std::vector<ResultRow>& rows) {
  write_results_file(path_, header_, rows);
}

void write_results_file(const std::string& path, const std::vector<std::string>& header,
                        const std::vector<ResultRow>& rows) {
  const DeferStopSignals defer;
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(temp, "cannot create");
  try {
    std::string text = header_text(header);
    for (const ResultRow& row : rows) text += csv_line(row);
    write_all(fd, text, temp);
    if (::fsync(fd) != 0) fail(temp, "cannot sync");
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    errno = error;
    fail(path, "cannot rename the finished file into place");
  }
  sync_directory_of(path);
}

}  // namespace lpusim
