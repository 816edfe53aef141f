// POSIX side of AtomicFile: lstat/readlink to resolve the target, open(O_EXCL) of the temporary
// file, write/fsync/close/rename each checked, and a signal handler that unlinks open temporaries.
#include "traces/atomic_file.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "kernels/error.h"

namespace lpusim {

namespace {

constexpr int kMaxSymlinkHops = 40;  // as the kernel's own limit (ELOOP)
constexpr std::size_t kBufferBytes = 64 * 1024;

std::string reason(int error) { return std::strerror(error); }

[[noreturn]] void refuse(const std::string& path, std::string_view what, const std::string& why) {
  throw InputError(path + ": " + std::string(what) + ": " + why);
}

// Regular files of the kernel's pseudo file systems and of /dev cannot be replaced by rename.
bool is_pseudo_file(const std::string& target) {
  struct statfs fs {};
  if (::statfs(target.c_str(), &fs) == 0 &&
      (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
    return true;
  }
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(target, ec).lexically_normal().string();
  return absolute.rfind("/dev/", 0) == 0 && absolute.rfind("/dev/shm/", 0) != 0;
}

// A symlink of /proc, like /proc/self/fd/1: readlink() gives a description ("pipe:[1234]"), not
// always a path, and replacing the file it names would miss the descriptor that is open on it.
bool is_proc_link(const std::string& link) {
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(link, ec).lexically_normal().string();
  return absolute.rfind("/proc/", 0) == 0;
}

std::string directory_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

int write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

void sync_directory(const std::string& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file itself is synced and in place
  ::fsync(fd);
  ::close(fd);
}

// --- cleanup on SIGINT, SIGTERM, SIGHUP -------------------------------------------------------

struct CleanupSlot {
  std::atomic<bool> claimed{false};  // owned by a registration
  std::atomic<bool> armed{false};    // `path` is complete: the handler may unlink it
  char path[PATH_MAX];
};
CleanupSlot g_cleanup[kMaxCleanupPaths];
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temporaries_and_die(int signal) {
  const int saved = errno;
  for (CleanupSlot& slot : g_cleanup) {
    if (slot.armed.load(std::memory_order_acquire)) ::unlink(slot.path);
  }
  errno = saved;
  // SA_RESETHAND restored the default action and SA_NODEFER left the signal unblocked.
  ::raise(signal);
}

void install_cleanup_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int signal : kCleanupSignals) {
      struct sigaction current {};
      if (::sigaction(signal, nullptr, &current) != 0) continue;
      if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;
      struct sigaction action {};
      action.sa_handler = remove_temporaries_and_die;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESETHAND | SA_NODEFER;
      ::sigaction(signal, &action, nullptr);
    }
  });
}

bool is_registered(const std::string& path) {
  for (const CleanupSlot& slot : g_cleanup) {
    if (slot.armed.load(std::memory_order_acquire) && path == slot.path) return true;
  }
  return false;
}

}  // namespace

int register_cleanup_path(const std::string& path) noexcept {
  if (path.size() >= PATH_MAX) return -1;
  try {
    install_cleanup_handler();
  } catch (...) {
    return -1;
  }
  for (int i = 0; i < kMaxCleanupPaths; ++i) {
    bool expected = false;
    if (!g_cleanup[i].claimed.compare_exchange_strong(expected, true)) continue;
    std::memcpy(g_cleanup[i].path, path.c_str(), path.size() + 1);
    g_cleanup[i].armed.store(true, std::memory_order_release);
    return i;
  }
  return -1;
}

void unregister_cleanup_path(int slot) noexcept {
  if (slot < 0 || slot >= kMaxCleanupPaths) return;
  g_cleanup[slot].armed.store(false, std::memory_order_release);
  g_cleanup[slot].claimed.store(false, std::memory_order_release);
}

// --- resolving ---------------------------------------------------------------------------------

ResolvedOutput resolve_output(const std::string& path, std::string_view what) {
  if (path.empty()) throw InputError(std::string(what) + ": empty output path");
  ResolvedOutput out;
  out.target = path;
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (::lstat(out.target.c_str(), &st) != 0) {
      if (errno == ENOENT) break;  // a new file
      refuse(path, what, "cannot examine '" + out.target + "': " + reason(errno));
    }
    if (S_ISDIR(st.st_mode)) refuse(path, what, "is a directory");
    if (!S_ISLNK(st.st_mode)) {
      out.in_place = !S_ISREG(st.st_mode) || is_pseudo_file(out.target);
      if (out.in_place && ::access(out.target.c_str(), W_OK) != 0) {
        refuse(path, what, "cannot write '" + out.target + "': " + reason(errno));
      }
      if (out.in_place) return out;
      out.replaced_mode = static_cast<int>(st.st_mode & 07777);
      break;
    }
    if (is_proc_link(out.target)) {
      // /proc/self/fd/N (also reached from /dev/stdout): only open() follows it to the open file,
      // which may be a pipe, a terminal, or a file the shell truncated for us.
      out.in_place = true;
      if (::access(out.target.c_str(), W_OK) != 0) {
        refuse(path, what, "cannot write '" + out.target + "': " + reason(errno));
      }
      return out;
    }
    if (hops == kMaxSymlinkHops) refuse(path, what, "too many levels of symbolic links");
    char link[PATH_MAX];
    const ssize_t n = ::readlink(out.target.c_str(), link, sizeof link - 1);
    if (n < 0) refuse(path, what, "cannot read the symbolic link: " + reason(errno));
    link[n] = '\0';
    const std::filesystem::path next(link);
    out.target = next.is_absolute()
                     ? next.string()
                     : (std::filesystem::path(directory_of(out.target)) / next).string();
  }
  const std::string dir = directory_of(out.target);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    refuse(path, what, "cannot create the file: directory '" + dir + "' does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    refuse(path, what,
           "cannot create the file: directory '" + dir + "' is not writable: " + reason(errno));
  }
  return out;
}

std::string temporary_path_for(const std::string& target) {
  const std::filesystem::path p(target);
  const std::string name = "." + p.filename().string() + ".tmp-" + std::to_string(::getpid());
  return (p.parent_path() / name).string();
}

// --- AtomicFile --------------------------------------------------------------------------------

AtomicFile::AtomicFile(const std::string& path, std::string_view what)
    : path_(path), what_(what), resolved_(resolve_output(path, what)) {
  buffer_.reserve(kBufferBytes);
  if (resolved_.in_place) {
    // No O_CREAT, no O_TRUNC: a device or FIFO is written as it is, never replaced.
    fd_ = ::open(resolved_.target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) fail("cannot open", errno);
    return;
  }
  temp_ = temporary_path_for(resolved_.target);
  if (is_registered(temp_)) {  // two outputs of one command name the same file
    temp_.clear();
    throw InputError(path_ + ": " + what_ + ": the same file is already being written");
  }
  cleanup_slot_ = register_cleanup_path(temp_);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  fd_ = ::open(temp_.c_str(), kFlags, 0666);
  if (fd_ < 0 && errno == EEXIST) {  // left by a killed process that had the same id
    ::unlink(temp_.c_str());
    fd_ = ::open(temp_.c_str(), kFlags, 0666);
  }
  if (fd_ < 0) {
    const int error = errno;
    unregister_cleanup_path(cleanup_slot_);
    cleanup_slot_ = -1;
    temp_.clear();  // not ours: nothing to remove
    fail("cannot create the temporary file", error);
  }
  if (resolved_.replaced_mode >= 0 &&
      ::fchmod(fd_, static_cast<mode_t>(resolved_.replaced_mode)) != 0) {
    fail("cannot set the permissions of the temporary file", errno);
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

int AtomicFile::flush_buffer() noexcept {
  if (error_ == 0 && !buffer_.empty()) error_ = write_all(fd_, buffer_.data(), buffer_.size());
  buffer_.clear();
  return error_;
}

int AtomicFile::try_write(const void* bytes, std::size_t size) noexcept {
  if (error_ != 0) return error_;
  if (fd_ < 0) return error_ = EBADF;
  const char* data = static_cast<const char*>(bytes);
  if (buffer_.size() + size > kBufferBytes && flush_buffer() != 0) return error_;
  if (size >= kBufferBytes) {
    error_ = write_all(fd_, data, size);
  } else {
    buffer_.insert(buffer_.end(), data, data + size);  // within the reserved capacity
  }
  return error_;
}

void AtomicFile::write(const void* bytes, std::size_t size) {
  if (try_write(bytes, size) != 0) fail("cannot write", error_);
}

void AtomicFile::commit() {
  if (committed_) throw std::logic_error("AtomicFile: committed twice");
  if (fd_ < 0) throw std::logic_error("AtomicFile: commit after discard");
  if (flush_buffer() != 0) fail("cannot write", error_);
  // Devices and FIFOs have nothing to sync (fsync fails with EINVAL on them).
  if (!resolved_.in_place && ::fsync(fd_) != 0) fail("cannot sync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot close", errno);
  if (!resolved_.in_place) {
    if (::rename(temp_.c_str(), resolved_.target.c_str()) != 0) {
      fail("cannot rename the finished file into place", errno);
    }
    unregister_cleanup_path(cleanup_slot_);
    cleanup_slot_ = -1;
    sync_directory(directory_of(resolved_.target));
  }
  committed_ = true;
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  if (!temp_.empty() && !committed_) ::unlink(temp_.c_str());
  temp_.clear();
  unregister_cleanup_path(cleanup_slot_);
  cleanup_slot_ = -1;
}

void AtomicFile::fail(const std::string& action, int error) {
  discard();
  std::string where = path_;
  if (resolved_.target != path_) where += " (-> " + resolved_.target + ")";
  throw InputError(where + ": " + what_ + ": " + action + ": " + reason(error));
}

void write_file_atomically(const std::string& path, std::string_view content,
                           std::string_view what) {
  AtomicFile file(path, what);
  file.write(content);
  file.commit();
}

}  // namespace lpusim
