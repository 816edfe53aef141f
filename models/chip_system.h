// One or more chips in one SystemC elaboration, sized when it is built. Chips run one after
// another (each run starts at the kernel's current time); today every command uses chip 0.
#pragma once

#include <vector>

#include "models/chip.h"

namespace lpusim {

class ChipSystem {
 public:
  // Builds `chips` chips named chip0, chip1, ...; must happen during elaboration (before the
  // kernel first starts). SystemC does not support destroying an elaborated module whose
  // processes have run, so the chips stay with the kernel (which holds them) until the process
  // exits; destroying the ChipSystem does not destroy them.
  explicit ChipSystem(int chips);

  int size() const { return static_cast<int>(chips_.size()); }
  // Throws SimulationError naming the number of chips when `index` is out of range.
  Chip& chip(int index);

 private:
  std::vector<Chip*> chips_;
};

}  // namespace lpusim
