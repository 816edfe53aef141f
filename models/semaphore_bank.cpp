#include "models/semaphore_bank.h"

#include <algorithm>
#include <limits>

namespace lpusim {

// Every post lands at or after the run's start, so the initial increments (landed at start_fs_)
// are always the earliest: taking them first keeps the order of a single heap of all increments.
SemaphoreBank::SemaphoreBank(const std::vector<SemaphoreDecl>& semaphores, Femtoseconds start_fs)
    : start_fs_(start_fs), semaphores_(semaphores.size()) {
  for (std::size_t i = 0; i < semaphores.size(); ++i) {
    semaphores_[i].initial_left = semaphores[i].initial;
  }
}

void SemaphoreBank::post(std::uint32_t sem, Femtoseconds land_fs) {
  semaphores_.at(sem).posted.push(land_fs);
}

std::optional<Femtoseconds> SemaphoreBank::try_take(std::uint32_t sem, Femtoseconds at_fs) {
  Semaphore& s = semaphores_.at(sem);
  if (s.initial_left > 0 && start_fs_ <= at_fs) {
    --s.initial_left;
    return start_fs_;
  }
  if (s.initial_left > 0 || s.posted.empty() || s.posted.top() > at_fs) return std::nullopt;
  const Femtoseconds land = s.posted.top();
  s.posted.pop();
  return land;
}

std::optional<Femtoseconds> SemaphoreBank::earliest_pending(std::uint32_t sem) const {
  const Semaphore& s = semaphores_.at(sem);
  if (s.initial_left > 0) return start_fs_;
  if (s.posted.empty()) return std::nullopt;
  return s.posted.top();
}

std::uint32_t SemaphoreBank::value_at(std::uint32_t sem, Femtoseconds at_fs) const {
  const Semaphore& s = semaphores_.at(sem);
  if (at_fs < start_fs_) return 0;
  std::uint64_t value = s.initial_left;
  MinHeap copy = s.posted;
  while (!copy.empty() && copy.top() <= at_fs) {
    ++value;
    copy.pop();
  }
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(value, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace lpusim
