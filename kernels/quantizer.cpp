// The reference min/max quantizer (docs/FORMATS.md, "The reference quantizer"). Arithmetic choices,
// fixed so that another implementation can reproduce our files bit for bit:
//  - per (row, group): lo = min, hi = max of the float weights;
//    scale = (double(hi) - double(lo)) / (2^bmax - 1) and offset = double(lo) + 2^(bmax-1) * scale,
//    both in IEEE double, each rounded ONCE from double to fp16 (nearest, ties to even);
//  - for a slot of width b (step s = 2^(bmax-b)), with S = double(scale_f) * s (exact) and
//    O = double(offset_f): x = (double(w) - O) / S in IEEE double (two roundings: the subtraction
//    and the division), v = round(clamp(x, vmin, vmax)) with ties away from zero, c = v * s.
//    Clamping before rounding gives the same v as rounding then clamping, since vmin and vmax are
//    integers;
//  - scale_f == 0 (a constant group, or a range too small for fp16) gives codes 0.
#include "kernels/quantizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"

namespace lpusim {
namespace {

constexpr std::uint16_t kFp16ExponentMask = 0x7C00;

std::size_t effective_group(std::size_t cols, int group_size) {
  group_count(cols, group_size);  // validates group_size
  if (group_size == kPerChannel || static_cast<std::size_t>(group_size) > cols) return cols;
  return static_cast<std::size_t>(group_size);
}

[[noreturn]] void throw_bad_weight(const float* w, std::size_t n, std::size_t row,
                                   std::size_t first_col) {
  for (std::size_t i = 0; i < n; ++i) {
    const float x = w[i];
    const std::size_t col = first_col + i;
    if (std::isnan(x)) {
      throw InputError(
          fmt::format("row {}, column {}: weight is NaN; expected a finite value", row, col));
    }
    if (std::isinf(x)) {
      throw InputError(fmt::format("row {}, column {}: weight is {}inf; expected a finite value",
                                   row, col, x < 0 ? "-" : "+"));
    }
    if (!(std::fabs(x) <= kFp16Max)) {
      throw InputError(fmt::format(
          "row {}, column {}: weight {} is outside the fp16 range [-65504, 65504]", row, col, x));
    }
  }
  throw InputError(fmt::format("row {}: bad weight", row));  // not reached
}

// Min and max of a group; throws on NaN, Inf or a value beyond the fp16 range.
void group_range(const float* w, std::size_t n, std::size_t row, std::size_t first_col,
                 float* lo_out, float* hi_out) {
  float lo = w[0];
  float hi = w[0];
  bool bad = false;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = w[i];
    bad |= !(std::fabs(x) <= kFp16Max);  // also true for NaN
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  if (bad) throw_bad_weight(w, n, row, first_col);
  *lo_out = lo;
  *hi_out = hi;
}

std::uint16_t to_fp16_checked(double value, const char* what, std::size_t row,
                              std::size_t first_col, std::size_t n) {
  const std::uint16_t bits = double_to_fp16(value);
  if ((bits & kFp16ExponentMask) == kFp16ExponentMask) {
    throw InputError(fmt::format(
        "row {}, columns {}-{}: group {} {} overflows fp16 (largest finite value 65504)", row,
        first_col, first_col + n - 1, what, value));
  }
  return bits;
}

// Ties away from zero; |x| is small (already clamped to a slot's range).
inline int round_half_away(double x) {
  const int t = static_cast<int>(x);  // truncates toward zero
  const double frac = x - t;          // exact
  return t + (frac >= 0.5) - (frac <= -0.5);
}

struct SlotQuant {
  double step;  // S = scale_f * 2^(bmax - b)
  double vmin;
  double vmax;
  int multiplier;  // 2^(bmax - b): c = v * multiplier
};

// Codes of one group whose first weight sits in slot `slot` of the pattern.
void group_codes(const float* w, std::size_t n, double offset, const SlotQuant* slots, int len,
                 int slot, std::int8_t* codes) {
  if (len == 1) {
    const SlotQuant q = slots[0];
    for (std::size_t i = 0; i < n; ++i) {
      double x = (static_cast<double>(w[i]) - offset) / q.step;
      x = x < q.vmin ? q.vmin : (x > q.vmax ? q.vmax : x);
      codes[i] = static_cast<std::int8_t>(round_half_away(x) * q.multiplier);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const SlotQuant& q = slots[slot];
    double x = (static_cast<double>(w[i]) - offset) / q.step;
    x = x < q.vmin ? q.vmin : (x > q.vmax ? q.vmax : x);
    codes[i] = static_cast<std::int8_t>(round_half_away(x) * q.multiplier);
    slot = slot + 1 == len ? 0 : slot + 1;
  }
}

void quantize_row_fp16(const float* w, std::size_t cols, std::size_t row, std::uint8_t* out) {
  bool bad = false;
  for (std::size_t i = 0; i < cols; ++i) bad |= !(std::fabs(w[i]) <= kFp16Max);
  if (bad) throw_bad_weight(w, cols, row, 0);
  for (std::size_t i = 0; i < cols; ++i) {
    const std::uint16_t bits = float_to_fp16(w[i]);
    out[2 * i] = static_cast<std::uint8_t>(bits);
    out[2 * i + 1] = static_cast<std::uint8_t>(bits >> 8);
  }
}

void check_shape(const QuantizedMatrix& q) {
  const std::size_t groups = q.format.is_float() ? 0 : q.rows * q.groups_per_row();
  if (q.qweight.size() != q.rows * q.row_bytes() || q.scales.size() != groups ||
      q.offsets.size() != groups) {
    throw InputError(fmt::format(
        "quantized matrix [{}, {}] in {}: qweight/scales/offsets have {}/{}/{} entries, expected "
        "{}/{}/{}",
        q.rows, q.cols, q.format.name, q.qweight.size(), q.scales.size(), q.offsets.size(),
        q.rows * q.row_bytes(), groups, groups));
  }
}

}  // namespace

std::size_t QuantizedMatrix::stored_bytes() const {
  return format.stored_bytes(rows, cols, group_size);
}

void quantize_row(const WeightFormat& format, const float* w, std::size_t cols, int group_size,
                  std::size_t row, std::uint8_t* qweight_row, std::uint16_t* scales_row,
                  std::uint16_t* offsets_row) {
  if (format.is_float()) {
    quantize_row_fp16(w, cols, row, qweight_row);
    return;
  }
  const std::size_t group = effective_group(cols, group_size);
  const int len = format.pattern_length();
  const int bmax = format.max_bits();
  const double cmin = -std::ldexp(1.0, bmax - 1);
  const double cmax = std::ldexp(1.0, bmax - 1) - 1;
  thread_local std::vector<std::int8_t> codes;
  codes.resize(cols);
  SlotQuant slots[kMaxPatternSlots];
  for (std::size_t g0 = 0, gi = 0; g0 < cols; g0 += group, ++gi) {
    const std::size_t n = std::min(group, cols - g0);
    float lo;
    float hi;
    group_range(w + g0, n, row, g0, &lo, &hi);
    const double scale = (static_cast<double>(hi) - static_cast<double>(lo)) / (cmax - cmin);
    const double offset = static_cast<double>(lo) - cmin * scale;
    scales_row[gi] = to_fp16_checked(scale, "scale", row, g0, n);
    offsets_row[gi] = to_fp16_checked(offset, "offset", row, g0, n);
    const double scale_f = fp16_to_float(scales_row[gi]);
    if (scale_f == 0) {
      std::fill(codes.begin() + static_cast<std::ptrdiff_t>(g0),
                codes.begin() + static_cast<std::ptrdiff_t>(g0 + n), std::int8_t{0});
      continue;
    }
    for (int j = 0; j < len; ++j) {
      const int b = format.slot_bits[static_cast<std::size_t>(j)];
      const int multiplier = 1 << format.slot_shift(j);
      slots[j] = SlotQuant{scale_f * multiplier, -std::ldexp(1.0, b - 1),
                           std::ldexp(1.0, b - 1) - 1, multiplier};
    }
    group_codes(w + g0, n, fp16_to_float(offsets_row[gi]), slots, len,
                static_cast<int>(g0 % static_cast<std::size_t>(len)), codes.data() + g0);
  }
  pack_row_unchecked(format, codes.data(), cols, qweight_row);
}

QuantizedMatrix quantize(const WeightFormat& format, const float* w, std::size_t rows,
                         std::size_t cols, int group_size) {
  QuantizedMatrix q;
  q.format = format;
  q.rows = rows;
  q.cols = cols;
  q.group_size = group_size;
  const std::size_t row_bytes = format.row_bytes(cols);  // validates cols
  const std::size_t groups = format.is_float() ? 0 : group_count(cols, group_size);
  q.qweight.resize(rows * row_bytes);
  q.scales.resize(rows * groups);
  q.offsets.resize(rows * groups);
  for (std::size_t r = 0; r < rows; ++r) {
    quantize_row(format, w + r * cols, cols, group_size, r, q.qweight.data() + r * row_bytes,
                 q.scales.data() + r * groups, q.offsets.data() + r * groups);
  }
  return q;
}

void dequantize_row(const QuantizedMatrix& q, std::size_t row, float* out) {
  const std::size_t cols = q.cols;
  const std::uint8_t* packed = q.qweight.data() + row * q.row_bytes();
  if (q.format.is_float()) {
    for (std::size_t i = 0; i < cols; ++i) {
      out[i] = fp16_to_float(static_cast<std::uint16_t>(packed[2 * i] | (packed[2 * i + 1] << 8)));
    }
    return;
  }
  thread_local std::vector<std::int8_t> codes;
  codes.resize(cols);
  unpack_row(q.format, packed, cols, codes.data());
  const std::size_t group = effective_group(cols, q.group_size);
  const std::size_t groups = q.groups_per_row();
  for (std::size_t g0 = 0, gi = 0; g0 < cols; g0 += group, ++gi) {
    // offset + scale * c is exact in double: both are multiples of 2^-24 below 2^24.
    const double scale = fp16_to_float(q.scales[row * groups + gi]);
    const double offset = fp16_to_float(q.offsets[row * groups + gi]);
    const std::size_t end = std::min(cols, g0 + group);
    for (std::size_t i = g0; i < end; ++i) {
      out[i] = static_cast<float>(offset + scale * codes[i]);
    }
  }
}

void dequantize(const QuantizedMatrix& q, float* out) {
  check_shape(q);
  for (std::size_t r = 0; r < q.rows; ++r) dequantize_row(q, r, out + r * q.cols);
}

std::vector<std::int8_t> unpack_codes(const QuantizedMatrix& q) {
  if (q.format.is_float()) {
    throw InputError(fmt::format("unpack_codes: format {} has no integer codes", q.format.name));
  }
  check_shape(q);
  std::vector<std::int8_t> codes(q.rows * q.cols);
  const std::size_t row_bytes = q.row_bytes();
  for (std::size_t r = 0; r < q.rows; ++r) {
    unpack_row(q.format, q.qweight.data() + r * row_bytes, q.cols, codes.data() + r * q.cols);
  }
  return codes;
}

// ---- Two-level scales ------------------------------------------------------------------------

namespace {

constexpr int kTwoLevelQMax = 127;  // s1 maps the row's largest |w_hat| to this
constexpr int kInt8Min = -128;
constexpr int kInt8Max = 127;
constexpr int kInt8Span = 255;                            // kInt8Max - kInt8Min
constexpr std::uint16_t kFp16SmallestSubnormal = 0x0001;  // 2^-24

std::int64_t round_away_wide(double x) {
  const double r = std::round(x);  // half away from zero
  return static_cast<std::int64_t>(r);
}

}  // namespace

int two_level_max_s2(const WeightFormat& format) {
  if (format.is_float() || format.max_bits() >= 8) {
    throw InputError(fmt::format(
        "two-level scales: format {} has {}-bit codes; s2 x c must fit int8, so the codes may "
        "have at most 7 bits",
        format.name, format.max_bits()));
  }
  return kInt8Span / ((1 << format.max_bits()) - 1);
}

void two_level_row(const WeightFormat& format, const std::uint16_t* scales,
                   const std::uint16_t* offsets, std::size_t groups, std::uint16_t* s1,
                   std::uint8_t* s2, std::int8_t* z) {
  const int max_s2 = two_level_max_s2(format);
  const int bmax = format.max_bits();
  const double cmin = -std::ldexp(1.0, bmax - 1);
  const double cmax = std::ldexp(1.0, bmax - 1) - 1;
  const double cmid = (cmin + cmax) / 2;
  double a = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const double scale = fp16_to_float(scales[g]);
    const double offset = fp16_to_float(offsets[g]);
    a = std::max({a, std::fabs(offset + cmin * scale), std::fabs(offset + cmax * scale)});
  }
  std::uint16_t s1_bits = a > 0 ? double_to_fp16(a / kTwoLevelQMax) : 0;
  if (a > 0 && s1_bits == 0) s1_bits = kFp16SmallestSubnormal;
  *s1 = s1_bits;
  const double s1_value = fp16_to_float(s1_bits);
  for (std::size_t g = 0; g < groups; ++g) {
    if (s1_value == 0) {
      s2[g] = 0;
      z[g] = 0;
      continue;
    }
    const double scale = fp16_to_float(scales[g]);
    const double offset = fp16_to_float(offsets[g]);
    const std::int64_t s2_value =
        std::clamp<std::int64_t>(round_away_wide(scale / s1_value), 0, max_s2);
    const double residue = scale - s1_value * static_cast<double>(s2_value);
    const auto lo = static_cast<std::int64_t>(kInt8Min - s2_value * cmin);
    const auto hi = static_cast<std::int64_t>(kInt8Max - s2_value * cmax);
    const double target = (offset + residue * cmid) / s1_value;
    // |target| can be huge for an adversarial group; clamp in double before converting.
    const double bounded =
        std::clamp(target, static_cast<double>(lo) - 1, static_cast<double>(hi) + 1);
    const std::int64_t z_value = std::clamp<std::int64_t>(round_away_wide(bounded), lo, hi);
    s2[g] = static_cast<std::uint8_t>(s2_value);
    z[g] = static_cast<std::int8_t>(z_value);
  }
}

TwoLevelScales derive_two_level(const QuantizedMatrix& q) {
  check_shape(q);
  two_level_max_s2(q.format);
  TwoLevelScales t;
  t.rows = q.rows;
  t.groups = q.groups_per_row();
  t.s1.resize(t.rows);
  t.s2.resize(t.rows * t.groups);
  t.z.resize(t.rows * t.groups);
  for (std::size_t r = 0; r < t.rows; ++r) {
    two_level_row(q.format, q.scales.data() + r * t.groups, q.offsets.data() + r * t.groups,
                  t.groups, &t.s1[r], t.s2.data() + r * t.groups, t.z.data() + r * t.groups);
  }
  return t;
}

std::vector<std::int8_t> two_level_codes(const QuantizedMatrix& q, const TwoLevelScales& t) {
  std::vector<std::int8_t> codes = unpack_codes(q);
  if (t.rows != q.rows || t.groups != q.groups_per_row()) {
    throw InputError(
        fmt::format("two-level scales [{}, {}] do not match the matrix [{}, {} groups]", t.rows,
                    t.groups, q.rows, q.groups_per_row()));
  }
  const std::size_t group = effective_group(q.cols, q.group_size);
  for (std::size_t r = 0; r < q.rows; ++r) {
    for (std::size_t c = 0; c < q.cols; ++c) {
      const std::size_t g = r * t.groups + c / group;
      const int value = t.s2[g] * codes[r * q.cols + c] + t.z[g];
      codes[r * q.cols + c] = static_cast<std::int8_t>(value);  // in range by construction
    }
  }
  return codes;
}

void dequantize_two_level(const QuantizedMatrix& q, const TwoLevelScales& t, float* out) {
  const std::vector<std::int8_t> codes = two_level_codes(q, t);
  for (std::size_t r = 0; r < q.rows; ++r) {
    const double s1 = fp16_to_float(t.s1[r]);
    for (std::size_t c = 0; c < q.cols; ++c) {
      out[r * q.cols + c] = static_cast<float>(s1 * codes[r * q.cols + c]);
    }
  }
}

}  // namespace lpusim
