// Two-level scales (docs/FORMATS.md "Two-level scales"): s1 per row, s2 and z per group derived
// from the stored fp16 scales and offsets. Exact round trip of representable metadata, int8 range
// of s2 * c + z for every code and every group (also adversarial metadata), the documented error
// bound, and the reconstruction helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "kernels/quantizer.h"

namespace lpusim {
namespace {

struct CodeRange {
  int cmin, cmax;
};

CodeRange code_range(const WeightFormat& f) {
  const int bmax = f.max_bits();
  return {-(1 << (bmax - 1)), (1 << (bmax - 1)) - 1};
}

TEST(TwoLevel, MaxS2IsTheLargestThatKeepsTheCodeSpanInInt8) {
  EXPECT_EQ(two_level_max_s2(parse_format("int4")), 17);
  EXPECT_EQ(two_level_max_s2(parse_format("q3.5")), 17);
  EXPECT_EQ(two_level_max_s2(parse_format("q3")), 36);
  EXPECT_EQ(two_level_max_s2(parse_format("q2.5")), 36);
  EXPECT_EQ(two_level_max_s2(parse_format("pattern:7")), 2);
  EXPECT_EQ(two_level_max_s2(parse_format("pattern:1")), 255);
  EXPECT_THROW(two_level_max_s2(parse_format("int8")), InputError);
  EXPECT_THROW(two_level_max_s2(parse_format("pattern:4,8")), InputError);
  EXPECT_THROW(two_level_max_s2(parse_format("fp16")), InputError);
}

// Metadata that is exactly s1 * s2 and s1 * z (residue 0) comes back bit for bit: one group
// reaches q = 127, so s1 = fp16(A / 127) is the s1 we started from; the others stay in
// [-127, 127].
TEST(TwoLevel, RepresentableMetadataRoundTripsExactly) {
  const WeightFormat f = parse_format("int4");
  const CodeRange r = code_range(f);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const double s1 = std::ldexp(1.0, -static_cast<int>(rng() % 12) - 2);  // 2^-2 .. 2^-13
    std::vector<int> s2 = {15};
    std::vector<int> z = {22};  // 15 * 7 + 22 = 127, 15 * -8 + 22 = -98
    for (int g = 1; g < 32; ++g) {
      const int a = static_cast<int>(rng() % 17);  // s2 = 17 forces q = -128 at c = -8
      const int lo = -127 - a * r.cmin;
      const int hi = 127 - a * r.cmax;
      s2.push_back(a);
      z.push_back(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)));
    }
    std::vector<std::uint16_t> scales, offsets;
    for (std::size_t g = 0; g < s2.size(); ++g) {
      scales.push_back(double_to_fp16(s1 * s2[g]));
      offsets.push_back(double_to_fp16(s1 * z[g]));
      ASSERT_EQ(fp16_to_float(scales.back()), s1 * s2[g]);
      ASSERT_EQ(fp16_to_float(offsets.back()), s1 * z[g]);
    }
    std::uint16_t s1_out = 0;
    std::vector<std::uint8_t> s2_out(s2.size());
    std::vector<std::int8_t> z_out(s2.size());
    two_level_row(f, scales.data(), offsets.data(), s2.size(), &s1_out, s2_out.data(),
                  z_out.data());
    ASSERT_EQ(fp16_to_float(s1_out), s1) << trial;
    for (std::size_t g = 0; g < s2.size(); ++g) {
      EXPECT_EQ(s2_out[g], s2[g]) << trial << " group " << g;
      EXPECT_EQ(z_out[g], z[g]) << trial << " group " << g;
    }
  }
}

std::uint16_t random_finite_fp16(std::mt19937& rng) {
  while (true) {
    const auto bits = static_cast<std::uint16_t>(rng());
    if ((bits & 0x7C00) != 0x7C00) return bits;
  }
}

// Any finite fp16 scales and offsets (negative scales, huge offsets, subnormals, zeros, groups far
// from the row's others): s2 <= max_s2 and s2 * c + z in [-128, 127] for every code.
TEST(TwoLevel, Int8RangeNeverOverflowsEvenForAdversarialMetadata) {
  std::mt19937 rng(11);
  for (const char* name : {"int4", "q3.5", "q3", "q2.5", "pattern:7", "pattern:1", "pattern:5,3"}) {
    const WeightFormat f = parse_format(name);
    const CodeRange r = code_range(f);
    const int max_s2 = two_level_max_s2(f);
    for (int row = 0; row < 2000; ++row) {
      const std::size_t groups = 1 + rng() % 9;
      std::vector<std::uint16_t> scales(groups), offsets(groups);
      for (std::size_t g = 0; g < groups; ++g) {
        switch (rng() % 4) {
          case 0:  // anything finite
            scales[g] = random_finite_fp16(rng);
            offsets[g] = random_finite_fp16(rng);
            break;
          case 1:  // a constant group: scale 0
            scales[g] = 0;
            offsets[g] = random_finite_fp16(rng);
            break;
          case 2:  // the extremes of fp16
            scales[g] = rng() % 2 ? 0x7BFF : 0x0001;
            offsets[g] = rng() % 2 ? 0xFBFF : 0x7BFF;
            break;
          default:  // a plausible min/max group
            scales[g] = double_to_fp16(std::ldexp(1.0 + (rng() % 1000) / 1000.0, -8));
            offsets[g] = double_to_fp16((static_cast<int>(rng() % 200) - 100) / 1000.0);
        }
      }
      std::uint16_t s1 = 0;
      std::vector<std::uint8_t> s2(groups);
      std::vector<std::int8_t> z(groups);
      two_level_row(f, scales.data(), offsets.data(), groups, &s1, s2.data(), z.data());
      ASSERT_NE(s1 & 0x7C00, 0x7C00) << name;  // finite
      for (std::size_t g = 0; g < groups; ++g) {
        ASSERT_LE(s2[g], max_s2) << name;
        for (int c = r.cmin; c <= r.cmax; ++c) {
          const int q = s2[g] * c + z[g];
          ASSERT_GE(q, -128) << name << " s2 " << int(s2[g]) << " z " << int(z[g]) << " c " << c;
          ASSERT_LE(q, 127) << name << " s2 " << int(s2[g]) << " z " << int(z[g]) << " c " << c;
        }
      }
    }
  }
}

// |w_hat - w2| <= s1 * (2^bmax + 2) / 2 for every weight of matrices from the reference
// quantizer, including rows with outlier columns (a few groups 10-50x wider than the rest).
TEST(TwoLevel, ReconstructionStaysWithinTheDocumentedBound) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (const char* name : {"int4", "q3.5", "q3", "q2.5"}) {
    const WeightFormat f = parse_format(name);
    const std::size_t rows = 64;
    const std::size_t cols = 1024;
    std::vector<float> w(rows * cols);
    for (float& v : w) v = normal(rng);
    for (std::size_t r = 0; r < rows; ++r) {
      w[r * cols + 77] *= 40.0f;  // an outlier input channel
      w[r * cols + 700] += 0.5f;  // a group far from zero
    }
    const QuantizedMatrix q = quantize(f, w.data(), rows, cols, 128);
    const TwoLevelScales t = derive_two_level(q);
    std::vector<float> w_hat(rows * cols), w2(rows * cols);
    dequantize(q, w_hat.data());
    dequantize_two_level(q, t, w2.data());
    const double factor = (std::ldexp(1.0, f.max_bits()) + 2) / 2;
    double worst = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const double s1 = fp16_to_float(t.s1[r]);
      for (std::size_t c = 0; c < cols; ++c) {
        const double err = std::fabs(double(w_hat[r * cols + c]) - double(w2[r * cols + c]));
        ASSERT_LE(err, factor * s1 * (1 + 1e-6)) << name << " row " << r << " col " << c;
        worst = std::max(worst, err / s1);
      }
    }
    // The bound is not vacuous: typical rows use a good part of it.
    EXPECT_GT(worst, 1.0) << name;
  }
}

TEST(TwoLevel, CodesAreS2TimesCPlusZAndW2IsS1TimesThem) {
  const WeightFormat f = parse_format("q3.5");
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(4 * 200);
  for (float& v : w) v = normal(rng);
  const QuantizedMatrix q = quantize(f, w.data(), 4, 200, 64);  // groups of 64, 64, 64, 8
  const TwoLevelScales t = derive_two_level(q);
  ASSERT_EQ(t.groups, 4u);
  const std::vector<std::int8_t> c = unpack_codes(q);
  const std::vector<std::int8_t> q8 = two_level_codes(q, t);
  std::vector<float> w2(w.size());
  dequantize_two_level(q, t, w2.data());
  for (std::size_t r = 0; r < 4; ++r) {
    for (std::size_t k = 0; k < 200; ++k) {
      const std::size_t g = r * 4 + k / 64;
      EXPECT_EQ(q8[r * 200 + k], t.s2[g] * c[r * 200 + k] + t.z[g]);
      EXPECT_EQ(w2[r * 200 + k], static_cast<float>(fp16_to_float(t.s1[r]) * q8[r * 200 + k]));
    }
  }
}

TEST(TwoLevel, AllZeroRowGivesZeroScales) {
  const WeightFormat f = parse_format("int4");
  const std::vector<std::uint16_t> scales = {0, 0}, offsets = {0, 0x8000};  // +0, -0
  std::uint16_t s1 = 1;
  std::vector<std::uint8_t> s2(2, 1);
  std::vector<std::int8_t> z(2, 1);
  two_level_row(f, scales.data(), offsets.data(), 2, &s1, s2.data(), z.data());
  EXPECT_EQ(s1, 0);
  EXPECT_EQ(s2[0] | s2[1], 0);
  EXPECT_EQ(z[0] | z[1], 0);
}

TEST(TwoLevel, DerivationIsDeterministic) {
  const WeightFormat f = parse_format("int4");
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(16 * 512);
  for (float& v : w) v = normal(rng);
  const QuantizedMatrix q = quantize(f, w.data(), 16, 512, 128);
  const TwoLevelScales a = derive_two_level(q);
  const TwoLevelScales b = derive_two_level(q);
  EXPECT_EQ(a.s1, b.s1);
  EXPECT_EQ(a.s2, b.s2);
  EXPECT_EQ(a.z, b.z);
}

}  // namespace
}  // namespace lpusim
