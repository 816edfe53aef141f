// Sweep progress on stderr: on a terminal, one redrawn bar (done/total, failures, rate, ETA) with
// failures printed above it; otherwise (logs, CI, Slurm) one plain line per finished point.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace lpusim {

class SweepProgress {
 public:
  // `total` points in this run's share of the sweep, `already_done` of them found in the results.
  SweepProgress(std::ostream& out, bool terminal, std::size_t total, std::size_t already_done);

  // A point finished; `summary` describes it ("ok quant=int4 ...: 25.5 ms/token").
  void point_done(const std::string& summary, bool failed);
  void tick();    // redraws the bar (terminal only): keeps the rate and ETA moving
  void finish();  // ends the bar's line

  std::size_t done() const { return done_; }
  std::size_t failed() const { return failed_; }

 private:
  std::string bar() const;
  std::string counter() const;  // "[12/40]"

  std::ostream& out_;
  bool terminal_;
  std::size_t total_;
  std::size_t done_;
  std::size_t finished_now_ = 0;  // points finished by this run
  std::size_t failed_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// "1:05:09", "3:07", "0:04" for a number of seconds.
std::string format_clock(double seconds);

}  // namespace lpusim
