// Hand-written instructions for chip tests: an opcode alone, a NOP of some cycles, and a
// semaphore wait or notify.
#pragma once

#include <cstdint>

#include "kernels/program.h"

namespace lpusim::testing {

inline Instruction op(Opcode opcode) {
  Instruction inst;
  inst.opcode = opcode;
  return inst;
}
inline Instruction nop(std::uint32_t cycles) {
  Instruction inst = op(Opcode::kNop);
  inst.n0 = cycles;
  return inst;
}
inline Instruction sem_op(Opcode opcode, std::uint32_t sem) {
  Instruction inst = op(opcode);
  inst.sem = sem;
  return inst;
}

}  // namespace lpusim::testing
