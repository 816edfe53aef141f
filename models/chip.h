// The SystemC model of the chip: MEM, VXM and MXM instruction queues, the dispatch semaphores, the
// memory channel and the SRAM, each a thin sc_module around a plain C++ timing core.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "models/busy_intervals.h"
#include "models/functional.h"
#include "models/memory_channel_core.h"
#include "models/sim_time.h"

namespace lpusim {

// Per-queue statistics, counted by the units and formatted elsewhere.
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

// Receives every executed instruction (traces/ implements it). Times are from the run's start.
class ChipObserver {
 public:
  virtual ~ChipObserver() = default;
  virtual void on_instruction(Unit unit, std::uint32_t index, const Instruction& inst,
                              Femtoseconds start_fs, Femtoseconds end_fs) = 0;
  virtual void on_transfer(const Instruction& inst, const TransferTiming& timing) {
    (void)inst;
    (void)timing;
  }
};

struct ChipRunOptions {
  FunctionalState* functional = nullptr;  // carry real data through this state when set
  ChipObserver* observer = nullptr;
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

// Runs `program` to completion on a chip configured by `hw`. SystemC elaborates once per process;
// every call reuses that elaboration, so runs may follow each other in one process. Throws
// SimulationError on a deadlock (naming the blocked queues and semaphores) or a program that
// does not fit in SRAM.
ChipRunResult run_on_chip(const Program& program, const HwConfig& hw,
                          const ChipRunOptions& options = {});

// VCD recording of the chip's state through SystemC's sc_trace (docs/TRACES.md): per queue a busy
// flag and the current opcode (code = opcode + 1, 0 idle), the memory channel's outstanding
// transfers and whether it carries data, and the values of semaphores 0..kVcdSemaphores-1.
inline constexpr int kVcdSemaphores = 16;
struct ChipVcdOptions {
  std::string path;                 // the file to write; must end in ".vcd"
  Femtoseconds window_from_fs = 0;  // value changes are recorded in [from, to) of each run
  Femtoseconds window_to_fs = std::numeric_limits<Femtoseconds>::max();
};
// Opens the VCD file. sc_trace must precede sc_start, so this must come before the process's
// first run_on_chip (SimulationError otherwise); every later run records into the file, its
// queues then keeping SystemC time in step with their own (slower, same timing results).
void enable_chip_vcd(const ChipVcdOptions& options);
// Flushes and closes the VCD file; later runs are not recorded. Does nothing when none is open.
void close_chip_vcd();

}  // namespace lpusim
