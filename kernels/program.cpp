// Program sizes, equality and validation: every instruction on its queue, with allowed types,
// declared names and views that stay inside their buffers and regions.
#include "kernels/program.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <unordered_set>
#include <utility>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/int_math.h"

namespace lpusim {

static_assert(sizeof(View) == 16, "View: space and offset share a word, strides are 32-bit");
static_assert(sizeof(Instruction) == 112, "Instruction: keep programs of millions of them small");

namespace {

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

// The shape helpers and check_view below run three times per instruction validated (millions
// per program): forced inline, so that a call's cost is not most of theirs.
[[gnu::always_inline]] inline OperandShape matmul_shape(const Instruction& inst, Operand operand) {
  const int es = elem_bytes(inst.type);
  switch (operand) {
    case Operand::kDst:
      return shape_of(false, inst.m, matmul_groups(inst) * inst.n,
                      static_cast<int>(kMatmulPartialBytes));
    case Operand::kA:
      return shape_of(false, inst.n, inst.k, es);
    case Operand::kB:
      return shape_of(false, inst.m, inst.k, es);
  }
  return {};
}

// An operand the instruction has (operand_space says so).
[[gnu::always_inline]] inline OperandShape vector_shape(const Instruction& inst, Operand operand) {
  switch (operand) {
    case Operand::kDst:
      if (is_reduction(inst.opcode)) return shape_of(false, 1, inst.n0, elem_bytes(inst.type));
      return shape_of(false, inst.n0, inst.n1, elem_bytes(inst.type));
    case Operand::kA: {
      const ElemType src = inst.opcode == Opcode::kCvt ? inst.src_type : inst.type;
      return shape_of(false, inst.n0, inst.n1, elem_bytes(src));
    }
    case Operand::kB:
      return shape_of(false, inst.n0, inst.n1, elem_bytes(inst.type));
  }
  return {};
}

[[gnu::always_inline]] inline OperandSpace space_of_operand(const Instruction& inst,
                                                            const OpcodeInfo& info,
                                                            Operand operand) {
  switch (info.cost) {
    case CostClass::kDispatch:
      return OperandSpace::kNone;
    case CostClass::kTransfer:
      if (operand == Operand::kB) return OperandSpace::kNone;
      return (inst.opcode == Opcode::kLoad) == (operand == Operand::kA) ? OperandSpace::kRegion
                                                                        : OperandSpace::kBuffer;
    case CostClass::kMatmul:
      return OperandSpace::kBuffer;
    case CostClass::kVectorAlu:
    case CostClass::kTranscendental:
      if (operand == Operand::kB && (!(info.operands & kOpB) || inst.b_is_imm)) {
        return OperandSpace::kNone;
      }
      return OperandSpace::kBuffer;
  }
  return OperandSpace::kNone;
}

[[gnu::always_inline]] inline OperandShape shape_of_operand(const Instruction& inst,
                                                            const OpcodeInfo& info,
                                                            Operand operand) {
  const OperandSpace space = space_of_operand(inst, info, operand);
  if (space == OperandSpace::kNone) return {};
  switch (info.cost) {
    case CostClass::kDispatch:
      return {};
    case CostClass::kTransfer:
      return shape_of(space == OperandSpace::kRegion, inst.n0, inst.bytes, 1);
    case CostClass::kMatmul:
      return matmul_shape(inst, operand);
    case CostClass::kVectorAlu:
    case CostClass::kTranscendental:
      return vector_shape(inst, operand);
  }
  return {};
}

// ---- checks; each returns false on the first problem, which it describes into `why` ----

// Where a check puts what is wrong. Validating a large program only asks whether it is valid
// (why_ null: nothing is formatted); the message is formatted when someone wants to read it.
// Failing is cold (a valid program of millions of instructions never fails): kept out of line,
// the checks stay small enough for the compiler to inline them into check_all.
class Why {
 public:
  explicit Why(std::string* text) : text_(text) {}
  [[gnu::cold, gnu::noinline]] bool fail(const char* message) {
    if (text_) *text_ = message;
    return false;
  }
  template <typename... Args>
  [[gnu::cold, gnu::noinline]] bool fail(fmt::format_string<Args...> format, Args&&... args) {
    if (text_) *text_ = fmt::format(format, std::forward<Args>(args)...);
    return false;
  }

 private:
  std::string* text_;
};

bool check_types(const Instruction& inst, const OpcodeInfo& info, Why& why) {
  const TypeRule rule = info.types;
  const bool has_type = inst.type != ElemType::kNone;
  const bool has_src = inst.src_type != ElemType::kNone;
  if (rule != TypeRule::kConvert && has_src) {
    return why.fail("takes one type suffix, got a second (only CVT converts between two types)");
  }
  switch (rule) {
    case TypeRule::kNone:
      return !has_type || why.fail("takes no type suffix");
    case TypeRule::kNumeric:
      return has_type || why.fail("expected a type suffix, e.g. .f32");
    case TypeRule::kInteger:
      return is_integer(inst.type) || why.fail("expected an integer type (i8 u8 i16 u16 i32 u32)");
    case TypeRule::kFloat:
      return is_float(inst.type) || why.fail("expected a float type (f16 f32)");
    case TypeRule::kConvert:
      return (has_type && has_src) ||
             why.fail("expected two type suffixes, destination then source: CVT.f32.i32");
    case TypeRule::kMatmul:
      return inst.type == ElemType::kI8 || inst.type == ElemType::kF16 ||
             why.fail("expected .i8 (int32 partials) or .f16 (f32 partials)");
  }
  return true;
}

bool check_immediate(const Instruction& inst, const OpcodeInfo& info, Why& why) {
  const bool takes_b = info.operands & kOpB;
  if (!takes_b || !inst.b_is_imm) return !inst.b_is_imm || why.fail("takes no immediate");
  if (!std::isfinite(inst.imm)) return why.fail("imm={}: expected a finite number", inst.imm);
  if (is_float(inst.type)) return true;
  const int bits = elem_bytes(inst.type) * kBitsPerByte;
  // Every double of magnitude 2^53 or more is an integer; below, the int64 round trip tells
  // (cheaper than std::floor, which validating millions of immediates calls otherwise).
  constexpr double kAllIntegers = 9007199254740992.0;  // 2^53
  const bool integral = std::fabs(inst.imm) >= kAllIntegers ||
                        static_cast<double>(static_cast<std::int64_t>(inst.imm)) == inst.imm;
  if (!integral) {
    return why.fail("imm={}: expected an integer for type {}", inst.imm, elem_type_name(inst.type));
  }
  if (is_shift(inst.opcode)) {
    return (inst.imm >= 0 && inst.imm < bits) ||
           why.fail("imm={}: expected a shift count in 0..{}", inst.imm, bits - 1);
  }
  const double lo = -static_cast<double>(std::uint64_t{1} << (bits - 1));
  const double hi = static_cast<double>((std::uint64_t{1} << bits) - 1);
  return (inst.imm >= lo && inst.imm <= hi) ||
         why.fail("imm={}: expected a {}-bit value in {}..{}", inst.imm, bits, lo, hi);
}

using Wide = unsigned __int128;

// One past the last byte a view of `shape` touches over every repetition of `inst`: 128-bit, so
// that absurd shapes, strides or repeats cannot wrap around and pass. Strides are not negative,
// so the last element of the last repetition is the furthest byte.
[[gnu::always_inline]] inline Wide view_end(const Instruction& inst, const View& v,
                                            const OperandShape& shape, Operand operand) {
  const auto rs = static_cast<std::uint64_t>(inst.repeat_stride(operand));
  return Wide{v.offset} + Wide{inst.rep > 0 ? inst.rep - 1u : 0u} * rs +
         Wide{shape.rows - 1} * static_cast<std::uint64_t>(v.row_stride) +
         Wide{shape.cols - 1} * static_cast<std::uint64_t>(v.col_stride) +
         static_cast<std::uint64_t>(shape.elem_bytes);
}

// Why the view of `operand` is not valid (check_view found it so): the message, out of line.
[[gnu::cold, gnu::noinline]] bool view_failure(const Program& program, const Instruction& inst,
                                               const OperandShape& shape, Operand operand,
                                               const char* key, Why& why) {
  const View& v = operand == Operand::kDst ? inst.dst : operand == Operand::kA ? inst.a : inst.b;
  const std::uint64_t space = v.space;
  const std::size_t count = shape.in_region ? program.regions.size() : program.buffers.size();
  const char* kind = shape.in_region ? "region" : "buffer";
  if (space >= count) {
    return why.fail("{}: {} #{} is not declared ({} declared)", key, kind, space, count);
  }
  const std::string& name =
      shape.in_region ? program.regions[space].name : program.buffers[space].name;
  const std::uint64_t size =
      shape.in_region ? program.regions[space].bytes : program.buffers[space].bytes;
  if (v.col_stride < 0 || v.row_stride < 0) {
    return why.fail("{}={}: negative strides are not allowed", key, name);
  }
  if (shape.rows == 0 || shape.cols == 0) return why.fail("{}={}: empty shape", key, name);
  const Wide last_wide = view_end(inst, v, shape, operand);
  const std::uint64_t last =
      last_wide > Wide{UINT64_MAX} ? UINT64_MAX : static_cast<std::uint64_t>(last_wide);
  const std::uint64_t offset = v.offset;
  const auto rs = static_cast<std::uint64_t>(inst.repeat_stride(operand));
  if (inst.rep > 1) {
    return why.fail(
        "{}={}+{}:{}:{} {}.rs={} covers {} repetitions of {}x{} elements of {} bytes up to byte "
        "{}, past the end of {} {} ({} bytes)",
        key, name, offset, v.col_stride, v.row_stride, key, rs, inst.rep, shape.rows, shape.cols,
        shape.elem_bytes, last, kind, name, size);
  }
  return why.fail(
      "{}={}+{}:{}:{} covers {}x{} elements of {} bytes up to byte {}, past the end of {} {} "
      "({} bytes)",
      key, name, offset, v.col_stride, v.row_stride, shape.rows, shape.cols, shape.elem_bytes, last,
      kind, name, size);
}

// The view of `operand` names a declared buffer or region, has no negative stride and no empty
// shape, and stays inside it over every repetition.
[[gnu::always_inline]] inline bool check_view(const Program& program, const Instruction& inst,
                                              const OpcodeInfo& info, Operand operand,
                                              const char* key, Why& why) {
  const OperandShape shape = shape_of_operand(inst, info, operand);
  if (!shape.used) return true;
  const View& v = operand == Operand::kDst ? inst.dst : operand == Operand::kA ? inst.a : inst.b;
  const std::uint64_t space = v.space;
  const std::size_t count = shape.in_region ? program.regions.size() : program.buffers.size();
  const bool valid =
      space < count && v.col_stride >= 0 && v.row_stride >= 0 && shape.rows != 0 &&
      shape.cols != 0 &&
      view_end(inst, v, shape, operand) <=
          Wide{shape.in_region ? program.regions[space].bytes : program.buffers[space].bytes};
  return valid || view_failure(program, inst, shape, operand, key, why);
}

constexpr std::array<const char*, kOperandCount> kRepeatKeys = {"dst.rs", "a.rs", "b.rs"};

// rep >= 1; only VXM ops repeat; a repeat stride only with rep > 1, on a view the op has, and
// not negative.
bool check_repeat(const Instruction& inst, const OpcodeInfo& info, Why& why) {
  if (inst.rep == 0) return why.fail("rep: expected at least 1 repetition");
  if (inst.rep > 1 && !(info.operands & kOpShape)) {
    return why.fail("rep={}: only vector ops repeat (expected rep=1)", inst.rep);
  }
  for (int o = 0; o < kOperandCount; ++o) {
    const auto operand = static_cast<Operand>(o);
    const std::int32_t rs = inst.repeat_stride(operand);
    if (rs == 0) continue;
    const char* key = kRepeatKeys[static_cast<std::size_t>(o)];
    if (inst.rep == 1) return why.fail("{}={}: a repeat stride needs rep > 1", key, rs);
    if (!shape_of_operand(inst, info, operand).used) {
      return why.fail("{}={}: the instruction has no such view", key, rs);
    }
    if (rs < 0) return why.fail("{}={}: negative strides are not allowed", key, rs);
  }
  return true;
}

bool check_layout(const Instruction& inst, const OpcodeInfo& info, Why& why) {
  if (inst.opcode == Opcode::kLoad || inst.opcode == Opcode::kStore) {
    const View& sram = inst.opcode == Opcode::kLoad ? inst.dst : inst.a;
    const View& memory = inst.opcode == Opcode::kLoad ? inst.a : inst.dst;
    if (sram.col_stride != 1 || sram.row_stride != static_cast<std::int64_t>(inst.bytes)) {
      return why.fail(
          "the SRAM side of a transfer must be contiguous (col stride 1, row stride = bytes)");
    }
    return memory.col_stride == 1 ||
           why.fail("the memory side of a transfer must have col stride 1");
  }
  if (inst.opcode != Opcode::kMatmul) return true;
  const OperandShape y = shape_of_operand(inst, info, Operand::kDst);
  return (inst.dst.col_stride == y.contiguous_col() && inst.dst.row_stride == y.contiguous_row()) ||
         why.fail("MATMUL dst must be contiguous [m][groups][n]");
}

bool check_counts(const Instruction& inst, const OpcodeInfo& info, Why& why) {
  const std::uint32_t ops = info.operands;
  if ((ops & kOpCycles) && inst.n0 == 0) return why.fail("n: expected at least 1 cycle");
  if ((ops & kOpShape) && (inst.n0 == 0 || inst.n1 == 0)) {
    return why.fail("n: expected a non-empty shape");
  }
  if ((ops & kOpBytes) && (inst.bytes == 0 || inst.n0 == 0)) {
    return why.fail("bytes and rows: expected at least 1");
  }
  if ((ops & kOpMatmul) && (inst.m == 0 || inst.k == 0 || inst.n == 0)) {
    return why.fail("m, k, n: expected at least 1");
  }
  return true;
}

bool check_names(const Program& program, const Instruction& inst, const OpcodeInfo& info,
                 Why& why) {
  if ((info.operands & kOpSem) && inst.sem >= program.semaphores.size()) {
    return why.fail("sem: semaphore #{} is not declared ({} declared)", inst.sem,
                    program.semaphores.size());
  }
  return inst.tag < program.tags.size() ||
         why.fail("tag: tag #{} is not declared ({} declared)", inst.tag, program.tags.size());
}

// Every check of one instruction, in order; false at the first problem.
bool check_all(const Program& program, Unit queue, const Instruction& inst, Why& why) {
  if (static_cast<int>(inst.opcode) >= kOpcodeCount) return why.fail("unknown opcode");
  const OpcodeInfo& info = opcode_info(inst.opcode);
  if (info.unit && *info.unit != queue) {
    return why.fail("{} runs on the {} queue, not on {}", info.mnemonic, unit_name(*info.unit),
                    unit_name(queue));
  }
  return check_types(inst, info, why) && check_immediate(inst, info, why) &&
         check_counts(inst, info, why) && check_repeat(inst, info, why) &&
         check_names(program, inst, info, why) && check_layout(inst, info, why) &&
         check_view(program, inst, info, Operand::kDst, "dst", why) &&
         check_view(program, inst, info, Operand::kA, "a", why) &&
         check_view(program, inst, info, Operand::kB, "b", why);
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
         bytes == o.bytes && m == o.m && k == o.k && n == o.n && kgroup == o.kgroup &&
         rep == o.rep && rep_stride == o.rep_stride;
}

Instruction repetition(const Instruction& inst, std::uint32_t r) {
  Instruction one = inst;
  one.rep = 1;
  one.rep_stride = {};
  const auto move = [&](View& v, Operand operand) {
    const std::uint64_t by =
        std::uint64_t{r} * static_cast<std::uint32_t>(inst.repeat_stride(operand));
    v = View{v.space, v.offset + by, v.col_stride, v.row_stride};
  };
  move(one.dst, Operand::kDst);
  move(one.a, Operand::kA);
  move(one.b, Operand::kB);
  return one;
}

std::uint64_t Program::sram_bytes() const { return sram_bytes_in(~std::uint64_t{0}); }

std::uint64_t Program::sram_bytes_in(std::uint64_t phases) const {
  std::uint64_t always = 0;
  for (const RegionDecl& r : regions) always += r.on_chip ? r.bytes : 0;
  std::array<std::uint64_t, kMaxPhases> in_phase{};
  for (const BufferDecl& b : buffers) {
    if (b.live == 0) {
      always += b.bytes;
      continue;
    }
    for (int p = 0; p < kMaxPhases; ++p) {
      if ((b.live >> p & 1U) != 0) in_phase[static_cast<std::size_t>(p)] += b.bytes;
    }
  }
  std::uint64_t peak = 0;
  for (int p = 0; p < kMaxPhases; ++p) {
    if ((phases >> p & 1U) != 0) peak = std::max(peak, in_phase[static_cast<std::size_t>(p)]);
  }
  return always + peak;
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

OperandSpace operand_space(const Instruction& inst, const OpcodeInfo& info, Operand operand) {
  return space_of_operand(inst, info, operand);
}

OperandShape operand_shape(const Instruction& inst, Operand operand) {
  return shape_of_operand(inst, opcode_info(inst.opcode), operand);
}

void View::out_of_range(std::uint64_t space_id, std::uint64_t offset_bytes, std::int64_t col,
                        std::int64_t row) {
  if (space_id >= kMaxSpaces) {
    throw InputError(
        fmt::format("view of space #{}: at most {} buffers or regions", space_id, kMaxSpaces));
  }
  if (offset_bytes > kMaxOffset) {
    throw InputError(
        fmt::format("view offset {}: expected at most {} bytes", offset_bytes, kMaxOffset));
  }
  throw InputError(fmt::format("view strides {}:{}: expected {}..{} bytes", col, row,
                               std::numeric_limits<std::int32_t>::min(),
                               std::numeric_limits<std::int32_t>::max()));
}

std::uint64_t matmul_groups(const Instruction& inst) {
  if (inst.kgroup == 0) return 1;
  return ceil_div(inst.k, inst.kgroup);
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
  std::string problem;
  Why why(&problem);
  check_all(program, queue, inst, why);
  return problem;
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
    Why quiet(nullptr);
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (check_all(program, unit, list[i], quiet)) continue;
      throw InputError(fmt::format("queue {}, instruction {} ({}): {}", unit_name(unit), i,
                                   instruction_name(list[i]),
                                   check_instruction(program, unit, list[i])));
    }
  }
}

}  // namespace lpusim
