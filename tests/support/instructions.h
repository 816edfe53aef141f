// Hand-written instructions for chip and cost tests: an opcode alone, a NOP of some cycles, a
// semaphore wait or notify, a VXM op on three views, and a MATMUL of m x k by k x n (kgroup 0:
// the whole k is one group).
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

inline Instruction vxm_op(Opcode opcode, ElemType type, View dst, View a, View b, std::uint32_t n0,
                          std::uint32_t n1) {
  Instruction inst = op(opcode);
  inst.type = type;
  inst.dst = dst;
  inst.a = a;
  inst.b = b;
  inst.n0 = n0;
  inst.n1 = n1;
  return inst;
}

inline Instruction matmul(ElemType type, std::uint32_t m, std::uint32_t k, std::uint32_t n,
                          std::uint32_t kgroup = 0) {
  Instruction inst = op(Opcode::kMatmul);
  inst.type = type;
  inst.m = m;
  inst.k = k;
  inst.n = n;
  inst.kgroup = kgroup;
  return inst;
}

}  // namespace lpusim::testing
