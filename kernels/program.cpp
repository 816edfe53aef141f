// Program sizes, equality and validation: every instruction on its queue, with allowed types,
// declared names and views that stay inside their buffers and regions.
#include "kernels/program.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <unordered_set>

#include "kernels/error.h"

namespace lpusim {
namespace {

constexpr int kBitsPerByte = 8;
constexpr int kPartialBytes = 4;  // MATMUL partial sums: int32 or f32

bool is_integer(ElemType type) { return type != ElemType::kNone && !is_float(type); }

OperandShape shape_of(bool in_region, std::uint64_t rows, std::uint64_t cols, int bytes) {
  OperandShape s;
  s.used = true;
  s.in_region = in_region;
  s.rows = rows;
  s.cols = cols;
  s.elem_bytes = bytes;
  return s;
}

OperandShape transfer_shape(const Instruction& inst, Operand operand) {
  const bool region = (inst.opcode == Opcode::kLoad) == (operand == Operand::kA);
  if (operand == Operand::kB) return {};
  return shape_of(region, inst.n0, inst.bytes, 1);
}

OperandShape matmul_shape(const Instruction& inst, Operand operand) {
  const int es = elem_bytes(inst.type);
  switch (operand) {
    case Operand::kDst:
      return shape_of(false, inst.m, matmul_groups(inst) * inst.n, kPartialBytes);
    case Operand::kA:
      return shape_of(false, inst.n, inst.k, es);
    case Operand::kB:
      return shape_of(false, inst.m, inst.k, es);
  }
  return {};
}

OperandShape vector_shape(const Instruction& inst, Operand operand) {
  const std::uint32_t ops = opcode_info(inst.opcode).operands;
  switch (operand) {
    case Operand::kDst:
      if (is_reduction(inst.opcode)) return shape_of(false, 1, inst.n0, elem_bytes(inst.type));
      return shape_of(false, inst.n0, inst.n1, elem_bytes(inst.type));
    case Operand::kA: {
      const ElemType src = inst.opcode == Opcode::kCvt ? inst.src_type : inst.type;
      return shape_of(false, inst.n0, inst.n1, elem_bytes(src));
    }
    case Operand::kB:
      if (!(ops & kOpB) || inst.b_is_imm) return {};
      return shape_of(false, inst.n0, inst.n1, elem_bytes(inst.type));
  }
  return {};
}

// ---- checks; each returns what is wrong or "" ----

std::string check_types(const Instruction& inst) {
  const TypeRule rule = opcode_info(inst.opcode).types;
  const bool has_type = inst.type != ElemType::kNone;
  const bool has_src = inst.src_type != ElemType::kNone;
  if (rule != TypeRule::kConvert && has_src) {
    return "takes one type suffix, got a second (only CVT converts between two types)";
  }
  switch (rule) {
    case TypeRule::kNone:
      return has_type ? "takes no type suffix" : "";
    case TypeRule::kNumeric:
      return has_type ? "" : "expected a type suffix, e.g. .f32";
    case TypeRule::kInteger:
      return is_integer(inst.type) ? "" : "expected an integer type (i8 u8 i16 u16 i32 u32)";
    case TypeRule::kFloat:
      return is_float(inst.type) ? "" : "expected a float type (f16 f32)";
    case TypeRule::kConvert:
      return has_type && has_src ? ""
                                 : "expected two type suffixes, destination then source: "
                                   "CVT.f32.i32";
    case TypeRule::kMatmul:
      return inst.type == ElemType::kI8 || inst.type == ElemType::kF16
                 ? ""
                 : "expected .i8 (int32 partials) or .f16 (f32 partials)";
  }
  return "";
}

std::string check_immediate(const Instruction& inst) {
  const bool takes_b = opcode_info(inst.opcode).operands & kOpB;
  if (!takes_b || !inst.b_is_imm) {
    return inst.b_is_imm ? "takes no immediate" : "";
  }
  if (!std::isfinite(inst.imm)) return fmt::format("imm={}: expected a finite number", inst.imm);
  if (is_float(inst.type)) return "";
  const int bits = elem_bytes(inst.type) * kBitsPerByte;
  if (inst.imm != std::floor(inst.imm)) {
    return fmt::format("imm={}: expected an integer for type {}", inst.imm,
                       elem_type_name(inst.type));
  }
  if (is_shift(inst.opcode)) {
    if (inst.imm < 0 || inst.imm >= bits) {
      return fmt::format("imm={}: expected a shift count in 0..{}", inst.imm, bits - 1);
    }
    return "";
  }
  const double lo = -std::ldexp(1.0, bits - 1);
  const double hi = std::ldexp(1.0, bits) - 1;
  if (inst.imm < lo || inst.imm > hi) {
    return fmt::format("imm={}: expected a {}-bit value in {}..{}", inst.imm, bits, lo, hi);
  }
  return "";
}

std::string check_view(const Program& program, const Instruction& inst, Operand operand,
                       std::string_view key) {
  const OperandShape shape = operand_shape(inst, operand);
  if (!shape.used) return "";
  const View& v = operand == Operand::kDst ? inst.dst : operand == Operand::kA ? inst.a : inst.b;
  const std::size_t count = shape.in_region ? program.regions.size() : program.buffers.size();
  const char* kind = shape.in_region ? "region" : "buffer";
  if (v.space >= count) {
    return fmt::format("{}: {} #{} is not declared ({} declared)", key, kind, v.space, count);
  }
  const std::string& name =
      shape.in_region ? program.regions[v.space].name : program.buffers[v.space].name;
  const std::uint64_t size =
      shape.in_region ? program.regions[v.space].bytes : program.buffers[v.space].bytes;
  if (v.col_stride < 0 || v.row_stride < 0) {
    return fmt::format("{}={}: negative strides are not allowed", key, name);
  }
  if (shape.rows == 0 || shape.cols == 0) return fmt::format("{}={}: empty shape", key, name);
  // 128-bit so that absurd shapes or strides cannot wrap around and pass.
  using Wide = unsigned __int128;
  const Wide last_wide = Wide{v.offset} +
                         Wide{shape.rows - 1} * static_cast<std::uint64_t>(v.row_stride) +
                         Wide{shape.cols - 1} * static_cast<std::uint64_t>(v.col_stride) +
                         static_cast<std::uint64_t>(shape.elem_bytes);
  const std::uint64_t last =
      last_wide > Wide{UINT64_MAX} ? UINT64_MAX : static_cast<std::uint64_t>(last_wide);
  if (last > size) {
    return fmt::format(
        "{}={}+{}:{}:{} covers {}x{} elements of {} bytes up to byte {}, past the end of {} {} "
        "({} bytes)",
        key, name, v.offset, v.col_stride, v.row_stride, shape.rows, shape.cols, shape.elem_bytes,
        last, kind, name, size);
  }
  return "";
}

std::string check_layout(const Instruction& inst) {
  if (inst.opcode == Opcode::kLoad || inst.opcode == Opcode::kStore) {
    const View& sram = inst.opcode == Opcode::kLoad ? inst.dst : inst.a;
    const View& memory = inst.opcode == Opcode::kLoad ? inst.a : inst.dst;
    if (sram.col_stride != 1 || sram.row_stride != static_cast<std::int64_t>(inst.bytes)) {
      return "the SRAM side of a transfer must be contiguous (col stride 1, row stride = bytes)";
    }
    if (memory.col_stride != 1) return "the memory side of a transfer must have col stride 1";
    return "";
  }
  if (inst.opcode != Opcode::kMatmul) return "";
  const OperandShape y = operand_shape(inst, Operand::kDst);
  if (inst.dst.col_stride != y.contiguous_col() || inst.dst.row_stride != y.contiguous_row()) {
    return "MATMUL dst must be contiguous [m][groups][n]";
  }
  return "";
}

std::string check_counts(const Instruction& inst) {
  const std::uint32_t ops = opcode_info(inst.opcode).operands;
  if ((ops & kOpCycles) && inst.n0 == 0) return "n: expected at least 1 cycle";
  if ((ops & kOpShape) && (inst.n0 == 0 || inst.n1 == 0)) return "n: expected a non-empty shape";
  if ((ops & kOpBytes) && (inst.bytes == 0 || inst.n0 == 0)) {
    return "bytes and rows: expected at least 1";
  }
  if ((ops & kOpMatmul) && (inst.m == 0 || inst.k == 0 || inst.n == 0)) {
    return "m, k, n: expected at least 1";
  }
  return "";
}

std::string check_names(const Program& program, const Instruction& inst) {
  const std::uint32_t ops = opcode_info(inst.opcode).operands;
  if ((ops & kOpSem) && inst.sem >= program.semaphores.size()) {
    return fmt::format("sem: semaphore #{} is not declared ({} declared)", inst.sem,
                       program.semaphores.size());
  }
  if (inst.tag >= program.tags.size()) {
    return fmt::format("tag: tag #{} is not declared ({} declared)", inst.tag, program.tags.size());
  }
  return "";
}

template <typename Decl>
void check_unique(const std::vector<Decl>& decls, const char* kind) {
  std::unordered_set<std::string_view> seen;
  for (const Decl& d : decls) {
    if (!is_valid_name(d.name)) {
      throw InputError(
          fmt::format("{} \"{}\": expected a name of letters, digits and _ . - /", kind, d.name));
    }
    if (!seen.insert(d.name).second) {
      throw InputError(fmt::format("{} \"{}\" is declared twice", kind, d.name));
    }
  }
}

}  // namespace

bool Instruction::operator==(const Instruction& o) const {
  return opcode == o.opcode && type == o.type && src_type == o.src_type && b_is_imm == o.b_is_imm &&
         sem == o.sem && tag == o.tag && dst == o.dst && a == o.a && b == o.b &&
         (imm == o.imm || (std::isnan(imm) && std::isnan(o.imm))) && n0 == o.n0 && n1 == o.n1 &&
         bytes == o.bytes && m == o.m && k == o.k && n == o.n && kgroup == o.kgroup;
}

std::uint64_t Program::sram_bytes() const {
  std::uint64_t total = 0;
  for (const BufferDecl& b : buffers) total += b.bytes;
  return total;
}

std::uint64_t Program::instruction_count() const {
  std::uint64_t total = 0;
  for (const auto& q : queues) total += q.size();
  return total;
}

bool Program::operator==(const Program& o) const {
  return buffers == o.buffers && regions == o.regions && semaphores == o.semaphores &&
         tags == o.tags && queues == o.queues;
}

OperandShape operand_shape(const Instruction& inst, Operand operand) {
  switch (opcode_info(inst.opcode).cost) {
    case CostClass::kDispatch:
      return {};
    case CostClass::kTransfer:
      return transfer_shape(inst, operand);
    case CostClass::kMatmul:
      return matmul_shape(inst, operand);
    case CostClass::kVectorAlu:
    case CostClass::kTranscendental:
      return vector_shape(inst, operand);
  }
  return {};
}

std::uint64_t matmul_groups(const Instruction& inst) {
  if (inst.kgroup == 0) return 1;
  return (static_cast<std::uint64_t>(inst.k) + inst.kgroup - 1) / inst.kgroup;
}

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string instruction_name(const Instruction& inst) {
  std::string name(mnemonic(inst.opcode));
  if (inst.type != ElemType::kNone) name += "." + std::string(elem_type_name(inst.type));
  if (inst.src_type != ElemType::kNone) name += "." + std::string(elem_type_name(inst.src_type));
  return name;
}

std::string check_instruction(const Program& program, Unit queue, const Instruction& inst) {
  if (static_cast<int>(inst.opcode) >= kOpcodeCount) return "unknown opcode";
  const OpcodeInfo& info = opcode_info(inst.opcode);
  if (info.unit && *info.unit != queue) {
    return fmt::format("{} runs on the {} queue, not on {}", info.mnemonic, unit_name(*info.unit),
                       unit_name(queue));
  }
  for (const std::string& problem : {check_types(inst), check_immediate(inst), check_counts(inst),
                                     check_names(program, inst), check_layout(inst)}) {
    if (!problem.empty()) return problem;
  }
  for (const auto& [operand, key] : {std::pair{Operand::kDst, "dst"}, std::pair{Operand::kA, "a"},
                                     std::pair{Operand::kB, "b"}}) {
    std::string problem = check_view(program, inst, operand, key);
    if (!problem.empty()) return problem;
  }
  return "";
}

void validate_program(const Program& program) {
  check_unique(program.buffers, "buffer");
  check_unique(program.regions, "region");
  check_unique(program.semaphores, "semaphore");
  if (program.tags.empty() || !program.tags[0].empty()) {
    throw InputError("tags[0] must be the empty \"no tag\" entry");
  }
  for (std::size_t t = 1; t < program.tags.size(); ++t) {
    if (!is_valid_name(program.tags[t])) {
      throw InputError(fmt::format("tag \"{}\": expected a name of letters, digits and _ . - /",
                                   program.tags[t]));
    }
  }
  for (int q = 0; q < kUnitCount; ++q) {
    const Unit unit = static_cast<Unit>(q);
    const auto& list = program.queue(unit);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string problem = check_instruction(program, unit, list[i]);
      if (!problem.empty()) {
        throw InputError(fmt::format("queue {}, instruction {} ({}): {}", unit_name(unit), i,
                                     instruction_name(list[i]), problem));
      }
    }
  }
}

}  // namespace lpusim
