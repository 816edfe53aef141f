#include "models/functional.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "kernels/int_math.h"

namespace lpusim {

namespace {

// One element, held as an integer (exact, two's complement of the type's width) or a float.
struct Value {
  std::int64_t i = 0;
  float f = 0;
};

template <typename T>
T read_raw(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
void write_raw(std::uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

Value read_elem(const std::uint8_t* p, ElemType type) {
  Value v;
  switch (type) {
    case ElemType::kI8:
      v.i = read_raw<std::int8_t>(p);
      break;
    case ElemType::kU8:
      v.i = read_raw<std::uint8_t>(p);
      break;
    case ElemType::kI16:
      v.i = read_raw<std::int16_t>(p);
      break;
    case ElemType::kU16:
      v.i = read_raw<std::uint16_t>(p);
      break;
    case ElemType::kI32:
      v.i = read_raw<std::int32_t>(p);
      break;
    case ElemType::kU32:
      v.i = read_raw<std::uint32_t>(p);
      break;
    case ElemType::kF16:
      v.f = fp16_to_float(read_raw<std::uint16_t>(p));
      break;
    case ElemType::kF32:
      v.f = read_raw<float>(p);
      break;
    case ElemType::kNone:
      break;
  }
  return v;
}

// Integers are truncated to the type's width (two's complement wrap).
void write_elem(std::uint8_t* p, ElemType type, Value v) {
  switch (type) {
    case ElemType::kI8:
      write_raw(p, static_cast<std::int8_t>(v.i));
      break;
    case ElemType::kU8:
      write_raw(p, static_cast<std::uint8_t>(v.i));
      break;
    case ElemType::kI16:
      write_raw(p, static_cast<std::int16_t>(v.i));
      break;
    case ElemType::kU16:
      write_raw(p, static_cast<std::uint16_t>(v.i));
      break;
    case ElemType::kI32:
      write_raw(p, static_cast<std::int32_t>(v.i));
      break;
    case ElemType::kU32:
      write_raw(p, static_cast<std::uint32_t>(v.i));
      break;
    case ElemType::kF16:
      write_raw(p, float_to_fp16(v.f));
      break;
    case ElemType::kF32:
      write_raw(p, v.f);
      break;
    case ElemType::kNone:
      break;
  }
}

int bits_of(ElemType type) { return elem_bytes(type) * 8; }

// The bit pattern of an integer value in the type's width, as unsigned.
std::uint64_t bits_pattern(std::int64_t value, ElemType type) {
  const int bits = bits_of(type);
  const std::uint64_t mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
  return static_cast<std::uint64_t>(value) & mask;
}

std::int64_t sign_extend(std::uint64_t pattern, int bits) {
  const std::uint64_t sign = 1ULL << (bits - 1);
  return static_cast<std::int64_t>((pattern ^ sign) - sign);
}

std::int64_t round_half_away_saturate(float f, ElemType type) {
  if (std::isnan(f)) return 0;
  const double r = std::round(static_cast<double>(f));  // std::round: half away from zero
  const int bits = bits_of(type);
  const bool is_signed = type == ElemType::kI8 || type == ElemType::kI16 || type == ElemType::kI32;
  const double lo = is_signed ? -std::ldexp(1.0, bits - 1) : 0.0;
  const double hi = is_signed ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
  return static_cast<std::int64_t>(std::clamp(r, lo, hi));
}

Value convert(Value v, ElemType from, ElemType to) {
  Value out;
  if (is_float(to)) {
    out.f = is_float(from) ? v.f : static_cast<float>(v.i);
  } else if (is_float(from)) {
    out.i = round_half_away_saturate(v.f, to);
  } else {
    out.i = v.i;  // truncated to the destination width on write
  }
  return out;
}

Value integer_op(Opcode op, Value a, Value b, Value d, ElemType type) {
  const int bits = bits_of(type);
  const std::int64_t shift = b.i;
  Value r;
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
      r.i = static_cast<std::int64_t>(bits_pattern(a.i, type) << shift);
      break;
    case Opcode::kShr:
      r.i = static_cast<std::int64_t>(bits_pattern(a.i, type) >> shift);
      break;
    case Opcode::kSar:
      r.i = sign_extend(bits_pattern(a.i, type), bits) >> shift;
      break;
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
      throw SimulationError(std::string("functional: opcode ") +
                            std::string(opcode_info(op).mnemonic) + " has no integer form");
  }
  return r;
}

Value float_op(Opcode op, Value a, Value b, Value d) {
  Value r;
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
    case Opcode::kMad:
      r.f = a.f * b.f + d.f;
      break;
    case Opcode::kMin:
      r.f = std::min(a.f, b.f);
      break;
    case Opcode::kMax:
      r.f = std::max(a.f, b.f);
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
      throw SimulationError(std::string("functional: opcode ") +
                            std::string(opcode_info(op).mnemonic) + " has no float form");
  }
  return r;
}

std::uint64_t view_offset(const View& v, std::uint64_t i, std::uint64_t j) {
  return v.offset + static_cast<std::uint64_t>(static_cast<std::int64_t>(i) * v.row_stride +
                                               static_cast<std::int64_t>(j) * v.col_stride);
}

// The MXM's arithmetic: int8 x int8 summed exactly and stored as int32, or f16 x f16 summed in
// f32 in k order (product rounded to f32, then added: not fused).
struct Int8Mac {
  using Acc = std::int64_t;
  static Acc product(const std::uint8_t* x, const std::uint8_t* w) {
    return Acc{read_raw<std::int8_t>(x)} * read_raw<std::int8_t>(w);
  }
  static void store(std::uint8_t* y, Acc acc) { write_raw(y, static_cast<std::int32_t>(acc)); }
};
struct F16Mac {
  using Acc = float;
  static Acc product(const std::uint8_t* x, const std::uint8_t* w) {
    return fp16_to_float(read_raw<std::uint16_t>(x)) * fp16_to_float(read_raw<std::uint16_t>(w));
  }
  static void store(std::uint8_t* y, Acc acc) { write_raw(y, acc); }
};

// Y[i][g][j] (contiguous, 4-byte elements) = sum over k in group g of X[i][k] * W[j][k].
template <typename Mac>
void matmul_groups(const Instruction& inst, const std::uint8_t* w, const std::uint8_t* x,
                   std::uint8_t* y) {
  const std::uint64_t group = inst.kgroup == 0 ? inst.k : inst.kgroup;
  const std::uint64_t groups = ceil_div(inst.k, group);
  for (std::uint64_t i = 0; i < inst.m; ++i) {
    for (std::uint64_t g = 0; g < groups; ++g) {
      const std::uint64_t k_end = std::min<std::uint64_t>(inst.k, (g + 1) * group);
      for (std::uint64_t j = 0; j < inst.n; ++j) {
        typename Mac::Acc acc = 0;
        for (std::uint64_t k = g * group; k < k_end; ++k) {
          acc += Mac::product(x + view_offset(inst.b, i, k), w + view_offset(inst.a, j, k));
        }
        Mac::store(y + ((i * groups + g) * inst.n + j) * 4, acc);
      }
    }
  }
}

}  // namespace

FunctionalState::FunctionalState(const Program& program) {
  buffers_.reserve(program.buffers.size());
  for (const BufferDecl& b : program.buffers) buffers_.emplace_back(b.bytes, 0);
  regions_.reserve(program.regions.size());
  for (const RegionDecl& r : program.regions) regions_.emplace_back(r.bytes, 0);
}

void FunctionalState::execute(const Instruction& inst) {
  if (inst.rep > 1) {
    // In order, each repetition seeing what the ones before it wrote.
    for (std::uint32_t r = 0; r < inst.rep; ++r) execute(repetition(inst, r));
    return;
  }
  switch (inst.opcode) {
    case Opcode::kNop:
    case Opcode::kNotify:
    case Opcode::kWait:
    case Opcode::kHalt:
      return;
    case Opcode::kLoad:
      load(inst);
      return;
    case Opcode::kStore:
      store(inst);
      return;
    case Opcode::kMatmul:
      matmul(inst);
      return;
    case Opcode::kRsum:
    case Opcode::kRmax:
      reduction(inst);
      return;
    default:
      vector_op(inst);
      return;
  }
}

void FunctionalState::load(const Instruction& inst) {
  const std::vector<std::uint8_t>& src = regions_.at(inst.a.space);
  std::vector<std::uint8_t>& dst = buffers_.at(inst.dst.space);
  for (std::uint64_t r = 0; r < inst.n0; ++r) {
    std::memcpy(dst.data() + inst.dst.offset + r * inst.bytes,
                src.data() + view_offset(inst.a, r, 0), inst.bytes);
  }
}

void FunctionalState::store(const Instruction& inst) {
  const std::vector<std::uint8_t>& src = buffers_.at(inst.a.space);
  std::vector<std::uint8_t>& dst = regions_.at(inst.dst.space);
  for (std::uint64_t r = 0; r < inst.n0; ++r) {
    std::memcpy(dst.data() + view_offset(inst.dst, r, 0),
                src.data() + inst.a.offset + r * inst.bytes, inst.bytes);
  }
}

void FunctionalState::matmul(const Instruction& inst) {
  const std::uint8_t* w = buffers_.at(inst.a.space).data();
  const std::uint8_t* x = buffers_.at(inst.b.space).data();
  std::uint8_t* y = buffers_.at(inst.dst.space).data() + inst.dst.offset;
  if (inst.type == ElemType::kF16) {
    matmul_groups<F16Mac>(inst, w, x, y);
  } else {
    matmul_groups<Int8Mac>(inst, w, x, y);
  }
}

void FunctionalState::vector_op(const Instruction& inst) {
  std::uint8_t* dst = buffers_.at(inst.dst.space).data();
  const std::uint8_t* a = buffers_.at(inst.a.space).data();
  const bool binary = opcode_info(inst.opcode).operands & kOpB;
  const std::uint8_t* b = binary && !inst.b_is_imm ? buffers_.at(inst.b.space).data() : nullptr;
  const ElemType src_type = inst.opcode == Opcode::kCvt ? inst.src_type : inst.type;
  Value imm;
  imm.i = static_cast<std::int64_t>(inst.imm);
  imm.f = static_cast<float>(inst.imm);
  for (std::uint64_t i = 0; i < inst.n0; ++i) {
    for (std::uint64_t j = 0; j < inst.n1; ++j) {
      std::uint8_t* d = dst + view_offset(inst.dst, i, j);
      const Value va = read_elem(a + view_offset(inst.a, i, j), src_type);
      if (inst.opcode == Opcode::kCvt) {
        write_elem(d, inst.type, convert(va, inst.src_type, inst.type));
        continue;
      }
      const Value vb = b ? read_elem(b + view_offset(inst.b, i, j), inst.type) : imm;
      const Value vd = inst.opcode == Opcode::kMad ? read_elem(d, inst.type) : Value{};
      write_elem(d, inst.type,
                 is_float(inst.type) ? float_op(inst.opcode, va, vb, vd)
                                     : integer_op(inst.opcode, va, vb, vd, inst.type));
    }
  }
}

void FunctionalState::reduction(const Instruction& inst) {
  std::uint8_t* dst = buffers_.at(inst.dst.space).data();
  const std::uint8_t* a = buffers_.at(inst.a.space).data();
  const bool sum = inst.opcode == Opcode::kRsum;
  for (std::uint64_t i = 0; i < inst.n0; ++i) {
    Value acc = read_elem(a + view_offset(inst.a, i, 0), inst.type);
    for (std::uint64_t j = 1; j < inst.n1; ++j) {
      const Value v = read_elem(a + view_offset(inst.a, i, j), inst.type);
      if (is_float(inst.type)) {
        acc.f = sum ? acc.f + v.f : std::max(acc.f, v.f);
      } else {
        acc.i = sum ? acc.i + v.i : std::max(acc.i, v.i);
      }
    }
    // dst holds one element per row: element i at dst.offset + i * col_stride.
    write_elem(dst + view_offset(inst.dst, 0, i), inst.type, acc);
  }
}

}  // namespace lpusim
