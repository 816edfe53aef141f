// A symmetric abs-max quantizer, for quality studies only (quant-error --symmetric): offset 0 and
// scale = max|w| / (2^(bmax-1) - 1) per group, in the file layout of the reference quantizer.
#pragma once

#include <cstddef>

#include "kernels/quantizer.h"

namespace lpusim {

// Quantizes w (row-major [rows, cols]) with, per (row, group): scale = fp16(max|w| / cmax),
// cmax = 2^(bmax-1) - 1, offset = +0; then per slot of width b (step s = 2^(bmax-b)):
// v = clamp(round(w / (scale * s)), -2^(b-1), 2^(b-1) - 1), ties away from zero. A group of zeros
// gets scale 0 and codes 0. fp16 is passed to the reference quantizer. Throws InputError for
// NaN/Inf or values outside the fp16 range. Not a file format of its own: offsets are stored (as
// zeros) exactly as the reference layout stores them.
QuantizedMatrix quantize_symmetric(const WeightFormat& format, const float* w, std::size_t rows,
                                   std::size_t cols, int group_size);

}  // namespace lpusim
