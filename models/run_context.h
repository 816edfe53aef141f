// The state of the current run that a chip's modules share while the simulation kernel runs.
#pragma once

#include <optional>
#include <string>

#include "kernels/program.h"
#include "models/chip_events.h"
#include "models/compute_cost.h"
#include "models/functional.h"
#include "models/sim_time.h"

namespace lpusim {

struct RunContext {
  int chip = 0;
  const Program* program = nullptr;
  FunctionalState* functional = nullptr;  // carry real data through this state when set
  const ChipEventSinks* sinks = nullptr;  // receive every executed instruction when set
  Clock clock{Hertz{1e9}};
  Femtoseconds start_fs = 0;
  Femtoseconds issue_fs = 0;  // one dispatch slot
  std::optional<VxmCost> vxm;
  std::optional<MxmCost> mxm;
  std::optional<SramCopyCost> sram_copy;
  // The first time overflow a queue met; the queues cannot throw across SystemC's coroutines, so
  // Chip::run throws it once the kernel has returned.
  mutable std::optional<std::string> time_overflow;
};

}  // namespace lpusim
