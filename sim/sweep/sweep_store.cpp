// POSIX file handling of sweep results: a new file appears with its header (temporary file +
// link), rows go through O_APPEND + flock + ftruncate, rewrites through AtomicFile (temporary
// file + fsync + rename), so no kill, crash or full disk leaves a half-written file.
#include "sim/sweep/sweep_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/io/output_file.h"
#include "sim/sweep/sweep_csv.h"
#include "traces/atomic_file.h"

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

// Creates `path` holding `text`, or returns false when it exists. The text goes to a temporary
// file that link() puts in place, so the file never exists empty or half-written, and a second
// sweep starting at the same moment finds the first one's file instead of replacing it.
bool create_exclusively(const std::string& path, const std::string& text) {
  const std::string temp = temporary_path_for(path);
  const int slot = register_cleanup_path(temp);
  const auto drop_temp = [&] {
    ::unlink(temp.c_str());
    unregister_cleanup_path(slot);
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int error = errno;
    unregister_cleanup_path(slot);
    errno = error;
    fail(path, "cannot create the temporary file '" + temp + "'");
  }
  try {
    write_all(fd, text, path);
    if (::fsync(fd) != 0) fail(path, "cannot sync");
    if (::close(fd) != 0) fail(path, "cannot close");
  } catch (...) {
    ::close(fd);  // EBADF after a failed close: harmless
    drop_temp();
    throw;
  }
  if (::link(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    drop_temp();
    if (error == EEXIST) return false;
    errno = error;
    fail(path, "cannot put the new file in place");
  }
  drop_temp();
  sync_directory_of(path);
  return true;
}

}  // namespace

ResultsAppender::ResultsAppender(const std::string& path, const std::vector<std::string>& header)
    : path_(path), header_(header) {
  const ResolvedOutput resolved = resolve_output(path, "sweep results");
  if (resolved.in_place) {
    throw InputError(path +
                     ": sweep results: not a regular file (a results file is read back to "
                     "resume the sweep)");
  }
  create_exclusively(resolved.target, header_text(header));
  fd_ = ::open(resolved.target.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
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
    size_ = existing_.complete_bytes;
    if (existing_.header.empty()) {  // an empty file: the header goes in first
      append_line(header_text(header));
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

void ResultsAppender::append(const ResultRow& row) { append_line(csv_line(row)); }

void ResultsAppender::append_line(const std::string& line) {
  try {
    write_all(fd_, line, path_);
    if (::fsync(fd_) != 0) fail(path_, "cannot sync");
  } catch (const InputError&) {
    // A full disk can take part of the line: cut the file back to its last complete line.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) ::fsync(fd_);
    throw;
  }
  size_ += line.size();
}

void ResultsAppender::rewrite(const std::vector<ResultRow>& rows) {
  write_results_file(path_, header_, rows);
}

void write_results_file(const std::string& path, const std::vector<std::string>& header,
                        const std::vector<ResultRow>& rows) {
  AtomicFile file(path, "results");
  file.write(header_text(header));
  for (const ResultRow& row : rows) file.write(csv_line(row));
  file.commit();
}

}  // namespace lpusim
