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

// ---- Two-level scales (docs/FORMATS.md, "Two-level scales") -----------------------------------
// The per-group fp16 scale and offset of a stored matrix re-expressed as
//     w2[n, k] = s1[n] * (s2[n, g] * c[n, k] + z[n, g])
// with s1 fp16 per row, s2 u8 and z i8 per group, so that q = s2 * c + z is an int8 for every
// code c the format can hold. Derived from the stored scales and offsets alone (the codes are
// not changed); see two_level_row for the arithmetic.
struct TwoLevelScales {
  std::size_t rows = 0;
  std::size_t groups = 0;         // per row
  std::vector<std::uint16_t> s1;  // fp16 bits [rows]
  std::vector<std::uint8_t> s2;   // [rows][groups]
  std::vector<std::int8_t> z;     // [rows][groups]
};

// The largest s2 of a format: floor(255 / (2^bmax - 1)), so that s2 * (cmax - cmin) <= 255
// (17 for int4 and q3.5, 36 for q3 and q2.5). Throws InputError for formats whose widest slot
// has 8 bits (or fp16): their codes already fill int8 and leave s2 no room.
int two_level_max_s2(const WeightFormat& format);

// One row: `groups` fp16 scales and offsets -> s1 (fp16 bits), s2 and z.
//   lo_g = O + cmin * S, hi_g = O + cmax * S (S, O the fp16 values, in double, exact);
//   A = max over groups of max(|lo_g|, |hi_g|);
//   s1 = fp16(A / 127) (round to nearest even; 2^-24 if that is 0 while A > 0; 0 if A = 0);
//   s2 = clamp(round_half_away(S / s1), 0, two_level_max_s2);
//   d = S - s1 * s2 (the scale's rounding residue);
//   z = clamp(round_half_away((O + d * cmid) / s1), -128 - s2 * cmin, 127 - s2 * cmax),
//       cmid = (cmin + cmax) / 2 (centres the residue's error over the code range).
// The clamp on z keeps s2 * c + z in [-128, 127] for every c in [cmin, cmax]; s2 <= max_s2
// makes that interval non-empty. With s1 = 0 every s2 and z is 0.
void two_level_row(const WeightFormat& format, const std::uint16_t* scales,
                   const std::uint16_t* offsets, std::size_t groups, std::uint16_t* s1,
                   std::uint8_t* s2, std::int8_t* z);

// two_level_row for every row of q (integer formats, bmax <= 7).
TwoLevelScales derive_two_level(const QuantizedMatrix& q);

// The int8 weights q[n][k] = s2[n][g] * c[n][k] + z[n][g] the MXM multiplies ([rows][cols]).
std::vector<std::int8_t> two_level_codes(const QuantizedMatrix& q, const TwoLevelScales& t);

// w2 = s1 * q, computed in double and rounded once to float ([rows][cols] into out).
void dequantize_two_level(const QuantizedMatrix& q, const TwoLevelScales& t, float* out);

}  // namespace lpusim
