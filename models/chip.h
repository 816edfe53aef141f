// The SystemC model of one chip: an in-order queue per row of the unit table, the dispatch
// semaphores and the memory channel, each a thin sc_module around a plain C++ timing core. The
// chip reports every executed instruction to the run's event sinks; it keeps no statistics and
// writes no traces itself.
#pragma once

#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "models/chip_events.h"
#include "models/chip_result.h"
#include "models/dispatch.h"
#include "models/functional.h"
#include "models/memory_channel.h"
#include "models/queue_unit.h"
#include "models/run_context.h"

namespace lpusim {

struct ChipRunOptions {
  FunctionalState* functional = nullptr;  // carry real data through this state when set
  const ChipEventSinks* sinks = nullptr;  // receive every executed instruction when set
};

// The model's own timing of a run; the rest of a ChipRunResult comes from the event stream.
struct ChipRunTiming {
  Femtoseconds start_fs = 0;                  // absolute simulation time of the run's start
  Femtoseconds quiescent_fs = 0;              // the kernel ran out of events, from the run's start
  const MemoryChannelCore* memory = nullptr;  // the channel's statistics, valid until the next run
};

class Chip : public sc_core::sc_module {
 public:
  Chip(const sc_core::sc_module_name& name, int index);

  // Runs `program` to completion on this chip configured by `hw`, from the kernel's current time.
  // Must be called outside the kernel (between sc_start calls). Throws SimulationError on a
  // program that does not fit in SRAM, a deadlock (naming the blocked queues and semaphores) or a
  // time overflow; the chip can run again afterwards.
  ChipRunTiming run(const Program& program, const HwConfig& hw, const ChipRunOptions& options);
  int index() const { return index_; }

 private:
  std::string describe_deadlock(const Program& program);

  int index_;
  Dispatch dispatch_;
  MemoryChannel channel_;
  std::vector<std::unique_ptr<QueueUnit>> queues_;  // by Unit, built from the unit table
  RunContext ctx_;
};

}  // namespace lpusim
