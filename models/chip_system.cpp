#include "models/chip_system.h"

#include <string>

#include "kernels/error.h"

namespace lpusim {

ChipSystem::ChipSystem(int chips) {
  if (chips < 1) {
    throw SimulationError("a chip system needs at least one chip, got " + std::to_string(chips));
  }
  for (int i = 0; i < chips; ++i) {
    chips_.push_back(new Chip(("chip" + std::to_string(i)).c_str(), i));
  }
}

Chip& ChipSystem::chip(int index) {
  if (index < 0 || index >= size()) {
    throw SimulationError("chip " + std::to_string(index) + " does not exist: the simulation has " +
                          std::to_string(size()) + " chip(s)");
  }
  return *chips_[static_cast<std::size_t>(index)];
}

}  // namespace lpusim
