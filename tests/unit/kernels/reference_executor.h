// Test-only reference interpreter of docs/ISA.md: carries out data instructions on real bytes and
// runs a whole program's queues under a chosen interleaving that honours only the semaphores.
// Written independently of models/functional.cpp so each cross-checks the other.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/int_math.h"
#include "kernels/program.h"

namespace lpusim::testing {

class ReferenceMachine {
 public:
  explicit ReferenceMachine(const Program& program) {
    for (const BufferDecl& b : program.buffers) buffers.emplace_back(b.bytes, 0);
    for (const RegionDecl& r : program.regions) regions.emplace_back(r.bytes, 0);
  }

  std::vector<std::vector<std::uint8_t>> buffers;
  std::vector<std::vector<std::uint8_t>> regions;

  void execute(const Instruction& inst) {
    // A repeated VXM op: repetition r is the op on views moved r x their repeat strides, run
    // after repetition r - 1.
    for (std::uint32_t r = 0; r < inst.rep; ++r) {
      Instruction once = inst;
      once.rep = 1;
      once.dst.offset = inst.dst.offset + std::uint64_t{r} * inst.rep_stride[0];
      once.a.offset = inst.a.offset + std::uint64_t{r} * inst.rep_stride[1];
      once.b.offset = inst.b.offset + std::uint64_t{r} * inst.rep_stride[2];
      execute_once(once);
    }
  }

 private:
  void execute_once(const Instruction& inst) {
    switch (inst.opcode) {
      case Opcode::kNop:
      case Opcode::kNotify:
      case Opcode::kWait:
      case Opcode::kHalt:
        return;
      case Opcode::kLoad:
        return copy_rows(inst, regions.at(inst.a.space), inst.a, buffers.at(inst.dst.space),
                         inst.dst);
      case Opcode::kStore:
        return copy_rows(inst, buffers.at(inst.a.space), inst.a, regions.at(inst.dst.space),
                         inst.dst);
      case Opcode::kMatmul:
        return matmul(inst);
      case Opcode::kRsum:
      case Opcode::kRmax:
        return reduce(inst);
      default:
        return elementwise(inst);
    }
  }

  struct Elem {
    std::int64_t i = 0;  // integer types: the value, sign- or zero-extended
    float f = 0;         // float types
  };

  static bool is_signed(ElemType t) {
    return t == ElemType::kI8 || t == ElemType::kI16 || t == ElemType::kI32;
  }
  static int bits(ElemType t) { return elem_bytes(t) * 8; }

  static std::uint8_t* at(std::vector<std::uint8_t>& mem, const View& v, std::uint64_t i,
                          std::uint64_t j, int size) {
    const std::int64_t off = static_cast<std::int64_t>(v.offset) +
                             static_cast<std::int64_t>(i) * v.row_stride +
                             static_cast<std::int64_t>(j) * v.col_stride;
    if (off < 0 ||
        static_cast<std::uint64_t>(off) + static_cast<std::uint64_t>(size) > mem.size()) {
      throw std::out_of_range("reference: access outside its buffer");
    }
    return mem.data() + off;
  }

  static Elem read(const std::uint8_t* p, ElemType t) {
    Elem e;
    if (t == ElemType::kF32) {
      std::memcpy(&e.f, p, 4);
    } else if (t == ElemType::kF16) {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      e.f = fp16_to_float(h);
    } else {
      std::uint64_t raw = 0;
      std::memcpy(&raw, p, static_cast<std::size_t>(elem_bytes(t)));  // little-endian host
      const int n = bits(t);
      if (is_signed(t) && (raw >> (n - 1)) & 1) raw |= ~0ULL << n;
      e.i = static_cast<std::int64_t>(raw);
    }
    return e;
  }

  static void write(std::uint8_t* p, ElemType t, Elem e) {
    if (t == ElemType::kF32) {
      std::memcpy(p, &e.f, 4);
    } else if (t == ElemType::kF16) {
      const std::uint16_t h = float_to_fp16(e.f);
      std::memcpy(p, &h, 2);
    } else {
      const auto raw = static_cast<std::uint64_t>(e.i);  // truncated to the width
      std::memcpy(p, &raw, static_cast<std::size_t>(elem_bytes(t)));
    }
  }

  static Elem convert(Elem v, ElemType from, ElemType to) {
    Elem out;
    if (is_float(to)) {
      out.f = is_float(from) ? v.f : static_cast<float>(v.i);
    } else if (is_float(from)) {
      if (std::isnan(v.f)) return out;
      double r = std::round(static_cast<double>(v.f));  // half away from zero
      const double lo = is_signed(to) ? -std::ldexp(1.0, bits(to) - 1) : 0.0;
      const double hi =
          is_signed(to) ? std::ldexp(1.0, bits(to) - 1) - 1 : std::ldexp(1.0, bits(to)) - 1;
      r = std::min(std::max(r, lo), hi);
      out.i = static_cast<std::int64_t>(r);
    } else {
      out.i = v.i;
    }
    return out;
  }

  static std::uint64_t pattern(std::int64_t v, ElemType t) {
    const int n = bits(t);
    return static_cast<std::uint64_t>(v) & (n == 64 ? ~0ULL : ((1ULL << n) - 1));
  }

  static Elem integer_op(Opcode op, ElemType t, Elem a, Elem b, Elem d) {
    Elem r;
    const int n = bits(t);
    switch (op) {
      case Opcode::kAdd:
        r.i = a.i + b.i;
        break;
      case Opcode::kSub:
        r.i = a.i - b.i;
        break;
      case Opcode::kMul:
        r.i = a.i * b.i;
        break;
      case Opcode::kMad:
        r.i = a.i * b.i + d.i;
        break;
      case Opcode::kMin:
        r.i = std::min(a.i, b.i);
        break;
      case Opcode::kMax:
        r.i = std::max(a.i, b.i);
        break;
      case Opcode::kAnd:
        r.i = a.i & b.i;
        break;
      case Opcode::kOr:
        r.i = a.i | b.i;
        break;
      case Opcode::kXor:
        r.i = a.i ^ b.i;
        break;
      case Opcode::kShl:
        r.i = static_cast<std::int64_t>(pattern(a.i, t) << b.i);
        break;
      case Opcode::kShr:
        r.i = static_cast<std::int64_t>(pattern(a.i, t) >> b.i);
        break;
      case Opcode::kSar: {
        std::uint64_t p = pattern(a.i, t);
        if ((p >> (n - 1)) & 1) p |= ~0ULL << n;
        r.i = static_cast<std::int64_t>(p) >> b.i;
        break;
      }
      case Opcode::kMov:
        r.i = a.i;
        break;
      case Opcode::kAbs:
        r.i = a.i < 0 ? -a.i : a.i;
        break;
      case Opcode::kNeg:
        r.i = -a.i;
        break;
      default:
        throw std::invalid_argument("reference: no integer form");
    }
    return r;
  }

  static Elem float_op(Opcode op, Elem a, Elem b, Elem d) {
    Elem r;
    switch (op) {
      case Opcode::kAdd:
        r.f = a.f + b.f;
        break;
      case Opcode::kSub:
        r.f = a.f - b.f;
        break;
      case Opcode::kMul:
        r.f = a.f * b.f;
        break;
      case Opcode::kMad: {
        const float product = a.f * b.f;  // rounded, then added: not fused
        r.f = product + d.f;
        break;
      }
      case Opcode::kMin:
        r.f = b.f < a.f ? b.f : a.f;
        break;
      case Opcode::kMax:
        r.f = a.f < b.f ? b.f : a.f;
        break;
      case Opcode::kMov:
        r.f = a.f;
        break;
      case Opcode::kAbs:
        r.f = std::fabs(a.f);
        break;
      case Opcode::kNeg:
        r.f = -a.f;
        break;
      case Opcode::kExp:
        r.f = std::exp(a.f);
        break;
      case Opcode::kRsqrt:
        r.f = 1.0f / std::sqrt(a.f);
        break;
      case Opcode::kRecip:
        r.f = 1.0f / a.f;
        break;
      default:
        throw std::invalid_argument("reference: no float form");
    }
    return r;
  }

  void elementwise(const Instruction& inst) {
    auto& dst = buffers.at(inst.dst.space);
    auto& a = buffers.at(inst.a.space);
    const bool binary = (opcode_info(inst.opcode).operands & kOpB) != 0;
    const ElemType t = inst.type;
    const ElemType src = inst.opcode == Opcode::kCvt ? inst.src_type : t;
    Elem imm;
    imm.i = static_cast<std::int64_t>(inst.imm);
    imm.f = static_cast<float>(inst.imm);
    const int es = elem_bytes(t);
    for (std::uint64_t i = 0; i < inst.n0; ++i) {
      for (std::uint64_t j = 0; j < inst.n1; ++j) {
        const Elem va = read(at(a, inst.a, i, j, elem_bytes(src)), src);
        std::uint8_t* d = at(dst, inst.dst, i, j, es);
        if (inst.opcode == Opcode::kCvt) {
          write(d, t, convert(va, src, t));
          continue;
        }
        Elem vb = imm;
        if (binary && !inst.b_is_imm) vb = read(at(buffers.at(inst.b.space), inst.b, i, j, es), t);
        const Elem vd = read(d, t);
        write(d, t,
              is_float(t) ? float_op(inst.opcode, va, vb, vd)
                          : integer_op(inst.opcode, t, va, vb, vd));
      }
    }
  }

  void reduce(const Instruction& inst) {
    auto& dst = buffers.at(inst.dst.space);
    auto& a = buffers.at(inst.a.space);
    const ElemType t = inst.type;
    const int es = elem_bytes(t);
    const bool sum = inst.opcode == Opcode::kRsum;
    for (std::uint64_t i = 0; i < inst.n0; ++i) {
      Elem acc = read(at(a, inst.a, i, 0, es), t);
      for (std::uint64_t j = 1; j < inst.n1; ++j) {
        const Elem v = read(at(a, inst.a, i, j, es), t);
        if (is_float(t)) {
          acc.f = sum ? acc.f + v.f : (acc.f < v.f ? v.f : acc.f);
        } else {
          acc.i = sum ? acc.i + v.i : std::max(acc.i, v.i);
        }
      }
      write(at(dst, inst.dst, 0, i, es), t, acc);
    }
  }

  void matmul(const Instruction& inst) {
    auto& y = buffers.at(inst.dst.space);
    auto& w = buffers.at(inst.a.space);
    auto& x = buffers.at(inst.b.space);
    const bool f16 = inst.type == ElemType::kF16;
    const int es = f16 ? 2 : 1;
    const std::uint64_t group = inst.kgroup == 0 ? inst.k : inst.kgroup;
    const std::uint64_t groups = ceil_div(inst.k, group);
    for (std::uint64_t i = 0; i < inst.m; ++i) {
      for (std::uint64_t g = 0; g < groups; ++g) {
        const std::uint64_t end = std::min<std::uint64_t>(inst.k, (g + 1) * group);
        for (std::uint64_t j = 0; j < inst.n; ++j) {
          Elem acc;
          for (std::uint64_t k = g * group; k < end; ++k) {
            const Elem xv = read(at(x, inst.b, i, k, es), inst.type);
            const Elem wv = read(at(w, inst.a, j, k, es), inst.type);
            if (f16) {
              const float product = xv.f * wv.f;
              acc.f = acc.f + product;
            } else {
              acc.i += xv.i * wv.i;
            }
          }
          View out = inst.dst;
          out.col_stride = 4;
          write(at(y, out, 0, (i * groups + g) * inst.n + j, 4),
                f16 ? ElemType::kF32 : ElemType::kI32, acc);
        }
      }
    }
  }

  static void copy_rows(const Instruction& inst, std::vector<std::uint8_t>& from, const View& src,
                        std::vector<std::uint8_t>& to, const View& dst) {
    for (std::uint64_t r = 0; r < inst.n0; ++r) {
      const std::uint8_t* s = at(from, src, r, 0, static_cast<int>(inst.bytes));
      std::uint8_t* d = at(to, dst, r, 0, static_cast<int>(inst.bytes));
      std::memcpy(d, s, inst.bytes);
    }
  }
};

// How run_program interleaves the queues.
enum class Schedule {
  kMemFirst,  // run each queue as far as it goes, mem then vxm then mxm
  kMxmFirst,  // the same, mxm then vxm then mem
  kRandom,    // one instruction of a random runnable queue at a time
};

// Runs every queue to its end honouring only NOTIFY/WAIT (a NOTIFY is visible at once). Returns
// "" on success or a description of the deadlock.
inline std::string run_program(const Program& program, ReferenceMachine& machine, Schedule schedule,
                               unsigned seed = 1) {
  std::vector<std::int64_t> sems;
  for (const SemaphoreDecl& s : program.semaphores) sems.push_back(s.initial);
  std::array<std::size_t, kUnitCount> pc{};
  std::mt19937 rng(seed);
  auto runnable = [&](int q) {
    const auto& list = program.queue(static_cast<Unit>(q));
    if (pc[q] >= list.size()) return false;
    const Instruction& inst = list[pc[q]];
    return inst.opcode != Opcode::kWait || sems[inst.sem] > 0;
  };
  auto step = [&](int q) {
    const Instruction& inst = program.queue(static_cast<Unit>(q))[pc[q]++];
    if (inst.opcode == Opcode::kWait) --sems[inst.sem];
    if (inst.opcode == Opcode::kNotify) ++sems[inst.sem];
    if (inst.opcode == Opcode::kHalt) pc[q] = program.queue(static_cast<Unit>(q)).size();
    machine.execute(inst);
  };
  while (true) {
    std::vector<int> ready;
    for (int q = 0; q < kUnitCount; ++q) {
      if (runnable(q)) ready.push_back(q);
    }
    if (ready.empty()) break;
    if (schedule == Schedule::kRandom) {
      step(ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng)]);
      continue;
    }
    const int q = schedule == Schedule::kMemFirst ? ready.front() : ready.back();
    while (runnable(q)) step(q);
  }
  std::string stuck;
  for (int q = 0; q < kUnitCount; ++q) {
    const auto& list = program.queue(static_cast<Unit>(q));
    if (pc[q] < list.size()) {
      stuck += std::string(unit_name(static_cast<Unit>(q))) + " waits on " +
               program.semaphores[list[pc[q]].sem].name + " at " + std::to_string(pc[q]) + "; ";
    }
  }
  return stuck;
}

}  // namespace lpusim::testing
