// The roles the chip's modules play for each other, as SystemC interfaces: a queue posts and
// takes semaphores through DispatchIf and schedules transfers through MemoryChannelIf.
#pragma once

#include <cstdint>
#include <optional>
#include <systemc>

#include "models/memory_channel_core.h"
#include "models/sim_time.h"

namespace lpusim {

// Exact for every 64-bit count (the time resolution is 1 fs; a double would round above 2^53 fs).
inline sc_core::sc_time fs_time(Femtoseconds fs) { return sc_core::sc_time::from_value(fs); }
inline Femtoseconds now_fs() { return sc_core::sc_time_stamp().value(); }

class DispatchIf : public virtual sc_core::sc_interface {
 public:
  // A NOTIFY whose increment becomes visible at land_fs (>= the current time).
  virtual void post(std::uint32_t sem, Femtoseconds land_fs) = 0;
  // A WAIT reached at local_fs; returns when the semaphore could be taken, with the time the
  // queue resumes, or nullopt when the run was aborted (deadlock).
  virtual std::optional<Femtoseconds> take(std::uint32_t sem, Femtoseconds local_fs) = 0;
};

class MemoryChannelIf : public virtual sc_core::sc_interface {
 public:
  // Earliest time >= ready_fs at which a transfer may be issued.
  virtual Femtoseconds issue_slot(Femtoseconds ready_fs) const = 0;
  virtual TransferTiming transfer(Femtoseconds ready_fs, std::uint64_t bytes,
                                  std::uint64_t rows) = 0;
};

}  // namespace lpusim
