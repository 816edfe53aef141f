// Timing core of the dispatch semaphores: each NOTIFY posts an increment that lands at a given
// time; a WAIT takes the earliest increment that has landed. Plain C++ (no SystemC).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "kernels/program.h"
#include "models/sim_time.h"

namespace lpusim {

class SemaphoreBank {
 public:
  explicit SemaphoreBank(const std::vector<SemaphoreDecl>& semaphores, Femtoseconds start_fs);

  // A NOTIFY whose increment becomes visible at land_fs.
  void post(std::uint32_t sem, Femtoseconds land_fs);
  // Takes one increment that landed at or before at_fs; returns its landing time.
  std::optional<Femtoseconds> try_take(std::uint32_t sem, Femtoseconds at_fs);
  // The earliest posted increment not yet taken (landed or not).
  std::optional<Femtoseconds> earliest_pending(std::uint32_t sem) const;
  // Increments landed by at_fs and not yet taken (the semaphore's value at that time).
  std::uint32_t value_at(std::uint32_t sem, Femtoseconds at_fs) const;
  std::size_t size() const { return pending_.size(); }

 private:
  using MinHeap = std::priority_queue<Femtoseconds, std::vector<Femtoseconds>, std::greater<>>;
  std::vector<MinHeap> pending_;
};

}  // namespace lpusim
