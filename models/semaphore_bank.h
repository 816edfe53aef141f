// Timing core of the dispatch semaphores: each NOTIFY posts an increment that lands at a given
// time; a WAIT takes the earliest increment that has landed. Plain C++ (no SystemC). The initial
// value costs O(1) memory: it is a count of increments landed at the start, not one entry each.
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
  std::size_t size() const { return semaphores_.size(); }

 private:
  using MinHeap = std::priority_queue<Femtoseconds, std::vector<Femtoseconds>, std::greater<>>;
  struct Semaphore {
    std::uint64_t initial_left = 0;  // increments of the initial value not yet taken (at start_fs_)
    MinHeap posted;                  // landing times of posted increments not yet taken
  };
  Femtoseconds start_fs_;
  std::vector<Semaphore> semaphores_;
};

}  // namespace lpusim
