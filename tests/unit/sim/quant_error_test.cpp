// Tests of the quality metrics (hand-computed tiny cases), the deterministic synthetic weights
// (same seed, same numbers; statistics within written-out tolerances) and the measurement.
#include "sim/quality/quant_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "sim/quality/symmetric_quantizer.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

struct Moments {
  double mean = 0;
  double variance = 0;
  double mean_abs = 0;
  double excess_kurtosis = 0;
};

Moments moments(const std::vector<float>& values) {
  Moments m;
  const auto n = static_cast<double>(values.size());
  for (float v : values) m.mean += v / n;
  double fourth = 0;
  for (float v : values) {
    const double d = v - m.mean;
    m.variance += d * d / n;
    fourth += d * d * d * d / n;
    m.mean_abs += std::fabs(v) / n;
  }
  m.excess_kurtosis = fourth / (m.variance * m.variance) - 3.0;
  return m;
}

WeightMatrixSource source_of(const std::string& name, std::size_t rows, std::size_t cols,
                             std::vector<float> weights) {
  auto shared = std::make_shared<std::vector<float>>(std::move(weights));
  return {name, rows, cols, [shared, cols](std::size_t first, std::size_t count, float* out) {
            std::copy_n(shared->data() + first * cols, count * cols, out);
          }};
}

// --- metrics on hand-computed cases -----------------------------------------------------------

TEST(QualityMetrics, WeightErrors_MatchAHandComputedCase) {
  const float w[] = {1, -2, 3, -4};
  const float w_hat[] = {1, -1.5f, 3.5f, -4};  // errors 0, -0.5, -0.5, 0
  ErrorSums sums;
  accumulate_weight_error(w, w_hat, 4, &sums);
  const QualityMetrics m = quality_metrics(sums);
  EXPECT_DOUBLE_EQ(m.relative_frobenius_error, std::sqrt(0.5 / 30.0));
  EXPECT_DOUBLE_EQ(m.mean_relative_error, 1.0 / 10.0);
  EXPECT_DOUBLE_EQ(m.max_abs_error, 0.5);
  EXPECT_DOUBLE_EQ(m.sqnr_db, 10.0 * std::log10(60.0));
}

TEST(QualityMetrics, OutputError_MatchesAHandComputedCase) {
  // X: 8 rows of [1, 1]; W = [1, 2], W_hat = [1, 1]: y = 3, y - y_hat = 1 in every row.
  const std::vector<float> x(kActivationRows * 2, 1.0f);
  const float w[] = {1, 2};
  const float w_hat[] = {1, 1};
  ErrorSums sums;
  accumulate_output_error(x.data(), w, w_hat, 1, 2, &sums);
  EXPECT_DOUBLE_EQ(sums.output_sq, 9.0 * kActivationRows);
  EXPECT_DOUBLE_EQ(sums.output_error_sq, 1.0 * kActivationRows);
  EXPECT_DOUBLE_EQ(quality_metrics(sums).output_relative_error, 1.0 / 3.0);
}

TEST(QualityMetrics, ExactReconstruction_HasZeroErrorAndInfiniteSqnr) {
  const float w[] = {0.5f, -1};
  ErrorSums sums;
  accumulate_weight_error(w, w, 2, &sums);
  const QualityMetrics m = quality_metrics(sums);
  EXPECT_EQ(m.relative_frobenius_error, 0);
  EXPECT_EQ(m.mean_relative_error, 0);
  EXPECT_EQ(m.sqnr_db, std::numeric_limits<double>::infinity());
}

TEST(QualityMetrics, SumsOfTwoTensors_PoolAllTheirWeights) {
  const float a[] = {1, 2};
  const float a_hat[] = {1, 1};
  const float b[] = {3, 4};
  const float b_hat[] = {3.5f, 4};
  const float both[] = {1, 2, 3, 4};
  const float both_hat[] = {1, 1, 3.5f, 4};
  ErrorSums pooled;
  accumulate_weight_error(a, a_hat, 2, &pooled);
  ErrorSums second;
  accumulate_weight_error(b, b_hat, 2, &second);
  pooled.add(second);
  ErrorSums direct;
  accumulate_weight_error(both, both_hat, 4, &direct);
  EXPECT_DOUBLE_EQ(quality_metrics(pooled).relative_frobenius_error,
                   quality_metrics(direct).relative_frobenius_error);
  EXPECT_DOUBLE_EQ(quality_metrics(pooled).mean_relative_error,
                   quality_metrics(direct).mean_relative_error);
  EXPECT_EQ(pooled.max_abs_error, 1.0);
  EXPECT_EQ(pooled.weight_count, 4u);
}

// --- deterministic random numbers -------------------------------------------------------------

TEST(DeterministicRandom, RawOutputsAreTheStandardMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64.
  DeterministicRandom random(5489);
  for (int i = 0; i < 9999; ++i) random.next_u64();
  EXPECT_EQ(random.next_u64(), 9981545732273789042ull);
}

TEST(DeterministicRandom, UniformIsInTheUnitInterval) {
  DeterministicRandom random(7);
  for (int i = 0; i < 10000; ++i) {
    const double u = random.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_GT(random.uniform_open(), 0.0);
  }
}

TEST(SyntheticWeights, SameSeed_GivesIdenticalValues) {
  for (const std::string& name : synthetic_distribution_names()) {
    const SyntheticDistribution d = parse_synthetic_distribution(name);
    EXPECT_EQ(synthetic_weights(d, 16, 1024, 42), synthetic_weights(d, 16, 1024, 42)) << name;
    EXPECT_NE(synthetic_weights(d, 16, 1024, 42), synthetic_weights(d, 16, 1024, 43)) << name;
  }
}

TEST(SyntheticWeights, GoldenValues_PinTheRecipes) {
  // Polar method / inverse CDF on mt19937_64(1). Any change of recipe changes these; the 4-ulp
  // tolerance of EXPECT_FLOAT_EQ only absorbs a libm whose log() differs in the last bit.
  const std::vector<float> gaussian = {-0.0393999554f, -0.38683176f, -0.248947844f, 0.686823666f};
  const std::vector<float> laplace = {-0.931747019f, -0.918506801f, -0.0725946724f, -2.24077368f};
  const std::vector<float> g = synthetic_weights(SyntheticDistribution::kGaussian, 1, 4, 1);
  const std::vector<float> l = synthetic_weights(SyntheticDistribution::kLaplace, 1, 4, 1);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(g[i], gaussian[i]) << i;
    EXPECT_FLOAT_EQ(l[i], laplace[i]) << i;
  }
  EXPECT_EQ(llm_outlier_columns(4096, 1),
            (std::vector<std::size_t>{89, 311, 548, 559, 1439, 1849, 1931, 3733}));
}

TEST(SyntheticWeights, Gaussian_HasMean0AndStd1) {
  // 2^20 samples: standard error of the mean 0.001, of the variance 0.0014; tolerance ~7 sigma.
  const Moments m = moments(synthetic_weights(SyntheticDistribution::kGaussian, 1024, 1024, 3));
  EXPECT_NEAR(m.mean, 0.0, 0.007);
  EXPECT_NEAR(m.variance, 1.0, 0.01);
  EXPECT_NEAR(m.mean_abs, std::sqrt(2.0 / M_PI), 0.007);
  EXPECT_NEAR(m.excess_kurtosis, 0.0, 0.05);
}

TEST(SyntheticWeights, Laplace_HasMean0Variance1AndHeavyTails) {
  // Laplace(b = 1/sqrt 2): mean|x| = b, excess kurtosis 3.
  const Moments m = moments(synthetic_weights(SyntheticDistribution::kLaplace, 1024, 1024, 3));
  EXPECT_NEAR(m.mean, 0.0, 0.007);
  EXPECT_NEAR(m.variance, 1.0, 0.02);
  EXPECT_NEAR(m.mean_abs, 1.0 / std::sqrt(2.0), 0.007);
  EXPECT_NEAR(m.excess_kurtosis, 3.0, 0.3);
}

TEST(SyntheticWeights, Llm_HasScaledUpOutlierColumnsAndStd002Elsewhere) {
  const std::size_t rows = 512;
  const std::size_t cols = 2048;
  const std::vector<float> w = synthetic_weights(SyntheticDistribution::kLlm, rows, cols, 5);
  const std::vector<std::size_t> outliers = llm_outlier_columns(cols, 5);
  ASSERT_EQ(outliers.size(), cols / kLlmColumnsPerOutlier);
  auto column_std = [&](std::size_t k) {
    double sum_sq = 0;
    for (std::size_t n = 0; n < rows; ++n) sum_sq += w[n * cols + k] * w[n * cols + k];
    return std::sqrt(sum_sq / rows);
  };
  // 512 samples per column: the std of a column is within ~20% of its true value (>6 sigma).
  for (std::size_t k : outliers) {
    EXPECT_GT(column_std(k), 0.8 * kLlmOutlierMinFactor * kLlmWeightStd) << k;
    EXPECT_LT(column_std(k), 1.2 * kLlmOutlierMaxFactor * kLlmWeightStd) << k;
  }
  for (std::size_t k = 0; k < cols; ++k) {
    if (std::find(outliers.begin(), outliers.end(), k) != outliers.end()) continue;
    EXPECT_NEAR(column_std(k), kLlmWeightStd, 0.2 * kLlmWeightStd) << k;
  }
}

TEST(SyntheticWeights, UnknownDistribution_IsAnInputErrorListingTheChoices) {
  EXPECT_THAT([] { parse_synthetic_distribution("cauchy"); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("gaussian, laplace, llm")));
}

TEST(RandomActivations, AreDeterministicAndDifferFromTheWeightsOfTheSameSeed) {
  const std::vector<float> x = random_activations(256, 9);
  EXPECT_EQ(x.size(), kActivationRows * 256);
  EXPECT_EQ(x, random_activations(256, 9));
  EXPECT_NE(x, synthetic_weights(SyntheticDistribution::kGaussian, kActivationRows, 256, 9));
}

// --- symmetric quantizer ----------------------------------------------------------------------

TEST(SymmetricQuantizer, Int4_UsesAbsMaxOver7AndZeroOffset) {
  const float w[] = {-7, 3.5f, 0, 7};  // scale 1; 3.5 rounds away from zero to 4
  const QuantizedMatrix q = quantize_symmetric(parse_format("int4"), w, 1, 4, kPerChannel);
  EXPECT_EQ(fp16_to_float(q.scales[0]), 1.0f);
  EXPECT_EQ(fp16_to_float(q.offsets[0]), 0.0f);
  EXPECT_EQ(unpack_codes(q), (std::vector<std::int8_t>{-7, 4, 0, 7}));
}

TEST(SymmetricQuantizer, Q35_TheThreeBitSlotHasTwiceTheStepAndClampsAt6) {
  const float w[] = {7, 7, -7, -7, 2.9f, 3.1f};  // slot 1 (odd k): v in [-4, 3], c = 2v
  const QuantizedMatrix q = quantize_symmetric(parse_format("q3.5"), w, 1, 6, kPerChannel);
  EXPECT_EQ(unpack_codes(q), (std::vector<std::int8_t>{7, 6, -7, -8, 3, 4}));
}

// --- measurement ------------------------------------------------------------------------------

TEST(MeasureQuality, ErrorGrowsAsBitsShrinkOnGaussianWeights) {
  const std::vector<QuantScheme> schemes = {{parse_format("int8")},
                                            {parse_format("int4")},
                                            {parse_format("q3.5")},
                                            {parse_format("q3")},
                                            {parse_format("q2.5")}};
  const auto results = measure_quality(
      {source_of("g", 64, 512, synthetic_weights(SyntheticDistribution::kGaussian, 64, 512, 1))},
      schemes, kDefaultGroupSize, 1);
  ASSERT_EQ(results.size(), schemes.size());
  for (std::size_t s = 1; s < results.size(); ++s) {
    EXPECT_GT(quality_metrics(results[s].overall).relative_frobenius_error,
              quality_metrics(results[s - 1].overall).relative_frobenius_error)
        << results[s].scheme;
  }
  EXPECT_LT(quality_metrics(results[0].overall).relative_frobenius_error, 0.01);
  EXPECT_DOUBLE_EQ(quality_metrics(results[2].overall).effective_bits_per_weight, 3.75);
}

TEST(MeasureQuality, Fp16OfFp16Values_IsExact) {
  const std::vector<float> w = {0.5f, -1.25f, 3.0f, 1024.0f};
  const auto results =
      measure_quality({source_of("exact", 2, 2, w)}, {{parse_format("fp16")}}, 128, 1);
  EXPECT_EQ(results[0].overall.error_sq, 0.0);
  EXPECT_EQ(results[0].overall.output_error_sq, 0.0);
  EXPECT_DOUBLE_EQ(quality_metrics(results[0].overall).effective_bits_per_weight, 16.0);
}

TEST(MeasureQuality, OverallPoolsTheTensorsAndKeepsEachOne) {
  const auto results = measure_quality(
      {source_of("a", 8, 128, synthetic_weights(SyntheticDistribution::kGaussian, 8, 128, 1)),
       source_of("b", 4, 256, synthetic_weights(SyntheticDistribution::kLaplace, 4, 256, 2))},
      {{parse_format("int4")}}, 64, 7);
  ASSERT_EQ(results[0].per_tensor.size(), 2u);
  ErrorSums pooled = results[0].per_tensor[0];
  pooled.add(results[0].per_tensor[1]);
  EXPECT_DOUBLE_EQ(pooled.error_sq, results[0].overall.error_sq);
  EXPECT_EQ(results[0].overall.weight_count, 8u * 128 + 4u * 256);
}

TEST(MeasureQuality, BlocksOfRows_GiveTheSameSumsAsOneBlock) {
  // 2^20 / 64 = 16384 rows per block: 20000 rows take two blocks.
  const std::vector<float> w = synthetic_weights(SyntheticDistribution::kGaussian, 20000, 64, 4);
  const std::vector<float> top(w.begin(), w.begin() + 16384 * 64);
  const std::vector<float> bottom(w.begin() + 16384 * 64, w.end());
  const std::vector<QuantScheme> int4 = {{parse_format("int4")}};
  const auto whole = measure_quality({source_of("w", 20000, 64, w)}, int4, 32, 1);
  const auto parts = measure_quality(
      {source_of("t", 16384, 64, top), source_of("b", 20000 - 16384, 64, bottom)}, int4, 32, 1);
  EXPECT_NEAR(whole[0].overall.error_sq, parts[0].overall.error_sq,
              1e-12 * whole[0].overall.error_sq);
  EXPECT_NEAR(whole[0].overall.output_error_sq, parts[0].overall.output_error_sq,
              1e-12 * whole[0].overall.output_error_sq);
}

TEST(MeasureQuality, NanInATensor_IsAnInputErrorNamingIt) {
  std::vector<float> w(8, 1.0f);
  w[5] = std::nanf("");
  EXPECT_THAT(
      [&] { measure_quality({source_of("layer.3", 2, 4, w)}, {{parse_format("int4")}}, 4, 1); },
      ::testing::ThrowsMessage<InputError>(AllOf(HasSubstr("'layer.3'"), HasSubstr("NaN"))));
}

TEST(MeasureQuality, SymmetricSchemes_AreLabelledAndWorseThanMinMaxOnShiftedWeights) {
  std::vector<float> w = synthetic_weights(SyntheticDistribution::kGaussian, 16, 256, 2);
  for (float& v : w) v += 1.0f;  // off-centre groups: the offset earns its 16 bits
  const auto results =
      measure_quality({source_of("w", 16, 256, w)},
                      {{parse_format("int4"), false}, {parse_format("int4"), true}}, 128, 1);
  EXPECT_EQ(results[1].scheme, "int4-sym");
  EXPECT_LT(results[0].overall.error_sq, results[1].overall.error_sq);
}

}  // namespace
}  // namespace lpusim
