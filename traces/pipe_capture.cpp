#include "traces/pipe_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "kernels/error.h"

namespace lpusim {

namespace {

constexpr std::size_t kCopyChunk = 64 * 1024;

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

PipeCapture::PipeCapture(const std::string& destination, std::string_view what,
                         std::string fifo_path)
    : file_(destination, what), what_(what), fifo_(std::move(fifo_path)) {
  const auto refuse = [&](const std::string& action) {
    const std::string reason = std::strerror(errno);
    close_fd(read_fd_);
    close_fd(hold_fd_);
    close_fd(wake_[0]);
    close_fd(wake_[1]);
    remove_fifo();
    throw InputError(destination + ": " + what_ + ": " + action + " '" + fifo_ + "': " + reason);
  };
  fifo_slot_ = register_cleanup_path(fifo_);
  ::unlink(fifo_.c_str());  // a stale FIFO of a killed process that had the same id
  if (::mkfifo(fifo_.c_str(), 0600) != 0) refuse("cannot create the FIFO");
  // The read end first (non-blocking, so this does not wait for a writer), then a write end of our
  // own, so the other writer's open() and close() never block nor end the copy early.
  read_fd_ = ::open(fifo_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (read_fd_ < 0) refuse("cannot open the FIFO");
  hold_fd_ = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (hold_fd_ < 0) refuse("cannot open the FIFO");
  if (::pipe2(wake_, O_CLOEXEC) != 0) refuse("cannot make a pipe for");
  thread_ = std::thread([this] { copy(); });
}

PipeCapture::~PipeCapture() {
  stop_thread();
  close_fd(read_fd_);
  close_fd(hold_fd_);
  close_fd(wake_[0]);
  close_fd(wake_[1]);
  remove_fifo();
}

// Drains the FIFO until end of file or a wake-up byte. After a failed write it keeps reading (and
// drops the bytes) so that the other writer never blocks on a full pipe.
void PipeCapture::copy() {
  const auto chunk = std::make_unique<char[]>(kCopyChunk);
  pollfd fds[2] = {{read_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      if (error_ == 0) error_ = errno;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::read(read_fd_, chunk.get(), kCopyChunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      if (error_ == 0) error_ = errno;
      return;
    }
    if (n == 0) return;  // every writer closed the FIFO
    if (error_ == 0) error_ = file_.try_write(chunk.get(), static_cast<std::size_t>(n));
  }
}

void PipeCapture::stop_thread() noexcept {
  if (!thread_.joinable()) return;
  const char byte = 0;
  while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void PipeCapture::remove_fifo() noexcept {
  if (!fifo_.empty()) ::unlink(fifo_.c_str());
  fifo_.clear();
  unregister_cleanup_path(fifo_slot_);
  fifo_slot_ = -1;
}

void PipeCapture::finish() {
  close_fd(hold_fd_);  // the copy now ends at end of file
  if (thread_.joinable()) thread_.join();
  close_fd(read_fd_);
  remove_fifo();
  if (error_ != 0) {
    const std::string reason = std::strerror(error_);
    file_.discard();
    throw InputError(file_.path() + ": " + what_ + ": cannot write: " + reason);
  }
  file_.commit();
}

}  // namespace lpusim
