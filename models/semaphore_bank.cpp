#include "models/semaphore_bank.h"

namespace lpusim {

SemaphoreBank::SemaphoreBank(const std::vector<SemaphoreDecl>& semaphores, Femtoseconds start_fs)
    : pending_(semaphores.size()) {
  for (std::size_t i = 0; i < semaphores.size(); ++i) {
    for (std::uint32_t k = 0; k < semaphores[i].initial; ++k) pending_[i].push(start_fs);
  }
}

void SemaphoreBank::post(std::uint32_t sem, Femtoseconds land_fs) {
  pending_.at(sem).push(land_fs);
}

std::optional<Femtoseconds> SemaphoreBank::try_take(std::uint32_t sem, Femtoseconds at_fs) {
  MinHeap& heap = pending_.at(sem);
  if (heap.empty() || heap.top() > at_fs) return std::nullopt;
  const Femtoseconds land = heap.top();
  heap.pop();
  return land;
}

std::optional<Femtoseconds> SemaphoreBank::earliest_pending(std::uint32_t sem) const {
  const MinHeap& heap = pending_.at(sem);
  if (heap.empty()) return std::nullopt;
  return heap.top();
}

std::uint32_t SemaphoreBank::value_at(std::uint32_t sem, Femtoseconds at_fs) const {
  MinHeap copy = pending_.at(sem);
  std::uint32_t value = 0;
  while (!copy.empty() && copy.top() <= at_fs) {
    ++value;
    copy.pop();
  }
  return value;
}

}  // namespace lpusim
