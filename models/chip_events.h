// The chip's one event stream: every executed instruction with its timing and what it did, and
// the bounds of each run. Sinks (statistics, traces, breakdowns, functional checks) observe it;
// none of them drives the model. Plain C++, no SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "models/compute_cost.h"
#include "models/memory_channel_core.h"
#include "models/sim_time.h"

namespace lpusim {

// A run begins: the program, the hardware and the run's place on the simulation's time axis.
struct RunBegin {
  int chip = 0;
  const Program* program = nullptr;
  const HwConfig* hw = nullptr;
  std::string label;      // names the run in traces ("decode step", "gemm 1x4096x4096 q3.5")
  Femtoseconds start_fs;  // absolute simulation time of the run's start
};

// One executed instruction. Every time is from the run's start.
struct InstructionEvent {
  int chip = 0;
  Unit unit = Unit::kMem;
  std::uint32_t index = 0;  // in its queue
  const Instruction* inst = nullptr;
  Femtoseconds issue_fs = 0;     // the queue reached it
  Femtoseconds start_fs = 0;     // it began to occupy its unit (LOAD/STORE: the issue slot; WAIT:
                                 // the semaphore was taken); issue_fs otherwise
  Femtoseconds end_fs = 0;       // the queue moves on to its next instruction
  Femtoseconds complete_fs = 0;  // its results are usable (after latency; a transfer's data)
  // LOAD/STORE: the transfer on the memory channel; its issue slot is start_fs.
  TransferTiming transfer;
  // A LOAD/STORE that crossed the memory channel (`transfer` is set). False for a copy of an
  // on-chip region within SRAM, which occupies the MEM queue like a compute op (`cost`).
  bool on_channel = false;
  // WAIT: time blocked (start_fs - issue_fs).
  Femtoseconds waited_fs = 0;
  // NOTIFY: when the increment lands.
  Femtoseconds lands_fs = 0;
  // VXM/MXM work: occupancy, latency, SRAM bytes, operations.
  UnitCost cost;
};

// A run ended normally: when the simulation kernel ran out of events, from the run's start.
struct RunEnd {
  int chip = 0;
  Femtoseconds quiescent_fs = 0;
};

class ChipEventSink {
 public:
  virtual ~ChipEventSink() = default;
  virtual void on_run_begin(const RunBegin& run) { (void)run; }
  virtual void on_instruction(const InstructionEvent& event) = 0;
  virtual void on_run_end(const RunEnd& run) { (void)run; }
};

// The sinks of one run, called in order.
class ChipEventSinks {
 public:
  void add(ChipEventSink* sink) {
    if (sink != nullptr) sinks_.push_back(sink);
  }
  void run_begin(const RunBegin& run) const {
    for (ChipEventSink* s : sinks_) s->on_run_begin(run);
  }
  void instruction(const InstructionEvent& event) const {
    for (ChipEventSink* s : sinks_) s->on_instruction(event);
  }
  void run_end(const RunEnd& run) const {
    for (ChipEventSink* s : sinks_) s->on_run_end(run);
  }
  bool empty() const { return sinks_.empty(); }

 private:
  std::vector<ChipEventSink*> sinks_;
};

}  // namespace lpusim
