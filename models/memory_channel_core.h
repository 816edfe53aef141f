// Timing core of the off-chip memory channel: burst-rounded transfers serialised on one channel
// at its bandwidth, completing one access latency after their last byte, with at most
// memory.outstanding bursts in flight. Plain C++ (the SystemC shell is models/chip.h).
#pragma once

#include <cstdint>
#include <deque>

#include "kernels/hw.h"
#include "models/busy_intervals.h"
#include "models/sim_time.h"

namespace lpusim {

struct TransferTiming {
  Femtoseconds start = 0;      // first byte on the channel
  Femtoseconds last_byte = 0;  // channel free again
  Femtoseconds complete = 0;   // data usable: last_byte + latency
};

struct MemoryChannelStats {
  std::uint64_t transfers = 0;
  std::uint64_t bytes = 0;        // bytes asked for
  std::uint64_t burst_bytes = 0;  // bytes moved after rounding to bursts
  Femtoseconds busy_fs = 0;       // time the channel carried data
  Femtoseconds stall_fs = 0;      // time requests waited for a free outstanding slot
};

// Bursts that crossed the channel back to back: burst `first` + j (j < count) of a run that began
// at `start` ends at start + occupancy of (first + j + 1) bursts.
struct BurstRun {
  Femtoseconds start = 0;
  std::uint64_t first = 0;
  std::uint64_t count = 0;
};

class MemoryChannelCore {
 public:
  explicit MemoryChannelCore(const MemoryConfig& config);

  // Bytes actually moved for one row of `bytes`: rounded up to whole bursts.
  std::uint64_t rounded_bytes(std::uint64_t bytes) const;
  // Channel occupancy of `bytes` already rounded to bursts.
  Femtoseconds occupancy_fs(std::uint64_t rounded) const;

  // Earliest time >= ready_fs at which a new transfer may be issued: its first burst has an
  // outstanding slot (the burst memory.outstanding bursts before it has landed).
  Femtoseconds issue_slot_fs(Femtoseconds ready_fs) const;

  // Schedules `rows` rows of `bytes` each as one transfer requested at ready_fs. Each burst holds
  // an outstanding slot from its issue until it lands (latency after its last byte), so a stream
  // of bursts moves at most outstanding x burst per (latency + one burst's occupancy). Times
  // saturate at kMaxFemtoseconds; the caller reports a saturated `complete` as an overflow.
  TransferTiming schedule(Femtoseconds ready_fs, std::uint64_t bytes, std::uint64_t rows);

  const MemoryChannelStats& stats() const { return stats_; }
  // [start, complete) of every transfer: the time data was in flight.
  const BusyIntervals& in_flight() const { return in_flight_; }

 private:
  bool window_full() const;
  Femtoseconds front_last_byte() const;  // last byte of the oldest burst in the window
  // Appends a run of `count` bursts starting at `start`; drops the bursts older than the window.
  void push_run(Femtoseconds start, std::uint64_t count);
  // Moves every burst of the window `periods` throttled periods later (see schedule()).
  void shift_window(std::uint64_t periods);

  MemoryConfig config_;
  Femtoseconds latency_fs_;
  Femtoseconds burst_fs_;  // one burst's occupancy
  std::uint64_t outstanding_;
  // Whether a stream can fill the channel: (outstanding - 1) bursts cover bandwidth x latency, so
  // no burst ever waits for a slot and the window need not be kept.
  bool never_throttled_;
  Femtoseconds channel_free_fs_ = 0;
  std::deque<BurstRun> window_;  // the last `outstanding` bursts (or all, while fewer)
  std::uint64_t window_bursts_ = 0;
  MemoryChannelStats stats_;
  BusyIntervals in_flight_;
};

}  // namespace lpusim
