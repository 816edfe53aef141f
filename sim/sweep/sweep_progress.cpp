// The progress bar and per-point lines of `lpusim sweep`: rate is points finished by this run per
// second of wall time, ETA the remaining points at that rate.
#include "sim/sweep/sweep_progress.h"

#include <fmt/format.h>

namespace lpusim {
namespace {

constexpr std::size_t kBarWidth = 24;
constexpr const char* kClearToEndOfLine = "\x1b[K";

}  // namespace

std::string format_clock(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  const long long hours = total / 3600;
  const long long minutes = total / 60 % 60;
  const long long secs = total % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, secs);
  return fmt::format("{}:{:02}", minutes, secs);
}

SweepProgress::SweepProgress(std::ostream& out, bool terminal, std::size_t total,
                             std::size_t already_done)
    : out_(out),
      terminal_(terminal),
      total_(total),
      done_(already_done),
      start_(std::chrono::steady_clock::now()) {}

std::string SweepProgress::counter() const {
  const int width = static_cast<int>(std::to_string(total_).size());
  return fmt::format("[{:>{}}/{}]", done_, width, total_);
}

std::string SweepProgress::bar() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t filled = total_ == 0 ? kBarWidth : done_ * kBarWidth / total_;
  std::string text = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  text += fmt::format("{}/{} points, {} failed", done_, total_, failed_);
  if (finished_now_ > 0 && elapsed > 0) {
    const double rate = static_cast<double>(finished_now_) / elapsed;
    text += fmt::format(", {:.2f} points/s, ETA {}", rate,
                        format_clock(static_cast<double>(total_ - done_) / rate));
  }
  return text;
}

void SweepProgress::point_done(const std::string& summary, bool failed) {
  ++done_;
  ++finished_now_;
  if (failed) ++failed_;
  if (!terminal_) {
    out_ << "sweep: " << counter() << " " << summary << "\n" << std::flush;
    return;
  }
  if (failed) out_ << "\r" << kClearToEndOfLine << "sweep: " << summary << "\n";
  tick();
}

void SweepProgress::tick() {
  if (terminal_) out_ << "\r" << bar() << kClearToEndOfLine << std::flush;
}

void SweepProgress::finish() {
  if (terminal_) out_ << "\n" << std::flush;
}

}  // namespace lpusim
