// binary16 and bfloat16 conversions: exhaustive round trips over every 16-bit pattern, and
// float/double -> 16-bit rounding checked against a reference that searches the sorted table of
// representable values and rounds at the exact midpoints (ties to even).
#include "kernels/fp16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace lpusim {
namespace {

float float_from_bits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint32_t bits_from_float(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// The value of fp16 bits by the IEEE formula (independent of the bit-copying conversion).
double fp16_formula(std::uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

// Reference nearest-even rounding of a finite double to 16-bit patterns whose positive values
// are `positives` (sorted by value == sorted by bits, index == bits); values past the largest
// finite one round against `overflow`, the value the next pattern (infinity) would have with an
// unbounded exponent. Midpoints of 16-bit values are exact in double.
std::uint16_t reference_round(double x, const std::vector<double>& positives, double overflow,
                              std::uint16_t sign_bit) {
  const std::uint16_t sign = std::signbit(x) ? sign_bit : 0;
  const double a = std::fabs(x);
  // Largest index with value <= a.
  const auto it = std::upper_bound(positives.begin(), positives.end(), a);
  const auto lower = static_cast<std::uint16_t>(it - positives.begin() - 1);
  const double lo = positives[lower];
  if (lo == a) return sign | lower;
  const double hi = lower + 1u < positives.size() ? positives[lower + 1u] : overflow;
  const double mid = (lo + hi) / 2;
  const auto upper = static_cast<std::uint16_t>(lower + 1);
  if (a < mid) return sign | lower;
  if (a > mid) return sign | upper;
  return sign | ((lower & 1) ? upper : lower);
}

const std::vector<double>& fp16_positives() {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (std::uint32_t b = 0; b < 0x7C00; ++b)
      v.push_back(fp16_formula(static_cast<std::uint16_t>(b)));
    return v;
  }();
  return values;
}

const std::vector<double>& bf16_positives() {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (std::uint32_t b = 0; b < 0x7F80; ++b) v.push_back(float_from_bits(b << 16));
    return v;
  }();
  return values;
}

constexpr double kFp16Overflow = 65536.0;           // 2^16
const double kBf16Overflow = std::ldexp(1.0, 128);  // 2^128

std::uint16_t reference_fp16(double x) {
  return reference_round(x, fp16_positives(), kFp16Overflow, 0x8000);
}

std::uint16_t reference_bf16(double x) {
  return reference_round(x, bf16_positives(), kBf16Overflow, 0x8000);
}

// Floats that stress rounding: every fp16 value, the exact midpoints between neighbours and the
// floats just either side of them, plus random bit patterns over the whole float range.
std::vector<float> fp16_stress_floats() {
  std::vector<float> out;
  const auto& pos = fp16_positives();
  for (std::size_t i = 0; i < pos.size(); ++i) {
    const double hi = i + 1 < pos.size() ? pos[i + 1] : kFp16Overflow;
    const auto mid = static_cast<float>((pos[i] + hi) / 2);  // exact in float
    for (float f :
         {static_cast<float>(pos[i]), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)}) {
      out.push_back(f);
      out.push_back(-f);
    }
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 1000000; ++i) {
    const float f = float_from_bits(bits(rng));
    if (std::isfinite(f)) out.push_back(f);
  }
  // Random floats in the fp16 range, where most of the work is.
  std::uniform_real_distribution<float> in_range(-70000.0f, 70000.0f);
  for (int i = 0; i < 200000; ++i) out.push_back(in_range(rng) * std::ldexp(1.0f, -(i % 30)));
  return out;
}

TEST(Fp16ToFloat, MatchesTheIeeeFormulaForEveryPattern) {
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const double expected = fp16_formula(bits);
    const float got = fp16_to_float(bits);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << std::hex << b;
    } else {
      EXPECT_EQ(static_cast<double>(got), expected) << std::hex << b;
      EXPECT_EQ(std::signbit(got), (b & 0x8000) != 0) << std::hex << b;
    }
  }
}

TEST(Fp16RoundTrip, EveryBitPatternSurvivesFloatAndBack) {
  // All 65536 patterns, NaN payloads and both zeros included.
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    ASSERT_EQ(float_to_fp16(fp16_to_float(bits)), bits) << std::hex << b;
    // float -> double conversion quiets a signalling NaN (sets the top payload bit).
    const bool nan = (b & 0x7C00) == 0x7C00 && (b & 0x3FF) != 0;
    const std::uint16_t via_double = nan ? static_cast<std::uint16_t>(bits | 0x200) : bits;
    ASSERT_EQ(double_to_fp16(fp16_to_float(bits)), via_double) << std::hex << b;
  }
}

TEST(FloatToFp16, KnownValues) {
  EXPECT_EQ(float_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(float_to_fp16(-2.0f), 0xC000);
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_fp16(65519.99f), 0x7BFF);  // below the midpoint to 2^16
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7C00);   // the tie rounds to even: infinity
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25)), 0x0000);          // tie to even: zero
  EXPECT_EQ(float_to_fp16(std::ldexp(3.0f, -25)), 0x0002);          // tie to even: 2 units
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25) * 1.01f), 0x0001);  // above the tie
  EXPECT_EQ(float_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);       // tie to the smallest normal
  EXPECT_EQ(float_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);   // tie to even
  EXPECT_EQ(float_to_fp16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);   // tie to even
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16(1e-30f), 0x0000);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(float_to_fp16(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(float_to_fp16(1e10f), 0x7C00);
}

TEST(FloatToFp16, NanStaysNanWithSignAndTopPayload) {
  const std::uint16_t quiet = float_to_fp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(quiet & 0x7C00, 0x7C00);
  EXPECT_NE(quiet & 0x3FF, 0);
  // A payload only in the low 13 bits would vanish: it becomes a NaN, never infinity.
  EXPECT_EQ(float_to_fp16(float_from_bits(0xFF800001u)), 0xFE00);
  EXPECT_EQ(float_to_fp16(float_from_bits(0x7FC02000u)), 0x7E01);
}

TEST(FloatToFp16, MatchesReferenceRoundingOnStressSample) {
  for (float f : fp16_stress_floats()) {
    ASSERT_EQ(float_to_fp16(f), reference_fp16(f))
        << f << " bits " << std::hex << bits_from_float(f);
  }
}

TEST(DoubleToFp16, MatchesReferenceRoundingOnStressSample) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::uint64_t> bits;
  const auto& pos = fp16_positives();
  std::vector<double> sample;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    const double hi = i + 1 < pos.size() ? pos[i + 1] : kFp16Overflow;
    const double mid = (pos[i] + hi) / 2;
    for (double d : {pos[i], mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300)}) {
      sample.push_back(d);
      sample.push_back(-d);
    }
  }
  for (int i = 0; i < 1000000; ++i) {
    double d;
    const std::uint64_t b = bits(rng);
    std::memcpy(&d, &b, sizeof d);
    if (std::isfinite(d)) sample.push_back(d);
    sample.push_back(std::ldexp(static_cast<double>(b >> 11), -53 - (i % 40)) * 65536.0);
  }
  for (double d : sample) {
    ASSERT_EQ(double_to_fp16(d), reference_fp16(d)) << d;
  }
}

TEST(DoubleToFp16, RoundsOnceNotViaFloat) {
  // 1 + 2^-11 + 2^-40 is just above the midpoint between 1 and 1 + 2^-10; through float it would
  // first round to the midpoint itself and then to even (1.0).
  const double x = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(double_to_fp16(x), 0x3C01);
  EXPECT_EQ(float_to_fp16(static_cast<float>(x)), 0x3C00);
}

TEST(Bf16RoundTrip, EveryBitPatternSurvivesFloatAndBack) {
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    ASSERT_EQ(float_to_bf16(bf16_to_float(bits)), bits) << std::hex << b;
    EXPECT_EQ(bits_from_float(bf16_to_float(bits)), b << 16);
  }
}

TEST(FloatToBf16, MatchesReferenceRoundingOnRandomFloats) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 2000000; ++i) {
    std::uint32_t b = bits(rng);
    if (i % 4 == 0) b = (b & 0xFFFF0000u) | 0x8000u;  // exact ties
    const float f = float_from_bits(b);
    if (!std::isfinite(f)) continue;
    ASSERT_EQ(float_to_bf16(f), reference_bf16(f)) << std::hex << b;
  }
  EXPECT_EQ(float_to_bf16(float_from_bits(0x7F7FFFFFu)), 0x7F80);       // max float rounds to inf
  EXPECT_EQ(float_to_bf16(float_from_bits(0x3F808000u)), 0x3F80);       // tie to even (down)
  EXPECT_EQ(float_to_bf16(float_from_bits(0x3F818000u)), 0x3F82);       // tie to even (up)
  EXPECT_EQ(float_to_bf16(float_from_bits(0x7F800001u)) & 0x7F, 0x40);  // NaN stays NaN
}

}  // namespace
}  // namespace lpusim
