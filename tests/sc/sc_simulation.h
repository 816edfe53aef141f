// The one Simulation of a test process (SystemC elaborates once per process; ctest runs every
// test in a process of its own, and a test binary run by hand shares this one among its tests).
#pragma once

#include "sim/engine/simulation.h"

namespace lpusim::testing {

inline Simulation& test_simulation() {
  static Simulation simulation(SimulationOptions{2});  // two chips: chip 1 is tested too
  return simulation;
}

inline ChipRunResult run_on_test_chip(const Program& program, const HwConfig& hw,
                                      const SimRunOptions& options = {}) {
  return test_simulation().run(program, hw, options);
}

}  // namespace lpusim::testing
