// A symmetric abs-max quantizer, for quality studies only (quant-error --symmetric): offset 0 and
// scale = max|w| / (2^(bmax-1) - 1) per group, in the file layout of the reference quantizer.
#include "sim/quality/symmetric_quantizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"

namespace lpusim {
namespace {

std::size_t effective_group(std::size_t cols, int group_size) {
  group_count(cols, group_size);  // validates group_size
  if (group_size == kPerChannel || static_cast<std::size_t>(group_size) > cols) return cols;
  return static_cast<std::size_t>(group_size);
}

double group_abs_max(const float* w, std::size_t n, std::size_t row, std::size_t first_col) {
  double amax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double magnitude = std::fabs(static_cast<double>(w[i]));
    if (!(magnitude <= kFp16Max)) {
      throw InputError(fmt::format("row {}, column {}: weight {} is not a finite fp16 value", row,
                                   first_col + i, w[i]));
    }
    amax = std::max(amax, magnitude);
  }
  return amax;
}

std::int8_t slot_code(double w, double scale, int bits, int shift) {
  const double step = scale * static_cast<double>(1 << shift);
  const double vmin = -std::ldexp(1.0, bits - 1);
  const double vmax = std::ldexp(1.0, bits - 1) - 1;
  const double v = std::clamp(std::round(w / step), vmin, vmax);  // std::round: ties away
  return static_cast<std::int8_t>(static_cast<int>(v) * (1 << shift));
}

void quantize_symmetric_row(const WeightFormat& format, const float* w, std::size_t cols,
                            int group_size, std::size_t row, std::int8_t* codes,
                            std::uint16_t* scales, std::uint16_t* offsets) {
  const std::size_t group = effective_group(cols, group_size);
  const double cmax = std::ldexp(1.0, format.max_bits() - 1) - 1;
  const auto len = static_cast<std::size_t>(format.pattern_length());
  for (std::size_t g0 = 0, gi = 0; g0 < cols; g0 += group, ++gi) {
    const std::size_t n = std::min(group, cols - g0);
    scales[gi] = double_to_fp16(group_abs_max(w + g0, n, row, g0) / cmax);
    offsets[gi] = float_to_fp16(0.0f);
    const double scale = fp16_to_float(scales[gi]);
    for (std::size_t i = g0; i < g0 + n; ++i) {
      const int slot = static_cast<int>(i % len);
      codes[i] = scale == 0
                     ? 0
                     : slot_code(w[i], scale, format.slot_bits[i % len], format.slot_shift(slot));
    }
  }
}

}  // namespace

QuantizedMatrix quantize_symmetric(const WeightFormat& format, const float* w, std::size_t rows,
                                   std::size_t cols, int group_size) {
  if (format.is_float()) return quantize(format, w, rows, cols, group_size);
  QuantizedMatrix q;
  q.format = format;
  q.rows = rows;
  q.cols = cols;
  q.group_size = group_size;
  const std::size_t row_bytes = format.row_bytes(cols);  // validates cols
  const std::size_t groups = group_count(cols, group_size);
  q.qweight.resize(rows * row_bytes);
  q.scales.resize(rows * groups);
  q.offsets.resize(rows * groups);
  std::vector<std::int8_t> codes(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    quantize_symmetric_row(format, w + r * cols, cols, group_size, r, codes.data(),
                           q.scales.data() + r * groups, q.offsets.data() + r * groups);
    pack_row(format, codes.data(), cols, q.qweight.data() + r * row_bytes);
  }
  return q;
}

}  // namespace lpusim
