// The reference min/max quantizer (docs/FORMATS.md) and its inverse: float weights [N, K] to packed
// codes plus per-group fp16 scales and offsets, and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/format.h"

namespace lpusim {

// A quantized weight matrix in the file layout of docs/FORMATS.md ("Files"). fp16 stores the
// weights themselves in `qweight` (2 bytes each, little-endian) and has no scales or offsets.
struct QuantizedMatrix {
  WeightFormat format;
  std::size_t rows = 0;                // N
  std::size_t cols = 0;                // K
  int group_size = kDefaultGroupSize;  // as requested; kPerChannel means K
  std::vector<std::uint8_t> qweight;   // rows * format.row_bytes(cols)
  std::vector<std::uint16_t> scales;   // fp16 bits, rows * group_count(cols, group_size)
  std::vector<std::uint16_t> offsets;  // fp16 bits, same shape

  std::size_t groups_per_row() const { return group_count(cols, group_size); }
  std::size_t row_bytes() const { return format.row_bytes(cols); }
  // Bytes read to stream this matrix: qweight + scales + offsets.
  std::size_t stored_bytes() const;
};

// Quantizes w (row-major [rows, cols]) with the reference min/max quantizer. Throws InputError
// for NaN/Inf, values outside the fp16 range, or cols not a multiple of the pattern length.
QuantizedMatrix quantize(const WeightFormat& format, const float* w, std::size_t rows,
                         std::size_t cols, int group_size);

// Writes the dequantized weights w_hat (row-major [rows, cols]) into out.
void dequantize(const QuantizedMatrix& q, float* out);

// One row of quantize(): w holds `cols` weights; writes row_bytes(cols) bytes to qweight_row and
// group_count(cols, group_size) fp16 values to scales_row and offsets_row (unused for fp16).
// `row` only names the row in error messages. Lets callers stream or split big tensors; the
// result is identical to quantize() row for row.
void quantize_row(const WeightFormat& format, const float* w, std::size_t cols, int group_size,
                  std::size_t row, std::uint8_t* qweight_row, std::uint16_t* scales_row,
                  std::uint16_t* offsets_row);

// One row of dequantize(): w_hat = offset + scale * c, computed exactly in double and rounded
// once to float.
void dequantize_row(const QuantizedMatrix& q, std::size_t row, float* out);

// Unpacks the integer codes c (row-major [rows, cols]); integer formats only.
std::vector<std::int8_t> unpack_codes(const QuantizedMatrix& q);

}  // namespace lpusim
