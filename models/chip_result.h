// What a run of the chip measured: per-queue statistics and the memory channel's, assembled by
// the simulation from the model's timing and the statistics sink of its event stream.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/isa.h"
#include "models/busy_intervals.h"
#include "models/memory_channel_core.h"
#include "models/sim_time.h"

namespace lpusim {

// Per-queue statistics, counted from the instruction events and formatted elsewhere.
struct UnitStats {
  std::uint64_t instructions = 0;
  Femtoseconds busy_fs = 0;      // occupied by its own instructions (waits excluded)
  Femtoseconds wait_fs = 0;      // blocked in WAIT (or on a full memory channel)
  Femtoseconds finish_fs = 0;    // when its last instruction completed, from the run's start
  std::uint64_t sram_bytes = 0;  // VXM/MXM SRAM traffic
  std::uint64_t alu_ops = 0;     // VXM element operations
  std::uint64_t macs = 0;        // MXM multiply-accumulates
  BusyIntervals busy;            // absolute [start, end) intervals of busy_fs
};

struct ChipRunResult {
  Femtoseconds elapsed_fs = 0;  // start to the last completion of any queue
  std::uint64_t cycles = 0;     // elapsed_fs in whole cycles (rounded up)
  std::uint64_t instructions = 0;
  std::array<UnitStats, kUnitCount> units;
  MemoryChannelStats memory;
  Femtoseconds memory_in_flight_fs = 0;  // union of [first byte, data usable) of all transfers
  Femtoseconds bandwidth_bound_fs = 0;   // a transfer in flight while VXM and MXM were idle

  const UnitStats& unit(Unit u) const { return units[static_cast<int>(u)]; }
};

}  // namespace lpusim
