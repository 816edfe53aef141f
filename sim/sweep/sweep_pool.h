// Worker processes for sweeps: each task is one run of the lpusim binary itself (fork + exec of
// /proc/self/exe), at most `jobs` at a time, so every simulation elaborates SystemC once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace lpusim {

struct WorkerTask {
  std::size_t id = 0;
  std::vector<std::string> args;  // arguments after argv[0]
};

struct WorkerResult {
  std::size_t id = 0;
  int exit_code = 0;  // 128 + signal number when the worker was killed
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  double seconds = 0;
};

class WorkerPool {
 public:
  // `timeout_s` > 0 kills a worker that runs longer (its result says timed_out).
  WorkerPool(std::size_t jobs, double timeout_s, std::string executable = "/proc/self/exe");
  ~WorkerPool();  // kills and reaps workers still running (e.g. when on_done threw)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs every task, calling on_done in this process as each finishes and on_tick a few times a
  // second. Workers run in process groups of their own and die with this process (even on
  // SIGKILL). SIGINT, SIGTERM or SIGHUP stop the run: the workers are killed, their tasks not
  // reported, and the signal number is returned; 0 when every task ran.
  int run(const std::vector<WorkerTask>& tasks,
          const std::function<void(const WorkerResult&)>& on_done,
          const std::function<void()>& on_tick);

 private:
  struct Running {
    pid_t pid = -1;
    std::size_t id = 0;
    int out_fd = -1;
    int err_fd = -1;
    std::string out;
    std::string err;
    std::chrono::steady_clock::time_point start;
    bool timed_out = false;
  };

  void spawn(const WorkerTask& task);
  void poll_outputs(int timeout_ms);
  void kill_overdue();
  void reap_finished(const std::function<void(const WorkerResult&)>& on_done);
  void terminate_all();

  std::size_t jobs_;
  double timeout_s_;
  std::string executable_;
  std::vector<Running> running_;
};

// CPUs this process may run on (its affinity mask, e.g. a Slurm allocation), at least 1.
std::size_t available_cores();

}  // namespace lpusim
