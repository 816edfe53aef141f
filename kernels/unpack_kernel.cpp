// Unpacking as VXM ops: per slot position of a block, read the byte (u8) or byte pair (u16, when
// the slot crosses a byte) holding it, shift its top bit to bit 7, arithmetic-shift to c.
#include "kernels/unpack_kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/int_math.h"

namespace lpusim {
namespace {

// One slot position of a block: the code it produces and where its bits sit.
struct SlotField {
  int weight = 0;  // index of the code within the block
  int code = 0;    // pattern code within the block
  int byte = 0;    // byte of the block holding the slot's lowest bit
  int bit = 0;     // that bit within the byte
  int width = 0;   // slot width b
  bool crosses() const { return bit + width > kBitsPerByte; }
};

void require_integer(const WeightFormat& format) {
  if (format.is_float()) {
    throw InputError(fmt::format("unpack: format {} has no integer codes", format.name));
  }
}

// Slot fields of one block, in code order (pattern code i at bit i * storage bits; within a
// code the last slot holds the least significant bits).
std::vector<SlotField> slot_fields(const WeightFormat& format) {
  const UnpackBlock block = unpack_block(format);
  const int storage = format.pattern_storage_bits();
  const int len = format.pattern_length();
  std::vector<SlotField> fields;
  for (int c = 0; c < block.codes_per_block; ++c) {
    int bit = c * storage;
    for (int j = len - 1; j >= 0; --j) {
      const int width = format.slot_bits[static_cast<std::size_t>(j)];
      fields.push_back({c * len + j, c, bit / kBitsPerByte, bit % kBitsPerByte, width});
      bit += width;
    }
  }
  std::sort(fields.begin(), fields.end(),
            [](const SlotField& a, const SlotField& b) { return a.weight < b.weight; });
  return fields;
}

// The instructions one field costs; emit_field emits exactly these.
int field_instructions(const SlotField& f, int bmax) {
  const int sar = kBitsPerByte - bmax;
  const bool garbage = f.bit > 0 && f.width < bmax;
  int ops = 0;
  if (f.crosses()) {
    ops = 2;  // SHR.u16, then SAR.i8 (or MOV.i8) of the low byte
  } else {
    const int shl = kBitsPerByte - f.bit - f.width;
    ops = (shl > 0 ? 1 : 0) + (sar > 0 || shl == 0 ? 1 : 0);
  }
  return ops + (garbage ? 1 : 0);
}

struct FieldGeometry {
  std::uint64_t rows = 0;
  std::uint64_t blocks = 0;        // blocks holding this field
  std::uint64_t total_blocks = 0;  // blocks of the row (scratch row length)
  UnpackBlock block;
};

void emit_field(ProgramBuilder& b, const SlotField& f, int bmax, const FieldGeometry& g,
                const UnpackOperands& o) {
  const Shape shape{g.rows, g.blocks};
  const int sar = kBitsPerByte - bmax;
  const View src{o.packed_buffer, o.packed_offset + static_cast<std::uint64_t>(f.byte),
                 g.block.block_bytes, static_cast<std::int64_t>(o.packed_row_stride)};
  const View codes{o.codes_buffer, o.codes_offset + static_cast<std::uint64_t>(f.weight),
                   g.block.weights_per_block, static_cast<std::int64_t>(o.codes_row_stride)};
  const auto scratch_row = static_cast<std::int64_t>(g.total_blocks) * kU16Bytes;
  if (f.crosses()) {
    // u16 holding the slot; its top bit moves to bit 7 of the low byte.
    const View scratch{o.scratch_buffer, 0, kU16Bytes, scratch_row};
    b.vector_imm(Opcode::kShr, ElemType::kU16, scratch, src, f.bit + f.width - kBitsPerByte, shape);
    if (sar > 0) {
      b.vector_imm(Opcode::kSar, ElemType::kI8, codes, scratch, sar, shape);
    } else {
      b.unary(Opcode::kMov, ElemType::kI8, codes, scratch, shape);
    }
  } else {
    const int shl = kBitsPerByte - f.bit - f.width;
    if (shl > 0) b.vector_imm(Opcode::kShl, ElemType::kU8, codes, src, shl, shape);
    const View from = shl > 0 ? codes : src;
    if (sar > 0) {
      b.vector_imm(Opcode::kSar, ElemType::kI8, codes, from, sar, shape);
    } else if (shl == 0) {
      b.unary(Opcode::kMov, ElemType::kI8, codes, from, shape);
    }
  }
  if (f.bit > 0 && f.width < bmax) {
    // Bits below the slot landed in c's low (bmax - b) bits: clear them.
    b.vector_imm(Opcode::kAnd, ElemType::kI8, codes, codes, -(1 << (bmax - f.width)), shape);
  }
}

}  // namespace

UnpackBlock unpack_block(const WeightFormat& format) {
  require_integer(format);
  const int storage = format.pattern_storage_bits();
  const int block_bits = std::lcm(storage, kBitsPerByte);
  UnpackBlock block;
  block.block_bytes = block_bits / kBitsPerByte;
  block.codes_per_block = block_bits / storage;
  block.weights_per_block = block.codes_per_block * format.pattern_length();
  return block;
}

bool needs_unpack(const WeightFormat& format) {
  return !(format.slot_bits.size() == 1 && format.slot_bits[0] == kBitsPerByte);
}

std::uint64_t unpack_scratch_bytes(const WeightFormat& format, std::uint64_t rows,
                                   std::uint64_t k) {
  const std::vector<SlotField> fields = slot_fields(format);
  const bool any_cross =
      std::any_of(fields.begin(), fields.end(), [](const SlotField& f) { return f.crosses(); });
  if (!any_cross) return 0;
  const UnpackBlock block = unpack_block(format);
  const std::uint64_t codes = k / static_cast<std::uint64_t>(format.pattern_length());
  const std::uint64_t blocks = ceil_div(codes, block.codes_per_block);
  return rows * blocks * kU16Bytes;
}

void emit_unpack(ProgramBuilder& builder, const WeightFormat& format, std::uint64_t rows,
                 std::uint64_t k, const UnpackOperands& operands) {
  require_integer(format);
  const auto len = static_cast<std::uint64_t>(format.pattern_length());
  if (k % len != 0) {
    throw InputError(fmt::format("unpack: k = {} is not a multiple of the pattern length {} of {}",
                                 k, len, format.name));
  }
  FieldGeometry g;
  g.rows = rows;
  g.block = unpack_block(format);
  const std::uint64_t codes = k / len;
  const auto per_block = static_cast<std::uint64_t>(g.block.codes_per_block);
  g.total_blocks = ceil_div(codes, per_block);
  const int bmax = format.max_bits();
  for (const SlotField& f : slot_fields(format)) {
    const auto c = static_cast<std::uint64_t>(f.code);
    if (c >= codes) continue;  // a short row: this position is in no block
    g.blocks = ceil_div(codes - c, per_block);
    emit_field(builder, f, bmax, g, operands);
  }
}

UnpackCost unpack_cost(const WeightFormat& format) {
  UnpackCost cost;
  if (format.is_float() || !needs_unpack(format)) return cost;
  const int bmax = format.max_bits();
  for (const SlotField& f : slot_fields(format)) cost.instructions += field_instructions(f, bmax);
  cost.weights_per_block = unpack_block(format).weights_per_block;
  return cost;
}

}  // namespace lpusim
