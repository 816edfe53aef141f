// fork/exec worker pool with pipes for each worker's stdout and stderr, poll() to drain them,
// PR_SET_PDEATHSIG so no worker outlives the sweep, and signal handlers that stop it cleanly.
#include "sim/sweep/sweep_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace lpusim {
namespace {

constexpr int kPollMs = 250;
constexpr int kExecFailed = 127;
constexpr int kSignalExitBase = 128;
constexpr const char* kWorkerArgv0 = "lpusim";

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signal) { g_stop_signal = signal; }

// Installs the stop handlers for the lifetime of a run and restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kCount; ++i) sigaction(kSignals[i], &action, &previous_[i]);
  }
  ~StopSignals() {
    for (std::size_t i = 0; i < kCount; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static constexpr std::size_t kCount = 3;
  static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous_[kCount];
};

[[noreturn]] void system_failure(const char* what) {
  throw std::runtime_error(std::string("sweep: ") + what + ": " + std::strerror(errno));
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_worker(const char* executable, char* const* argv, int out_fd, int err_fd,
                              pid_t parent) {
  ::setpgid(0, 0);                     // terminal signals go to the sweep, which stops us
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // and we die with it, even if it is SIGKILLed
  if (::getppid() != parent) ::_exit(kExecFailed);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::execv(executable, argv);
  static const char kMessage[] = "lpusim: sweep: cannot start the worker (execv failed)\n";
  ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  ::_exit(kExecFailed);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads what is available; returns false at end of file (and closes fd).
bool drain(int& fd, std::string& into) {
  char buffer[1 << 14];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n > 0) {
    into.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  close_fd(fd);
  return false;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return kSignalExitBase + WTERMSIG(status);
  return kSignalExitBase;
}

}  // namespace

WorkerPool::WorkerPool(std::size_t jobs, double timeout_s, std::string executable)
    : jobs_(jobs == 0 ? 1 : jobs), timeout_s_(timeout_s), executable_(std::move(executable)) {}

WorkerPool::~WorkerPool() { terminate_all(); }

void WorkerPool::spawn(const WorkerTask& task) {
  std::vector<char*> argv;
  std::string argv0 = kWorkerArgv0;
  std::vector<std::string> args = task.args;
  argv.push_back(argv0.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) system_failure("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    system_failure("pipe");
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_worker(executable_.c_str(), argv.data(), out[1], err[1], parent);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    system_failure("fork");
  }
  Running r;
  r.pid = pid;
  r.id = task.id;
  r.out_fd = out[0];
  r.err_fd = err[0];
  r.start = std::chrono::steady_clock::now();
  running_.push_back(std::move(r));
}

void WorkerPool::poll_outputs(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<std::pair<std::size_t, bool>> owners;  // (running index, is stdout)
  for (std::size_t i = 0; i < running_.size(); ++i) {
    if (running_[i].out_fd >= 0) {
      fds.push_back(pollfd{running_[i].out_fd, POLLIN, 0});
      owners.emplace_back(i, true);
    }
    if (running_[i].err_fd >= 0) {
      fds.push_back(pollfd{running_[i].err_fd, POLLIN, 0});
      owners.emplace_back(i, false);
    }
  }
  const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  if (ready < 0 && errno != EINTR) system_failure("poll");
  for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k) {
    if (fds[k].revents == 0) continue;
    Running& r = running_[owners[k].first];
    if (owners[k].second) {
      drain(r.out_fd, r.out);
    } else {
      drain(r.err_fd, r.err);
    }
  }
}

void WorkerPool::kill_overdue() {
  if (timeout_s_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  for (Running& r : running_) {
    const double elapsed = std::chrono::duration<double>(now - r.start).count();
    if (!r.timed_out && elapsed > timeout_s_) {
      r.timed_out = true;
      ::kill(r.pid, SIGKILL);
    }
  }
}

void WorkerPool::reap_finished(const std::function<void(const WorkerResult&)>& on_done) {
  for (std::size_t i = 0; i < running_.size();) {
    Running& r = running_[i];
    if (r.out_fd >= 0 || r.err_fd >= 0) {
      ++i;
      continue;
    }
    int status = 0;
    while (::waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
    }
    WorkerResult result;
    result.id = r.id;
    result.exit_code = exit_code_of(status);
    result.timed_out = r.timed_out;
    result.out = std::move(r.out);
    result.err = std::move(r.err);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
    running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    on_done(result);
  }
}

void WorkerPool::terminate_all() {
  for (Running& r : running_) ::kill(r.pid, SIGKILL);
  for (Running& r : running_) {
    close_fd(r.out_fd);
    close_fd(r.err_fd);
    int status = 0;
    while (::waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  running_.clear();
}

int WorkerPool::run(const std::vector<WorkerTask>& tasks,
                    const std::function<void(const WorkerResult&)>& on_done,
                    const std::function<void()>& on_tick) {
  const StopSignals stop_signals;
  std::size_t next = 0;
  auto last_tick = std::chrono::steady_clock::now();
  while ((next < tasks.size() || !running_.empty()) && g_stop_signal == 0) {
    while (running_.size() < jobs_ && next < tasks.size()) spawn(tasks[next++]);
    poll_outputs(kPollMs);
    kill_overdue();
    reap_finished(on_done);
    if (std::chrono::steady_clock::now() - last_tick > std::chrono::milliseconds(kPollMs)) {
      on_tick();
      last_tick = std::chrono::steady_clock::now();
    }
  }
  const int stopped_by = g_stop_signal;
  if (stopped_by != 0) terminate_all();
  return stopped_by;
}

std::size_t available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<std::size_t>(CPU_COUNT(&set));
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<std::size_t>(online) : 1;
}

}  // namespace lpusim
