// ProgramBuilder: declarations with unique names, canonical instruction helpers and the
// extension contexts kernels share across calls.
#include "kernels/program_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/huge_pages.h"

namespace lpusim {
namespace {

// Counts of an instruction are 32-bit (program.h); larger ones are an input error.
std::uint32_t count32(std::uint64_t value, const char* what) {
  if (value > std::numeric_limits<std::uint32_t>::max()) {
    throw InputError(fmt::format("{} = {}: expected at most {}", what, value,
                                 std::numeric_limits<std::uint32_t>::max()));
  }
  return static_cast<std::uint32_t>(value);
}

// Repeat strides are 32-bit (program.h).
std::int32_t stride32(std::int64_t value, const char* what) {
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max()) {
    throw InputError(fmt::format("{} = {}: expected {}..{} bytes", what, value,
                                 std::numeric_limits<std::int32_t>::min(),
                                 std::numeric_limits<std::int32_t>::max()));
  }
  return static_cast<std::int32_t>(value);
}

void set_shape(Instruction& inst, Shape shape, const Repeat& repeat) {
  inst.n0 = count32(shape.n0, "shape rows (n0)");
  inst.n1 = count32(shape.n1, "shape columns (n1)");
  inst.rep = count32(repeat.count, "repetitions (rep)");
  if (inst.rep == 1) return;
  inst.rep_stride = {stride32(repeat.dst, "dst repeat stride"),
                     stride32(repeat.a, "a repeat stride"), stride32(repeat.b, "b repeat stride")};
}

// Sizes of declarations fit the 40-bit offsets of views (program.h).
void check_size(std::string_view name, std::uint64_t bytes) {
  if (bytes > View::kMaxOffset) {
    throw InputError(
        fmt::format("{}: {} bytes, expected at most {}", name, bytes, View::kMaxOffset));
  }
}

// Views name buffers and regions by 24-bit ids (program.h).
void check_space_count(std::size_t declared, const char* kind) {
  if (declared >= View::kMaxSpaces) {
    throw InputError(fmt::format("a program holds at most {} {}", View::kMaxSpaces, kind));
  }
}

}  // namespace

View contiguous_view(std::uint32_t space, std::uint64_t offset, ElemType type, std::uint64_t n1) {
  const std::int64_t es = elem_bytes(type);
  return View{space, offset, es, es * static_cast<std::int64_t>(n1)};
}

std::uint32_t ProgramBuilder::declare(std::unordered_map<std::string, std::uint32_t>& ids,
                                      std::string_view name, std::size_t next_id,
                                      const char* kind) {
  if (!is_valid_name(name)) {
    throw InputError(fmt::format(
        "{} name \"{}\": expected letters, digits and _ . - / only (not empty)", kind, name));
  }
  const auto id = static_cast<std::uint32_t>(next_id);
  if (!ids.emplace(std::string(name), id).second) {
    throw InputError(fmt::format("{} \"{}\" is declared twice", kind, name));
  }
  return id;
}

std::optional<std::uint32_t> ProgramBuilder::find(
    const std::unordered_map<std::string, std::uint32_t>& ids, std::string_view name) const {
  key_.assign(name.data(), name.size());  // reuses the key's storage: no allocation per lookup
  const auto it = ids.find(key_);
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

std::uint32_t ProgramBuilder::add_buffer(std::string_view name, std::uint64_t bytes) {
  check_size(name, bytes);
  check_space_count(program_.buffers.size(), "buffers");
  const std::uint32_t id = declare(buffer_ids_, name, program_.buffers.size(), "buffer");
  program_.buffers.push_back({std::string(name), bytes});
  return id;
}

std::uint32_t ProgramBuilder::add_region(std::string_view name, std::uint64_t bytes, bool on_chip) {
  check_size(name, bytes);
  check_space_count(program_.regions.size(), "regions");
  const std::uint32_t id = declare(region_ids_, name, program_.regions.size(), "region");
  program_.regions.push_back({std::string(name), bytes, on_chip});
  return id;
}

std::uint32_t ProgramBuilder::add_semaphore(std::string_view name, std::uint32_t initial) {
  const std::uint32_t id = declare(semaphore_ids_, name, program_.semaphores.size(), "semaphore");
  program_.semaphores.push_back({std::string(name), initial});
  return id;
}

std::uint32_t ProgramBuilder::intern_tag(std::string_view name) {
  if (const auto id = find(tag_ids_, name)) return *id;
  const std::uint32_t id = declare(tag_ids_, name, program_.tags.size(), "tag");
  program_.tags.emplace_back(name);
  return id;
}

std::optional<std::uint32_t> ProgramBuilder::find_buffer(std::string_view name) const {
  return find(buffer_ids_, name);
}
std::optional<std::uint32_t> ProgramBuilder::find_region(std::string_view name) const {
  return find(region_ids_, name);
}
std::optional<std::uint32_t> ProgramBuilder::find_semaphore(std::string_view name) const {
  return find(semaphore_ids_, name);
}
std::optional<std::uint32_t> ProgramBuilder::find_tag(std::string_view name) const {
  return find(tag_ids_, name);
}

std::uint32_t ProgramBuilder::scratch_buffer(std::string_view name, std::uint64_t bytes) {
  if (const auto id = find_buffer(name)) {
    BufferDecl& decl = program_.buffers[*id];
    check_size(name, bytes);
    decl.bytes = std::max(decl.bytes, bytes);
    return *id;
  }
  return add_buffer(name, bytes);
}

std::uint32_t ProgramBuilder::shared_semaphore(std::string_view name, std::uint32_t initial) {
  if (const auto id = find_semaphore(name)) return *id;
  return add_semaphore(name, initial);
}

void ProgramBuilder::set_buffer_live(std::uint32_t buffer, std::uint64_t live) {
  program_.buffers.at(buffer).live = live;
  phased_ = phased_ || live != 0;
}

void ProgramBuilder::set_phase(int phase) {
  if (phase < -1 || phase >= kMaxPhases) {
    throw SimulationError(
        fmt::format("internal: phase {} is outside -1..{}", phase, kMaxPhases - 1));
  }
  phase_ = phase;
}

namespace {

// Bit o set: operand o of an instruction with this opcode is a view of an SRAM buffer
// (operand_space, which depends on the opcode and on whether b is an immediate only). One table
// lookup per emitted instruction for the live-range check.
std::uint8_t buffer_operands(Opcode opcode, bool b_is_imm) {
  using Row = std::array<std::uint8_t, 2>;  // [b_is_imm]
  static const std::array<Row, kOpcodeCount> table = [] {
    std::array<Row, kOpcodeCount> t{};
    for (int op = 0; op < kOpcodeCount; ++op) {
      for (const bool imm : {false, true}) {
        Instruction inst;
        inst.opcode = static_cast<Opcode>(op);
        inst.b_is_imm = imm;
        const OpcodeInfo& info = opcode_info(inst.opcode);
        for (int o = 0; o < kOperandCount; ++o) {
          if (operand_space(inst, info, static_cast<Operand>(o)) == OperandSpace::kBuffer) {
            t[static_cast<std::size_t>(op)][imm ? 1 : 0] |= static_cast<std::uint8_t>(1u << o);
          }
        }
      }
    }
    return t;
  }();
  return table.at(static_cast<std::size_t>(opcode))[b_is_imm ? 1 : 0];
}

}  // namespace

void ProgramBuilder::check_live(const Instruction& inst) const {
  const std::uint8_t buffers = buffer_operands(inst.opcode, inst.b_is_imm);
  if (buffers == 0) return;  // WAIT, NOTIFY, NOP: no views
  for (const Operand operand : {Operand::kDst, Operand::kA, Operand::kB}) {
    if ((buffers >> static_cast<int>(operand) & 1U) == 0) continue;
    const View& view =
        operand == Operand::kDst ? inst.dst : (operand == Operand::kA ? inst.a : inst.b);
    if (view.space >= program_.buffers.size()) continue;  // validate_program names it
    const BufferDecl& buffer = program_.buffers[view.space];
    if (buffer.live == 0) continue;
    if (phase_ >= 0 && (buffer.live >> phase_ & 1U) != 0) continue;
    throw SimulationError(fmt::format(
        "internal: {} uses buffer {} in phase {}, but the SRAM plan has it live only in phases "
        "{:#x}",
        instruction_name(inst), buffer.name, phase_, buffer.live));
  }
}

void ProgramBuilder::reserve(Unit queue, std::size_t instructions) {
  std::vector<Instruction>& list = program_.queue(queue);
  if (instructions <= list.capacity()) return;
  list.reserve(instructions);
  advise_huge_pages(list.data(), list.capacity() * sizeof(Instruction));
}

void ProgramBuilder::emit(Unit queue, Instruction inst) {
  if (inst.tag == 0) inst.tag = tag_;
  if (phased_) check_live(inst);
  program_.queue(queue).push_back(inst);
}

void ProgramBuilder::nop(Unit queue, std::uint64_t cycles) {
  Instruction inst;
  inst.opcode = Opcode::kNop;
  inst.n0 = count32(cycles, "NOP cycles");
  emit(queue, inst);
}

void ProgramBuilder::notify(Unit queue, std::uint32_t sem) {
  Instruction inst;
  inst.opcode = Opcode::kNotify;
  inst.sem = sem;
  emit(queue, inst);
}

void ProgramBuilder::wait(Unit queue, std::uint32_t sem) {
  Instruction inst;
  inst.opcode = Opcode::kWait;
  inst.sem = sem;
  emit(queue, inst);
}

void ProgramBuilder::halt(Unit queue) {
  Instruction inst;
  inst.opcode = Opcode::kHalt;
  emit(queue, inst);
}

namespace {

Instruction transfer(Opcode op, std::uint64_t bytes, std::uint64_t rows, std::uint64_t stride) {
  constexpr std::uint64_t kMaxRow = std::numeric_limits<std::int32_t>::max();  // a row stride
  if (stride == 0) stride = bytes;
  if (rows > 1 && stride == bytes && rows <= kMaxRow / std::max<std::uint64_t>(bytes, 1)) {
    bytes *= rows;  // contiguous rows: one row, one burst rounding
    rows = 1;
  }
  if (rows == 1) stride = bytes;
  Instruction inst;
  inst.opcode = op;
  inst.bytes = count32(bytes, "transfer bytes");
  inst.n0 = count32(rows, "transfer rows");
  const View sram{0, 0, 1, static_cast<std::int64_t>(bytes)};
  const View memory{0, 0, 1, static_cast<std::int64_t>(stride)};
  inst.dst = op == Opcode::kLoad ? sram : memory;
  inst.a = op == Opcode::kLoad ? memory : sram;
  return inst;
}

}  // namespace

void ProgramBuilder::load(std::uint32_t buffer, std::uint64_t buffer_offset, std::uint32_t region,
                          std::uint64_t region_offset, std::uint64_t bytes, std::uint64_t rows,
                          std::uint64_t region_stride) {
  Instruction inst = transfer(Opcode::kLoad, bytes, rows, region_stride);
  inst.dst.space = buffer;
  inst.dst.offset = buffer_offset;
  inst.a.space = region;
  inst.a.offset = region_offset;
  emit(Unit::kMem, inst);
}

void ProgramBuilder::store(std::uint32_t region, std::uint64_t region_offset, std::uint32_t buffer,
                           std::uint64_t buffer_offset, std::uint64_t bytes, std::uint64_t rows,
                           std::uint64_t region_stride) {
  Instruction inst = transfer(Opcode::kStore, bytes, rows, region_stride);
  inst.dst.space = region;
  inst.dst.offset = region_offset;
  inst.a.space = buffer;
  inst.a.offset = buffer_offset;
  emit(Unit::kMem, inst);
}

void ProgramBuilder::vector(Opcode op, ElemType type, View dst, View a, View b, Shape shape,
                            const Repeat& repeat) {
  Instruction inst;
  inst.opcode = op;
  inst.type = type;
  inst.dst = dst;
  inst.a = a;
  inst.b = b;
  set_shape(inst, shape, repeat);
  emit(Unit::kVxm, inst);
}

void ProgramBuilder::vector_imm(Opcode op, ElemType type, View dst, View a, double imm, Shape shape,
                                const Repeat& repeat) {
  Instruction inst;
  inst.opcode = op;
  inst.type = type;
  inst.dst = dst;
  inst.a = a;
  inst.b_is_imm = true;
  inst.imm = imm;
  set_shape(inst, shape, repeat);
  emit(Unit::kVxm, inst);
}

void ProgramBuilder::unary(Opcode op, ElemType type, View dst, View a, Shape shape,
                           const Repeat& repeat) {
  Instruction inst;
  inst.opcode = op;
  inst.type = type;
  inst.dst = dst;
  inst.a = a;
  set_shape(inst, shape, repeat);
  emit(Unit::kVxm, inst);
}

void ProgramBuilder::convert(ElemType to, ElemType from, View dst, View a, Shape shape,
                             const Repeat& repeat) {
  Instruction inst;
  inst.opcode = Opcode::kCvt;
  inst.type = to;
  inst.src_type = from;
  inst.dst = dst;
  inst.a = a;
  set_shape(inst, shape, repeat);
  emit(Unit::kVxm, inst);
}

void ProgramBuilder::reduce(Opcode op, ElemType type, View dst, View a, Shape shape,
                            const Repeat& repeat) {
  // The dst of a reduction is 1 x n0: its row stride is canonical (n0 elements).
  const View canonical{dst.space, dst.offset, dst.col_stride,
                       std::int64_t{dst.col_stride} * static_cast<std::int64_t>(shape.n0)};
  unary(op, type, canonical, a, shape, repeat);
}

void ProgramBuilder::matmul(ElemType mode, std::uint32_t y_buffer, std::uint64_t y_offset, View w,
                            View x, std::uint32_t m, std::uint32_t k, std::uint32_t n,
                            std::uint32_t kgroup) {
  Instruction inst;
  inst.opcode = Opcode::kMatmul;
  inst.type = mode;
  inst.m = m;
  inst.k = k;
  inst.n = n;
  inst.kgroup = kgroup;
  inst.a = w;
  inst.b = x;
  const std::int64_t y_row =
      static_cast<std::int64_t>(matmul_groups(inst)) * n * kMatmulPartialBytes;
  inst.dst = View{y_buffer, y_offset, kMatmulPartialBytes, y_row};
  emit(Unit::kMxm, inst);
}

void ProgramBuilder::flush() {
  for (auto& entry : extensions_) entry.second->flush(*this);
}

Program ProgramBuilder::finish() {
  flush();
  validate_program(program_);
  Program out = std::move(program_);
  *this = ProgramBuilder();
  return out;
}

void check_sram_capacity(const Program& program, Bytes capacity) {
  const std::uint64_t needed = program.sram_bytes();
  if (needed > capacity.count) {
    throw SimulationError(
        fmt::format("the program's buffers need {} bytes of SRAM, but only {} bytes are available",
                    needed, capacity.count));
  }
}

}  // namespace lpusim
