// A program for the chip: declarations (SRAM buffers, off-chip regions, semaphores) and one
// in-order instruction list per unit queue. Plain data; the text form is in kernels/asm.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/isa.h"

namespace lpusim {

// A strided 2-D window onto a buffer (VXM, MXM operands) or a region (MEM source/destination).
// Element (i, j) of an n0 x n1 shape sits at byte offset + i * row_stride + j * col_stride.
// 16 bytes: the space id and the offset share one 64-bit word (24 + 40 bits), strides are 32-bit;
// the constructor throws InputError for values that do not fit (kMaxSpaces, kMaxOffset, int32).
struct View {
  static constexpr int kSpaceBits = 24;
  static constexpr int kOffsetBits = 40;
  static constexpr std::uint64_t kMaxSpaces = std::uint64_t{1} << kSpaceBits;
  static constexpr std::uint64_t kMaxOffset = (std::uint64_t{1} << kOffsetBits) - 1;

  std::uint64_t space : kSpaceBits;    // index into Program::buffers (SRAM) or ::regions (memory)
  std::uint64_t offset : kOffsetBits;  // bytes
  std::int32_t col_stride = 0;         // bytes between elements j and j+1 (0 broadcasts)
  std::int32_t row_stride = 0;         // bytes between rows i and i+1 (0 broadcasts)

  View() : space(0), offset(0) {}
  View(std::uint64_t space_id, std::uint64_t offset_bytes, std::int64_t col, std::int64_t row)
      : space(space_id),
        offset(offset_bytes),
        col_stride(static_cast<std::int32_t>(col)),
        row_stride(static_cast<std::int32_t>(row)) {
    if (space_id >= kMaxSpaces || offset_bytes > kMaxOffset || col != col_stride ||
        row != row_stride) {
      out_of_range(space_id, offset_bytes, col, row);
    }
  }

  bool operator==(const View& o) const {
    return space == o.space && offset == o.offset && col_stride == o.col_stride &&
           row_stride == o.row_stride;
  }
  bool operator!=(const View& o) const { return !(*this == o); }

  // Throws InputError naming the value that does not fit.
  [[noreturn]] static void out_of_range(std::uint64_t space_id, std::uint64_t offset_bytes,
                                        std::int64_t col, std::int64_t row);
};

// The operands of an instruction that name a view.
enum class Operand : std::uint8_t { kDst, kA, kB };
inline constexpr int kOperandCount = 3;

// 112 bytes: counts are 32-bit (a transfer's bytes x rows, a VXM op's n0 x n1 can still exceed
// 2^32 as a product: use transfer_bytes() / repetition_elements()). A VXM op may repeat (`rep`, the
// TSP's `Repeat n, d`): repetition r runs on every view moved r x its repeat stride bytes, after
// repetition r - 1 has written its results; other instructions have rep 1 and no repeat strides.
struct Instruction {
  Opcode opcode = Opcode::kNop;
  ElemType type = ElemType::kNone;      // VXM element type; MXM mode (i8 or f16)
  ElemType src_type = ElemType::kNone;  // CVT source type
  bool b_is_imm = false;                // VXM: operand b is `imm`
  std::uint32_t sem = 0;                // NOTIFY / WAIT: index into Program::semaphores
  std::uint32_t tag = 0;                // index into Program::tags (0: none); e.g.
                                        // "layer12.mlp.down" for traces and breakdowns
  std::uint32_t n0 = 1;                 // VXM rows; LOAD/STORE rows; NOP cycles
  View dst;                             // VXM dst; LOAD: buffer; STORE: region; MATMUL: y
  View a;                               // VXM a; LOAD: region; STORE: buffer; MATMUL: w
  View b;                               // VXM b; MATMUL: x
  double imm = 0;                       // VXM immediate (integers exact up to 2^53)
  std::uint32_t n1 = 1;                 // VXM columns
  std::uint32_t bytes = 0;              // LOAD/STORE bytes per row
  std::uint32_t m = 0, k = 0, n = 0;    // MATMUL shape: y[m][g][n] = sum x[m][k] w[n][k]
  std::uint32_t kgroup = 0;             // MATMUL: k values per partial sum (0: all of k)
  std::uint32_t rep = 1;                // VXM: repetitions of the n0 x n1 op (>= 1)
  std::array<std::int32_t, kOperandCount> rep_stride{};  // per Operand: bytes per repetition

  std::uint64_t repetition_elements() const { return std::uint64_t{n0} * n1; }
  // Elements of every repetition (what traces report), saturating at the largest uint64.
  std::uint64_t elements() const {
    const std::uint64_t one = repetition_elements();
    if (rep <= 1) return one * rep;
    return one > UINT64_MAX / rep ? UINT64_MAX : one * rep;
  }
  std::int32_t repeat_stride(Operand operand) const {
    return rep_stride[static_cast<std::size_t>(operand)];
  }
  std::uint64_t transfer_bytes() const { return std::uint64_t{bytes} * n0; }  // LOAD/STORE
  bool operator==(const Instruction& o) const;
  bool operator!=(const Instruction& o) const { return !(*this == o); }
};

// Phases of a program (docs/ARCHITECTURE.md "SRAM planning"): spans of its instructions, in
// emission order, that a planner names to say when a buffer holds a value. At most kMaxPhases.
inline constexpr int kMaxPhases = 64;

struct BufferDecl {
  std::string name;
  std::uint64_t bytes = 0;
  // The phases in which the buffer holds a live value, bit p for phase p; 0: the whole program.
  // Buffers whose phases do not meet share SRAM (Program::sram_bytes).
  std::uint64_t live = 0;
  bool operator==(const BufferDecl& o) const {
    return name == o.name && bytes == o.bytes && live == o.live;
  }
};
struct RegionDecl {
  std::string name;
  std::uint64_t bytes = 0;
  // Placed in SRAM instead of off-chip memory (a KV cache kept on chip beside resident weights):
  // its LOADs and STOREs are copies within SRAM on the MEM queue, never memory-channel traffic,
  // and its bytes count in Program::sram_bytes for the whole program.
  bool on_chip = false;
  bool operator==(const RegionDecl& o) const {
    return name == o.name && bytes == o.bytes && on_chip == o.on_chip;
  }
};
struct SemaphoreDecl {
  std::string name;
  std::uint32_t initial = 0;
  bool operator==(const SemaphoreDecl& o) const { return name == o.name && initial == o.initial; }
};

struct Program {
  std::vector<BufferDecl> buffers;  // on-chip SRAM, statically allocated
  std::vector<RegionDecl> regions;  // off-chip memory (or SRAM, when on_chip)
  std::vector<SemaphoreDecl> semaphores;
  std::vector<std::string> tags{""};  // tags[0] is "no tag"
  std::array<std::vector<Instruction>, kUnitCount> queues;

  std::vector<Instruction>& queue(Unit unit) { return queues[static_cast<int>(unit)]; }
  const std::vector<Instruction>& queue(Unit unit) const { return queues[static_cast<int>(unit)]; }
  // SRAM the buffers need: those live in the whole program, plus the largest sum of the others
  // live in one phase (buffers whose phases do not meet share their space), plus the on-chip
  // regions. With no phases: the sum of the buffer and on-chip region sizes.
  std::uint64_t sram_bytes() const;
  // The same over the phases in `phases` only (bit p: phase p): what is taken while they run.
  std::uint64_t sram_bytes_in(std::uint64_t phases) const;
  std::uint64_t instruction_count() const;  // over all queues

  bool operator==(const Program& o) const;
  bool operator!=(const Program& o) const { return !(*this == o); }
};

// What an operand covers: rows x cols elements of elem_bytes each, in an SRAM buffer or an
// off-chip region, and the strides that make it contiguous (the text form's defaults).
struct OperandShape {
  bool used = false;
  bool in_region = false;  // LOAD's a and STORE's dst live in Program::regions
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
  int elem_bytes = 0;
  std::int64_t contiguous_col() const { return elem_bytes; }
  std::int64_t contiguous_row() const { return static_cast<std::int64_t>(cols) * elem_bytes; }
};

// Where an operand of an instruction lives: nowhere (the instruction has no such view), in an SRAM
// buffer, or in an off-chip region (LOAD's a, STORE's dst).
enum class OperandSpace : std::uint8_t { kNone, kBuffer, kRegion };

// operand_shape(inst, operand)'s `used` and `in_region` without the shape: what the builder's
// per-instruction checks need, for `info` = opcode_info(inst.opcode).
OperandSpace operand_space(const Instruction& inst, const OpcodeInfo& info, Operand operand);

// The shape an operand of `inst` covers (docs/ISA.md "Semantics"): VXM operands n0 x n1 (a
// reduction's dst 1 x n0), LOAD/STORE rows x bytes, MATMUL W n x k, X m x k, Y m x (groups*n).
OperandShape operand_shape(const Instruction& inst, Operand operand);

// Repetition r (< inst.rep) of `inst` as an instruction of its own: rep 1, no repeat strides,
// every view's offset moved r x its repeat stride. Throws InputError if an offset leaves 40 bits.
Instruction repetition(const Instruction& inst, std::uint32_t r);

// Partial-sum groups of a MATMUL: ceil(k / kgroup), 1 when kgroup is 0.
std::uint64_t matmul_groups(const Instruction& inst);

// "SHR.u16", "CVT.f32.i32", "LOAD".
std::string instruction_name(const Instruction& inst);

// Names of buffers, regions, semaphores and tags: letters, digits and _ . - / (no spaces, and
// none of the characters + : = # the text form uses as separators). Not empty.
bool is_valid_name(std::string_view name);

// Checks one instruction of queue `queue` against the declarations of `program`: opcode on the
// right queue, types allowed for the opcode, immediates in range, semaphores/tags/buffers/regions
// declared, every view inside its buffer or region for its shape and type (no negative strides).
// Returns what is wrong, or "" when nothing is.
std::string check_instruction(const Program& program, Unit queue, const Instruction& inst);

// check_instruction over every queue; throws InputError "queue vxm, instruction 12 (SHR.u16):
// ..." naming the first problem.
void validate_program(const Program& program);

}  // namespace lpusim
