#include "sim/engine/simulation.h"

#include <algorithm>
#include <cstdlib>
#include <systemc>

#include "kernels/error.h"
#include "models/asan_stack.h"
#include "models/chip_system.h"
#include "traces/unit_stats_sink.h"

namespace lpusim {

Simulation::Simulation(const SimulationOptions& options) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION ||
      sc_core::sc_get_curr_simcontext()->elaboration_done()) {
    throw SimulationError(
        "a second Simulation in one process: SystemC elaborates once per process, so reuse the "
        "first Simulation (Simulation::run takes any program and hardware config) or run in a "
        "child process");
  }
  if (options.chips < 1) {
    throw SimulationError("a simulation needs at least one chip, got " +
                          std::to_string(options.chips));
  }
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
  // SystemC prints info and warnings on stdout; keep stdout for reports.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_LOG);
  system_ = std::make_unique<ChipSystem>(options.chips);
  // Finish elaboration and let every queue thread reach its wait for a program, so that the
  // first run starts from the same state as every later one.
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  restore_asan_stack_bounds();
}

Simulation::~Simulation() = default;

int Simulation::chips() const { return system_->size(); }

std::string Simulation::kernel_version() { return sc_core::sc_version(); }

void Simulation::attach(ChipEventSink& sink) { attached_.push_back(&sink); }

void Simulation::detach(ChipEventSink& sink) {
  attached_.erase(std::remove(attached_.begin(), attached_.end(), &sink), attached_.end());
}

ChipRunResult Simulation::run(const Program& program, const HwConfig& hw,
                              const SimRunOptions& options) {
  Chip& chip = system_->chip(options.chip);
  UnitStatsSink stats;
  ChipEventSinks sinks;
  sinks.add(&stats);
  for (ChipEventSink* s : options.sinks) sinks.add(s);
  for (ChipEventSink* s : attached_) sinks.add(s);
  sinks.run_begin(
      RunBegin{options.chip, &program, &hw, options.label, sc_core::sc_time_stamp().value()});
  ChipRunOptions chip_options;
  chip_options.functional = options.functional;
  chip_options.sinks = &sinks;
  const ChipRunTiming timing = chip.run(program, hw, chip_options);
  sinks.run_end(RunEnd{options.chip, timing.quiescent_fs});

  ChipRunResult result;
  result.units = std::move(stats.units());
  for (const UnitStats& s : result.units) {
    result.elapsed_fs = std::max(result.elapsed_fs, s.finish_fs);
    result.instructions += s.instructions;
  }
  result.cycles = Clock(hw.clock).fs_to_cycles_ceil(result.elapsed_fs);
  const MemoryChannelCore& memory = *timing.memory;
  result.memory = memory.stats();
  result.memory_in_flight_fs = memory.in_flight().total();
  // Bandwidth-bound: data in flight while no unit that can bound a step (the compute units of the
  // unit table) was busy.
  std::vector<const BusyIntervals*> compute;
  for (const UnitInfo& unit : unit_table()) {
    if (unit.bounds_steps) compute.push_back(&result.unit(unit.unit).busy);
  }
  result.bandwidth_bound_fs = uncovered_time(memory.in_flight(), compute);
  return result;
}

}  // namespace lpusim
