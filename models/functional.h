// Functional side of the chip (`--functional`): SRAM buffers and off-chip regions as real bytes,
// and the exact semantics of every data instruction of docs/ISA.md. Timing never reads it.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/program.h"

namespace lpusim {

class FunctionalState {
 public:
  explicit FunctionalState(const Program& program);

  std::vector<std::uint8_t>& buffer(std::uint32_t id) { return buffers_.at(id); }
  std::vector<std::uint8_t>& region(std::uint32_t id) { return regions_.at(id); }
  const std::vector<std::uint8_t>& region(std::uint32_t id) const { return regions_.at(id); }
  const std::uint8_t* buffer_data(std::uint32_t id) const { return buffers_.at(id).data(); }

  // Carries out one data instruction (LOAD, STORE, VXM ops, MATMUL); dispatch ones are no-ops.
  void execute(const Instruction& inst);

 private:
  void load(const Instruction& inst);
  void store(const Instruction& inst);
  void matmul(const Instruction& inst);
  void vector_op(const Instruction& inst);
  void reduction(const Instruction& inst);

  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<std::vector<std::uint8_t>> regions_;
};

}  // namespace lpusim
