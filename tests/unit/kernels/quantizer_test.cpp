// The reference min/max quantizer of docs/FORMATS.md: known values worked by hand, the error bound
// (derived below), constant groups, group layout, fp16 storage and the input errors.
#include "kernels/quantizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

std::size_t group_of(const QuantizedMatrix& q, std::size_t col) {
  const std::size_t g =
      q.group_size == kPerChannel ? q.cols : static_cast<std::size_t>(q.group_size);
  return col / g;
}

// w_hat = offset + scale * c, exact in double.
double exact_w_hat(const QuantizedMatrix& q, const std::vector<std::int8_t>& codes, std::size_t r,
                   std::size_t col) {
  const std::size_t gi = r * q.groups_per_row() + group_of(q, col);
  return static_cast<double>(fp16_to_float(q.offsets[gi])) +
         static_cast<double>(fp16_to_float(q.scales[gi])) * codes[r * q.cols + col];
}

// --- known values, worked by hand ----------------------------------------------------------------

TEST(Quantizer, Int4KnownValuesWorkedByHand) {
  // Group [0, 1, 0.5, 0.25], int4 (bmax 4, cmin -8, cmax 7):
  //   scale  = (1 - 0) / 15 = 0.0666...  -> fp16 2^-4 * (1 + 68/1024) = 0.066650390625 = 0x2C44
  //   offset = 0 + 8 * scale = 0.5333... -> fp16 2^-1 * (1 + 68/1024) = 0.533203125    = 0x3844
  //   x = (w - offset) / scale:  w=0 -> -8 exactly; w=1 -> 7.0037 -> 7;
  //   w=0.5 -> -0.4982 -> 0; w=0.25 -> -4.2491 -> -4.
  //   int4 bytes: (k1=7)(k0=-8) = 0111 1000 = 0x78; (k3=-4)(k2=0) = 1100 0000 = 0xC0.
  const float w[] = {0.0f, 1.0f, 0.5f, 0.25f};
  const QuantizedMatrix q = quantize(parse_format("int4"), w, 1, 4, 4);
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 0x2C44);
  EXPECT_EQ(q.offsets[0], 0x3844);
  EXPECT_EQ(q.qweight, (std::vector<std::uint8_t>{0x78, 0xC0}));
  EXPECT_EQ(unpack_codes(q), (std::vector<std::int8_t>{-8, 7, 0, -4}));
  float w_hat[4];
  dequantize(q, w_hat);
  EXPECT_EQ(w_hat[0], 0.0f);  // 0.533203125 - 8 * 0.066650390625
  EXPECT_EQ(w_hat[1], 0.533203125f + 7 * 0.066650390625f);
  EXPECT_EQ(w_hat[2], 0.533203125f);
}

TEST(Quantizer, Q35NarrowSlotHasTwiceTheStepAndTiesRoundAwayFromZero) {
  // Group [-1, 0.875, 0.3, -0.3, 0.0625, -0.125], q3.5 (bmax 4): scale = 1.875/15 = 0.125 and
  // offset = -1 + 8 * 0.125 = 0, both exact in fp16 (0x3000, 0x0000).
  //   slot 0 (step 0.125): -1 -> -8;   0.3 -> 2.4 -> 2;   0.0625 -> 0.5 -> 1 (tie, away)
  //   slot 1 (step 0.25):  0.875 -> 3.5 -> 4 -> clamped 3, c = 6;  -0.3 -> -1.2 -> -1, c = -2;
  //                        -0.125 -> -0.5 -> -1 (tie, away), c = -2
  //   pair codes: (-8, 3) = 1000 011 = 0x43; (2, -1) = 0010 111 = 0x17; (1, -1) = 0001 111 = 0x0F
  //   bytes: 1 1000011 = 0xC3; 11 001011 = 0xCB; 00000 011 = 0x03.
  const float w[] = {-1.0f, 0.875f, 0.3f, -0.3f, 0.0625f, -0.125f};
  const QuantizedMatrix q = quantize(parse_format("q3.5"), w, 1, 6, kPerChannel);
  EXPECT_EQ(q.scales, std::vector<std::uint16_t>{0x3000});
  EXPECT_EQ(q.offsets, std::vector<std::uint16_t>{0x0000});
  EXPECT_EQ(unpack_codes(q), (std::vector<std::int8_t>{-8, 6, 2, -2, 1, -2}));
  EXPECT_EQ(q.qweight, (std::vector<std::uint8_t>{0xC3, 0xCB, 0x03}));
}

// --- the error bound -----------------------------------------------------------------------------
//
// Take a weight w of a group [lo, hi] in a slot of width b (step s = 2^(bmax-b), vmin/vmax the
// slot's range). Let scale, offset be the quantizer's double values, scale_f, offset_f their fp16
// roundings, S = s * scale_f, and w_hat = offset_f + S * v (exact in double).
//  (1) v not clamped: v = round(x'), x' the double evaluation of x = (w - offset_f) / S with
//      |x' - x| <= 2^-51 |w - offset_f| / S, so |w - w_hat| = S |x - v| <= S/2 + 2^-51 |w -
//      offset_f|.
//  (2) clamped at vmax (x' > vmax): 0 < w - w_hat <= hi - offset_f - S vmax. Exactly,
//      hi - offset = cmax * scale with cmax = 2^(bmax-1) - 1, and S vmax = (2^(bmax-1) - s)
//      scale_f, so w - w_hat <= (s - 1) scale_f + cmax |scale - scale_f| + |offset - offset_f|.
//  (3) clamped at vmin: S vmin = cmin scale_f and lo - offset = cmin scale, so
//      w_hat - w <= 2^(bmax-1) |scale - scale_f| + |offset - offset_f|.
// Hence, for every weight,
//    |w - w_hat| <= max(S/2, (s-1) scale_f + 2^(bmax-1) |scale - scale_f| + |offset - offset_f|)
//                   + eps,  eps = 2^-48 (|w| + |offset_f| + |lo| + |hi|)
// (eps covers the double roundings in the quantizer and in this test's own scale/offset). For the
// widest slot (s = 1) and for s = 2 with exact fp16 scale/offset this is S/2: half a step. A narrow
// slot in a wide pattern (pattern:8,2 has s = 64) cannot reach the top of the group's range at
// all: its largest value is (2^(bmax-1) - s) scale, which is what the (s - 1) scale_f term says.

struct BoundCheck {
  double worst_ratio = 0;      // max |w - w_hat| / bound
  double worst_unclamped = 0;  // max |w - w_hat| / (S/2 + eps) over unclamped weights
  std::size_t clamped = 0;
};

BoundCheck check_error_bound(const QuantizedMatrix& q, const std::vector<float>& w) {
  BoundCheck out;
  const auto codes = unpack_codes(q);
  const WeightFormat& f = q.format;
  const int bmax = f.max_bits();
  const double cmin = -std::ldexp(1.0, bmax - 1);
  const double cmax = std::ldexp(1.0, bmax - 1) - 1;
  const std::size_t len = static_cast<std::size_t>(f.pattern_length());
  const std::size_t g =
      q.group_size == kPerChannel ? q.cols : static_cast<std::size_t>(q.group_size);
  std::vector<float> w_hat(q.rows * q.cols);
  dequantize(q, w_hat.data());
  for (std::size_t r = 0; r < q.rows; ++r) {
    for (std::size_t g0 = 0; g0 < q.cols; g0 += g) {
      const std::size_t g1 = std::min(q.cols, g0 + g);
      const float* row = w.data() + r * q.cols;
      const double lo = *std::min_element(row + g0, row + g1);
      const double hi = *std::max_element(row + g0, row + g1);
      const double scale = (hi - lo) / (cmax - cmin);
      const double offset = lo - cmin * scale;
      const std::size_t gi = r * q.groups_per_row() + g0 / g;
      const double scale_f = fp16_to_float(q.scales[gi]);
      const double offset_f = fp16_to_float(q.offsets[gi]);
      for (std::size_t c = g0; c < g1; ++c) {
        const int slot = static_cast<int>(c % len);
        const int b = f.slot_bits[static_cast<std::size_t>(slot)];
        const double s = std::ldexp(1.0, f.slot_shift(slot));
        const double step = s * scale_f;
        const double x = row[c];
        const double eps =
            std::ldexp(std::fabs(x) + std::fabs(offset_f) + std::fabs(lo) + std::fabs(hi), -48);
        const double bound =
            std::max(step / 2, (s - 1) * scale_f +
                                   std::ldexp(1.0, bmax - 1) * std::fabs(scale - scale_f) +
                                   std::fabs(offset - offset_f)) +
            eps;
        const double exact = exact_w_hat(q, codes, r, c);
        const double err = std::fabs(x - exact);
        EXPECT_EQ(w_hat[r * q.cols + c], static_cast<float>(exact));
        out.worst_ratio = std::max(out.worst_ratio, err / bound);
        const int v = codes[r * q.cols + c] / static_cast<int>(s);
        const bool clamped = step > 0 && (v == -(1 << (b - 1)) || v == (1 << (b - 1)) - 1) &&
                             std::fabs((x - offset_f) / step - v) > 0.5;
        if (clamped) {
          ++out.clamped;
        } else if (step > 0) {
          out.worst_unclamped = std::max(out.worst_unclamped, err / (step / 2 + eps));
        }
      }
    }
  }
  return out;
}

std::vector<float> random_weights(std::size_t n, std::mt19937& rng, int kind) {
  std::vector<float> w(n);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::student_t_distribution<float> heavy(2.5f);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  for (auto& x : w) {
    switch (kind) {
      case 0:
        x = normal(rng);
        break;
      case 1:
        x = heavy(rng) * 0.01f;
        break;
      case 2:
        x = 100.0f + normal(rng);
        break;  // far from zero: offset rounding dominates
      case 3:
        x = uniform(rng) * 1000.0f;
        break;
      default:
        x = uniform(rng);
        break;
    }
  }
  return w;
}

const char* const kFormats[] = {"int8", "int4",      "q3.5",          "q3.5-b8",    "q3",
                                "q2.5", "pattern:1", "pattern:8,2,5", "pattern:8,2"};

TEST(QuantizerBound, EveryWeightWithinHalfStepPlusFp16RoundingOfScaleAndOffset) {
  std::mt19937 rng(42);
  for (const char* name : kFormats) {
    const WeightFormat f = parse_format(name);
    const std::size_t len = static_cast<std::size_t>(f.pattern_length());
    for (int kind = 0; kind < 5; ++kind) {
      for (int group : {kPerChannel, 1, 7, 32, 128}) {
        for (std::size_t k : {std::size_t{6}, std::size_t{96}, std::size_t{300}}) {
          k = std::max(len, k / len * len);
          const std::size_t rows = 3;
          const auto w = random_weights(rows * k, rng, kind);
          const QuantizedMatrix q = quantize(f, w.data(), rows, k, group);
          const BoundCheck check = check_error_bound(q, w);
          EXPECT_LE(check.worst_ratio, 1.0) << name << " kind " << kind << " G " << group;
          EXPECT_LE(check.worst_unclamped, 1.0) << name << " kind " << kind << " G " << group;
        }
      }
    }
  }
}

TEST(QuantizerBound, HalfStepExactlyWhenScaleAndOffsetAreExactInFp16) {
  // Groups spanning [-1, 0.875]: scale 0.125, offset 0 for bmax 4 (exact); weights are multiples
  // of 2^-12, so every quantity is exact and the bound is S/2 with no slack, for both slots of
  // q3.5 (s = 2: the top of the range is at most scale = S/2 above the largest slot-1 value).
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> units(-4096, 3584);  // [-1, 0.875] in steps of 2^-12
  for (const char* name : {"int4", "q3.5", "q3.5-b8"}) {
    const std::size_t k = 128;
    std::vector<float> w(4 * k);
    for (std::size_t r = 0; r < 4; ++r) {
      for (std::size_t c = 0; c < k; ++c)
        w[r * k + c] = std::ldexp(static_cast<float>(units(rng)), -12);
      w[r * k + 5] = -1.0f;
      w[r * k + 9] = 0.875f;
    }
    const QuantizedMatrix q = quantize(parse_format(name), w.data(), 4, k, kPerChannel);
    const auto codes = unpack_codes(q);
    for (std::size_t r = 0; r < 4; ++r) {
      ASSERT_EQ(q.scales[r], 0x3000);
      ASSERT_EQ(q.offsets[r], 0x0000);
      for (std::size_t c = 0; c < k; ++c) {
        const double step = c % 2 == 0 || std::string(name) == "int4" ? 0.125 : 0.25;
        EXPECT_LE(std::fabs(w[r * k + c] - exact_w_hat(q, codes, r, c)), step / 2)
            << name << " c " << c << " w " << w[r * k + c];
      }
    }
  }
}

// --- constant groups and degenerate scales -----------------------------------------------------

TEST(Quantizer, ConstantGroupGetsZeroScaleOffsetTheValueAndZeroCodes) {
  const float w[] = {0.3f, 0.3f, 0.3f, 0.3f, -1.0f, 2.0f, 0.5f, 0.25f};
  const QuantizedMatrix q = quantize(parse_format("q3.5"), w, 1, 8, 4);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 0x0000);
  EXPECT_EQ(q.offsets[0], float_to_fp16(0.3f));
  EXPECT_NE(q.scales[1], 0x0000);
  const auto codes = unpack_codes(q);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(codes[static_cast<std::size_t>(i)], 0);
  float w_hat[8];
  dequantize(q, w_hat);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(w_hat[i], fp16_to_float(float_to_fp16(0.3f)));
}

TEST(Quantizer, ScaleRoundingToZeroGivesZeroCodes) {
  // Range 1e-10: scale 6.7e-12 is far below fp16's smallest subnormal (6e-8).
  const float w[] = {0.0f, 1e-10f, 5e-11f, 2e-11f};
  const QuantizedMatrix q = quantize(parse_format("int4"), w, 1, 4, kPerChannel);
  EXPECT_EQ(q.scales[0], 0x0000);
  EXPECT_EQ(unpack_codes(q), (std::vector<std::int8_t>{0, 0, 0, 0}));
}

// --- group layout --------------------------------------------------------------------------------

TEST(Quantizer, LastGroupIsShorterWhenKIsNotAMultipleOfG) {
  // K = 10, G = 4: groups [0,4), [4,8), [8,10). The last group's range comes from its 2 weights.
  std::vector<float> w = {0, 1, 2, 3, 4, 5, 6, 7, -50, 50};
  const QuantizedMatrix q = quantize(parse_format("int8"), w.data(), 1, 10, 4);
  EXPECT_EQ(q.groups_per_row(), 3u);
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_EQ(q.scales[2], double_to_fp16(100.0 / 255));
  EXPECT_EQ(q.offsets[2], double_to_fp16(-50.0 + 128 * (100.0 / 255)));
  EXPECT_EQ(q.scales[0], double_to_fp16(3.0 / 255));
}

TEST(Quantizer, PerChannelIsOneGroupOfKAndGroupLargerThanKIsOneGroup) {
  std::mt19937 rng(2);
  const auto w = random_weights(2 * 300, rng, 0);
  const auto per_channel = quantize(parse_format("q2.5"), w.data(), 2, 300, kPerChannel);
  const auto big_group = quantize(parse_format("q2.5"), w.data(), 2, 300, 1024);
  EXPECT_EQ(per_channel.scales.size(), 2u);
  EXPECT_EQ(per_channel.scales, big_group.scales);
  EXPECT_EQ(per_channel.offsets, big_group.offsets);
  EXPECT_EQ(per_channel.qweight, big_group.qweight);
}

TEST(Quantizer, GroupsNeedNotAlignWithPatterns) {
  // G = 3 with q3.5: group 1 starts on slot 1. Slots follow k, not the group.
  std::mt19937 rng(4);
  const auto w = random_weights(12, rng, 4);
  const QuantizedMatrix q = quantize(parse_format("q3.5"), w.data(), 1, 12, 3);
  const BoundCheck check = check_error_bound(q, w);
  EXPECT_LE(check.worst_ratio, 1.0);
  const auto codes = unpack_codes(q);
  for (std::size_t c = 1; c < 12; c += 2) EXPECT_EQ(codes[c] % 2, 0) << c;
}

TEST(Quantizer, RoundTripOverFormatsKAndGroupSizes) {
  // quantize -> codes -> pack_row (checked) reproduces qweight; dequantize == offset + scale * c;
  // quantize_row gives the same row as quantize.
  std::mt19937 rng(8);
  for (const char* name : kFormats) {
    const WeightFormat f = parse_format(name);
    const std::size_t len = static_cast<std::size_t>(f.pattern_length());
    for (std::size_t k = len; k <= 150; k += len * 7) {
      for (int group : {kPerChannel, 1, 2, 5, 16, 64, 128}) {
        const std::size_t rows = 2;
        const auto w = random_weights(rows * k, rng, static_cast<int>(k % 5));
        const QuantizedMatrix q = quantize(f, w.data(), rows, k, group);
        ASSERT_EQ(q.qweight.size(), rows * f.row_bytes(k));
        ASSERT_EQ(q.scales.size(), rows * group_count(k, group));
        const auto codes = unpack_codes(q);
        std::vector<std::uint8_t> repacked(f.row_bytes(k));
        std::vector<std::uint16_t> scales(group_count(k, group));
        std::vector<std::uint16_t> offsets(scales.size());
        for (std::size_t r = 0; r < rows; ++r) {
          pack_row(f, codes.data() + r * k, k, repacked.data());
          ASSERT_TRUE(
              std::equal(repacked.begin(), repacked.end(),
                         q.qweight.begin() + static_cast<std::ptrdiff_t>(r * repacked.size())))
              << name << " k " << k << " G " << group;
          quantize_row(f, w.data() + r * k, k, group, r, repacked.data(), scales.data(),
                       offsets.data());
          ASSERT_TRUE(
              std::equal(repacked.begin(), repacked.end(),
                         q.qweight.begin() + static_cast<std::ptrdiff_t>(r * repacked.size())));
          ASSERT_TRUE(
              std::equal(scales.begin(), scales.end(),
                         q.scales.begin() + static_cast<std::ptrdiff_t>(r * scales.size())));
        }
        EXPECT_LE(check_error_bound(q, w).worst_ratio, 1.0) << name << " k " << k << " G " << group;
      }
    }
  }
}

// --- fp16 storage --------------------------------------------------------------------------------

TEST(Quantizer, Fp16StoresLittleEndianBitsAndNoMetadata) {
  const float w[] = {1.0f, -2.0f, 65504.0f};
  const QuantizedMatrix q = quantize(parse_format("fp16"), w, 1, 3, 128);
  EXPECT_EQ(q.qweight, (std::vector<std::uint8_t>{0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B}));
  EXPECT_TRUE(q.scales.empty());
  EXPECT_TRUE(q.offsets.empty());
  EXPECT_EQ(q.stored_bytes(), 6u);
  float back[3];
  dequantize(q, back);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.0f);
  EXPECT_EQ(back[2], 65504.0f);
  EXPECT_THROW(unpack_codes(q), InputError);
}

TEST(Quantizer, StoredBytesCountCodesScalesAndOffsets) {
  std::vector<float> w(4 * 256, 0.5f);
  const QuantizedMatrix q = quantize(parse_format("q3.5"), w.data(), 4, 256, 128);
  EXPECT_EQ(q.stored_bytes(), 4u * 112 + 4u * 2 * 2 * 2);
}

// --- input errors --------------------------------------------------------------------------------

void expect_input_error(const char* format, std::vector<float> w, std::size_t rows,
                        std::size_t cols, const std::vector<std::string>& parts) {
  try {
    quantize(parse_format(format), w.data(), rows, cols, 4);
    ADD_FAILURE() << "expected InputError for " << format;
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p)) << format;
  }
}

TEST(Quantizer, NanOrInfIsAnInputErrorNamingRowAndColumn) {
  for (const char* format : {"int4", "q3.5", "fp16"}) {
    std::vector<float> w(16, 0.5f);
    w[8 + 5] = std::numeric_limits<float>::quiet_NaN();
    expect_input_error(format, w, 2, 8, {"row 1", "column 5", "NaN"});
    w[8 + 5] = 0.5f;
    w[3] = -std::numeric_limits<float>::infinity();
    expect_input_error(format, w, 2, 8, {"row 0", "column 3", "inf"});
  }
}

TEST(Quantizer, ValueBeyondFp16RangeIsAnInputError) {
  for (const char* format : {"int8", "q2.5", "fp16"}) {
    std::vector<float> w(8, 65504.0f);
    EXPECT_NO_THROW(quantize(parse_format(format), w.data(), 1, 8, 4));
    w[6] = -65505.0f;
    expect_input_error(format, w, 1, 8, {"row 0", "column 6", "fp16 range"});
  }
}

TEST(Quantizer, ScaleOverflowingFp16IsAnInputError) {
  // pattern:1 has cmax - cmin = 1: scale = hi - lo = 131008 does not fit in fp16.
  expect_input_error("pattern:1", {-65504.0f, 65504.0f, 0.0f, 0.0f}, 1, 4,
                     {"row 0", "columns 0-3", "scale", "overflows fp16"});
}

TEST(Quantizer, ColsNotAMultipleOfThePatternIsAnInputError) {
  std::vector<float> w(7, 0.0f);
  EXPECT_THROW(quantize(parse_format("q3.5"), w.data(), 1, 7, 128), InputError);
  EXPECT_THROW(quantize(parse_format("int4"), w.data(), 1, 7, -3), InputError);
}

}  // namespace
}  // namespace lpusim
