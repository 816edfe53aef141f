// Timing core of the off-chip memory channel: burst-rounded transfers serialised on one channel
// at its bandwidth, completing one access latency after their last byte, with a bounded number
// in flight. Plain C++ (the SystemC shell is models/chip.h).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

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

class MemoryChannelCore {
 public:
  explicit MemoryChannelCore(const MemoryConfig& config);

  // Bytes actually moved for one row of `bytes`: rounded up to whole bursts.
  std::uint64_t rounded_bytes(std::uint64_t bytes) const;
  // Channel occupancy of `bytes` already rounded to bursts.
  Femtoseconds occupancy_fs(std::uint64_t rounded) const;

  // Earliest time >= ready_fs at which a new transfer may be issued (an outstanding slot free).
  Femtoseconds issue_slot_fs(Femtoseconds ready_fs) const;

  // Schedules `rows` rows of `bytes` each as one transfer requested at ready_fs. Times saturate
  // at kMaxFemtoseconds; the caller reports a saturated `complete` as an overflow.
  TransferTiming schedule(Femtoseconds ready_fs, std::uint64_t bytes, std::uint64_t rows);

  const MemoryChannelStats& stats() const { return stats_; }
  // [start, complete) of every transfer: the time data was in flight.
  const BusyIntervals& in_flight() const { return in_flight_; }
  const BusyIntervals& busy() const { return busy_; }

 private:
  MemoryConfig config_;
  Femtoseconds latency_fs_;
  Femtoseconds channel_free_fs_ = 0;
  std::priority_queue<Femtoseconds, std::vector<Femtoseconds>, std::greater<>> completions_;
  MemoryChannelStats stats_;
  BusyIntervals in_flight_;
  BusyIntervals busy_;
};

}  // namespace lpusim
