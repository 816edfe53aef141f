// Quantization quality (docs/FORMATS.md, "Quality"): error sums and metrics of W_hat against W
// and of X W_hat^T against X W^T, deterministic synthetic weights, and the per-scheme measurement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/format.h"
#include "kernels/quantizer.h"

namespace lpusim {

// Rows of the random activations X used for the output error of Y = X W^T.
inline constexpr std::size_t kActivationRows = 8;

// Random numbers that are the same for a seed on every platform: std::mt19937_64's raw outputs
// (fully specified by the standard) turned into floats by our own formulas, never by the
// implementation-defined std:: distributions.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Uniform in (0, 1): never 0, so it is safe under log().
  double uniform_open();
  // N(0, 1) by the Marsaglia polar method (only sqrt, log and arithmetic).
  double standard_normal();
  // Laplace with mean 0 and variance 1 (scale 1/sqrt(2)), by the inverse CDF.
  double laplace();

 private:
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

// The synthetic weight distributions of `quant-error --synthetic`.
enum class SyntheticDistribution { kGaussian, kLaplace, kLlm };

// Parses "gaussian", "laplace" or "llm"; throws InputError listing them.
SyntheticDistribution parse_synthetic_distribution(std::string_view name);
const std::vector<std::string>& synthetic_distribution_names();

// The "llm" recipe: N(0, kLlmWeightStd^2) weights; max(1, cols / kLlmColumnsPerOutlier) input
// channels (columns) drawn without replacement are outliers, each multiplied by a factor uniform
// in [kLlmOutlierMinFactor, kLlmOutlierMaxFactor). Outlier columns and factors are drawn first,
// then the weights row by row, all from one DeterministicRandom(seed).
inline constexpr double kLlmWeightStd = 0.02;
inline constexpr std::size_t kLlmColumnsPerOutlier = 512;
inline constexpr double kLlmOutlierMinFactor = 10.0;
inline constexpr double kLlmOutlierMaxFactor = 50.0;

// Row-major [rows, cols] weights of the distribution, all from DeterministicRandom(seed).
std::vector<float> synthetic_weights(SyntheticDistribution distribution, std::size_t rows,
                                     std::size_t cols, std::uint64_t seed);

// The outlier columns of the "llm" recipe for (cols, seed), in increasing order.
std::vector<std::size_t> llm_outlier_columns(std::size_t cols, std::uint64_t seed);

// Row-major [kActivationRows, cols] N(0, 1) activations from DeterministicRandom(seed ^ salt):
// the same X for every scheme of a run, so schemes are compared on the same inputs.
std::vector<float> random_activations(std::size_t cols, std::uint64_t seed);

// Sums from which every quality metric follows; sums of two tensors add up to the pooled metrics
// of both ("overall" = all weights of all tensors taken together).
struct ErrorSums {
  std::uint64_t weight_count = 0;
  double weight_sq = 0;        // sum w^2
  double error_sq = 0;         // sum (w - w_hat)^2
  double weight_abs = 0;       // sum |w|
  double error_abs = 0;        // sum |w - w_hat|
  double max_abs_error = 0;    // max |w - w_hat|
  double output_sq = 0;        // sum y^2 over Y = X W^T
  double output_error_sq = 0;  // sum (y - y_hat)^2, Y_hat = X W_hat^T
  double stored_bits = 0;      // codes + 32 bits per group (fp16: 16 per weight)

  void add(const ErrorSums& other);
};

// The metrics of docs/FORMATS.md ("Quality"), as fractions (not percent).
struct QualityMetrics {
  double relative_frobenius_error = 0;  // ||W - W_hat|| / ||W||
  double mean_relative_error = 0;       // mean|W - W_hat| / mean|W|
  double max_abs_error = 0;             // max |W - W_hat|
  double sqnr_db = 0;                   // 10 log10(sum w^2 / sum (w - w_hat)^2); +inf if exact
  double output_relative_error = 0;     // ||X W^T - X W_hat^T|| / ||X W^T||
  double effective_bits_per_weight = 0;
};

QualityMetrics quality_metrics(const ErrorSums& sums);

// Adds the weight-error sums of `count` weights.
void accumulate_weight_error(const float* w, const float* w_hat, std::size_t count,
                             ErrorSums* sums);

// Adds the output-error sums of `rows` weight rows of length `cols` against activations x
// (row-major [kActivationRows, cols]).
void accumulate_output_error(const float* x, const float* w, const float* w_hat, std::size_t rows,
                             std::size_t cols, ErrorSums* sums);

// A quantization scheme under test: a format and its quantizer.
struct QuantScheme {
  WeightFormat format;
  bool symmetric = false;  // false: the reference min/max quantizer

  std::string label() const;  // "q3.5", or "int4-sym" when symmetric
};

// A weight matrix to measure, read a block of rows at a time (files are mapped, not loaded).
struct WeightMatrixSource {
  std::string name;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::function<void(std::size_t first_row, std::size_t row_count, float* out)> read_rows;
};

// Quality of one scheme: per tensor (in source order) and overall.
struct SchemeQuality {
  std::string scheme;
  std::vector<ErrorSums> per_tensor;
  ErrorSums overall;
};

// Quantizes and dequantizes every source with every scheme, a block of rows at a time, and sums
// the errors. Activations come from random_activations(cols, seed). Errors from the quantizer
// (NaN, Inf, K not a multiple of the pattern) are rethrown naming the source.
std::vector<SchemeQuality> measure_quality(const std::vector<WeightMatrixSource>& sources,
                                           const std::vector<QuantScheme>& schemes, int group_size,
                                           std::uint64_t seed);

}  // namespace lpusim
