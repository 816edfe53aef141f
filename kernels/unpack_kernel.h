// The VXM op sequence that unpacks a weight format's packed rows into int8 codes c: one shift /
// mask instruction per slot position of a byte-aligned block, each over rows x blocks elements.
#pragma once

#include <cstdint>

#include "kernels/format.h"
#include "kernels/program_builder.h"

namespace lpusim {

// The smallest whole number of bytes that holds whole pattern codes: lcm(storage bits, 8) bits.
struct UnpackBlock {
  int block_bytes = 0;        // 7 for q3.5, 1 for int4 and q3.5-b8, 3 for q3, 5 for q2.5
  int codes_per_block = 0;    // pattern codes per block
  int weights_per_block = 0;  // codes_per_block x pattern length (16 for q3.5)
};
UnpackBlock unpack_block(const WeightFormat& format);

// False when the packed bytes already are the int8 codes (int8, pattern:8): the MXM reads them.
bool needs_unpack(const WeightFormat& format);

// Where one unpack reads packed rows and writes code rows (all SRAM buffers).
struct UnpackOperands {
  std::uint32_t packed_buffer = 0;
  std::uint64_t packed_offset = 0;      // byte of row 0, block 0
  std::uint64_t packed_row_stride = 0;  // bytes between packed rows
  std::uint32_t codes_buffer = 0;
  std::uint64_t codes_offset = 0;      // code of row 0, k 0
  std::uint64_t codes_row_stride = 0;  // bytes between code rows (>= k)
  std::uint32_t scratch_buffer = 0;    // u16 scratch, unpack_scratch_bytes() long
};

// Bytes of u16 scratch emit_unpack needs for rows x k weights (0 when no slot crosses a byte).
std::uint64_t unpack_scratch_bytes(const WeightFormat& format, std::uint64_t rows, std::uint64_t k);

// Emits the VXM instructions that turn rows x row_bytes(k) packed bytes into rows x k int8
// codes, bit for bit what unpack_row() produces (docs/ISA.md "Kernels" lists the sequence).
// k must be a multiple of the pattern length; integer formats only.
void emit_unpack(ProgramBuilder& builder, const WeightFormat& format, std::uint64_t rows,
                 std::uint64_t k, const UnpackOperands& operands);

// VXM instructions per block position set (the instructions emit_unpack emits for any k that is a
// multiple of the block) and the ALU element operations they cost per weight.
struct UnpackCost {
  int instructions = 0;  // per strip, independent of rows and k
  int weights_per_block = 0;
  double alu_ops_per_weight() const {
    return weights_per_block == 0 ? 0.0 : static_cast<double>(instructions) / weights_per_block;
  }
};
UnpackCost unpack_cost(const WeightFormat& format);

}  // namespace lpusim
