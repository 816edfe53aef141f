// The simulation: owns SystemC's elaboration of a ChipSystem, the kernel's time resolution, the
// report policy and the event sinks, and runs programs on its chips.
//
// One elaboration per process. SystemC 2.3 elaborates a design once per process: modules can only
// be built before the kernel first starts, and the kernel cannot be reset. lpusim says so openly
// instead of hiding a process-wide chip behind a function:
//   - a command constructs one Simulation, sized for the largest system it needs
//     (SimulationOptions::chips), and passes it down by reference;
//   - Simulation::run may be called any number of times, with different programs and hardware
//     configs (a run configures its chip from the HwConfig it is given); runs follow each other
//     on the kernel's time axis and give the results they would give in a fresh process;
//   - constructing a second Simulation in the same process throws SimulationError saying why:
//     reuse the first one, or run in a child process (as `lpusim sweep` does).
// The elaborated modules live until the process exits (SystemC does not support destroying them),
// so destroying a Simulation does not make room for another.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "models/chip_events.h"
#include "models/chip_result.h"
#include "models/functional.h"

namespace lpusim {

class ChipSystem;

struct SimulationOptions {
  int chips = 1;  // the chips elaborated (named chip0, chip1, ...)
};

struct SimRunOptions {
  int chip = 0;       // which chip of the system runs the program
  std::string label;  // names the run in traces ("decode step", "gemm 1x4096x4096 q3.5")
  FunctionalState* functional = nullptr;  // carry real data through this state when set
  std::vector<ChipEventSink*> sinks;      // this run only, called before the attached sinks
};

class Simulation {
 public:
  // Elaborates `options.chips` chips. Throws SimulationError when a Simulation already exists
  // in this process (or SystemC was elaborated otherwise), or when chips < 1.
  explicit Simulation(const SimulationOptions& options = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs `program` to completion on chip options.chip configured by `hw`. Throws
  // SimulationError on a deadlock (naming the blocked queues and semaphores), a time overflow or
  // a program that does not fit in SRAM; the simulation can run again afterwards.
  ChipRunResult run(const Program& program, const HwConfig& hw, const SimRunOptions& options = {});

  // Adds a sink that receives every later run's events (traces); `sink` must outlive its
  // attachment. detach() removes it.
  void attach(ChipEventSink& sink);
  void detach(ChipEventSink& sink);

  int chips() const;
  // The simulation kernel's version, as its VCD files name it.
  static std::string kernel_version();

 private:
  std::unique_ptr<ChipSystem> system_;
  std::vector<ChipEventSink*> attached_;
};

}  // namespace lpusim
