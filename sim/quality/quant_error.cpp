// Quantization quality (docs/FORMATS.md, "Quality"): error sums and metrics of W_hat against W
// and of X W_hat^T against X W^T, deterministic synthetic weights, and the per-scheme measurement.
#include "sim/quality/quant_error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/error.h"
#include "sim/quality/symmetric_quantizer.h"

namespace lpusim {
namespace {

constexpr int kUniformBits = 53;
constexpr std::uint64_t kActivationSeedSalt = 0x9E3779B97F4A7C15ull;
// Rows quantized together: about this many weights per block, to bound memory on big tensors.
constexpr std::size_t kBlockWeights = std::size_t{1} << 20;

// Inverse CDF of the unit-variance Laplace distribution at u in (0, 1).
double laplace_from_uniform(double u) {
  const double scale = 1.0 / std::sqrt(2.0);
  const double centred = u - 0.5;
  const double magnitude = -scale * std::log(1.0 - 2.0 * std::fabs(centred));
  return centred < 0 ? -magnitude : magnitude;
}

std::vector<float> draw_matrix(std::size_t rows, std::size_t cols, double scale,
                               double (DeterministicRandom::*draw)(), DeterministicRandom& random) {
  std::vector<float> out(rows * cols);
  for (float& value : out) value = static_cast<float>(scale * (random.*draw)());
  return out;
}

// Partial Fisher-Yates over 0..cols-1 with our own bounded draw (no std:: distribution).
std::vector<std::size_t> draw_distinct_columns(std::size_t cols, std::size_t count,
                                               DeterministicRandom& random) {
  std::vector<std::size_t> columns(cols);
  std::iota(columns.begin(), columns.end(), std::size_t{0});
  for (std::size_t i = 0; i < count; ++i) {
    const auto remaining = static_cast<double>(cols - i);
    const std::size_t pick = i + static_cast<std::size_t>(random.uniform() * remaining);
    std::swap(columns[i], columns[std::min(pick, cols - 1)]);
  }
  columns.resize(count);
  return columns;
}

struct OutlierColumns {
  std::vector<std::size_t> columns;
  std::vector<double> factors;
};

OutlierColumns draw_outliers(std::size_t cols, DeterministicRandom& random) {
  OutlierColumns outliers;
  const std::size_t count = std::min(cols, std::max<std::size_t>(1, cols / kLlmColumnsPerOutlier));
  outliers.columns = draw_distinct_columns(cols, count, random);
  for (std::size_t i = 0; i < count; ++i) {
    outliers.factors.push_back(kLlmOutlierMinFactor +
                               (kLlmOutlierMaxFactor - kLlmOutlierMinFactor) * random.uniform());
  }
  return outliers;
}

std::vector<float> llm_weights(std::size_t rows, std::size_t cols, DeterministicRandom& random) {
  const OutlierColumns outliers = cols == 0 ? OutlierColumns{} : draw_outliers(cols, random);
  std::vector<double> column_scale(cols, kLlmWeightStd);
  for (std::size_t i = 0; i < outliers.columns.size(); ++i) {
    column_scale[outliers.columns[i]] *= outliers.factors[i];
  }
  std::vector<float> out(rows * cols);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(column_scale[i % cols] * random.standard_normal());
  }
  return out;
}

QuantizedMatrix quantize_with(const QuantScheme& scheme, const float* w, std::size_t rows,
                              std::size_t cols, int group_size) {
  return scheme.symmetric ? quantize_symmetric(scheme.format, w, rows, cols, group_size)
                          : quantize(scheme.format, w, rows, cols, group_size);
}

// Transposes row-major [kActivationRows, cols] x into [cols, kActivationRows].
std::vector<float> transpose_activations(const float* x, std::size_t cols) {
  std::vector<float> xt(cols * kActivationRows);
  for (std::size_t r = 0; r < kActivationRows; ++r) {
    for (std::size_t k = 0; k < cols; ++k) xt[k * kActivationRows + r] = x[r * cols + k];
  }
  return xt;
}

void measure_block(const WeightMatrixSource& source, const std::vector<QuantScheme>& schemes,
                   int group_size, const float* x, const std::vector<float>& w, std::size_t rows,
                   std::vector<float>& w_hat, std::vector<SchemeQuality>& results) {
  for (std::size_t s = 0; s < schemes.size(); ++s) {
    ErrorSums& sums = results[s].per_tensor.back();
    try {
      dequantize(quantize_with(schemes[s], w.data(), rows, source.cols, group_size), w_hat.data());
    } catch (const InputError& e) {
      throw InputError(SourceLocation{"", 0, "tensor '" + source.name + "'"}, e.what());
    }
    accumulate_weight_error(w.data(), w_hat.data(), rows * source.cols, &sums);
    accumulate_output_error(x, w.data(), w_hat.data(), rows, source.cols, &sums);
  }
}

void measure_source(const WeightMatrixSource& source, const std::vector<QuantScheme>& schemes,
                    int group_size, std::uint64_t seed, std::vector<SchemeQuality>& results) {
  for (SchemeQuality& result : results) result.per_tensor.emplace_back();
  if (source.rows == 0 || source.cols == 0) return;
  const std::vector<float> x = random_activations(source.cols, seed);
  const std::size_t block_rows = std::max<std::size_t>(1, kBlockWeights / source.cols);
  std::vector<float> w(std::min(block_rows, source.rows) * source.cols);
  std::vector<float> w_hat(w.size());
  for (std::size_t first = 0; first < source.rows; first += block_rows) {
    const std::size_t rows = std::min(block_rows, source.rows - first);
    source.read_rows(first, rows, w.data());
    measure_block(source, schemes, group_size, x.data(), w, rows, w_hat, results);
  }
  const auto weights = static_cast<double>(source.rows * source.cols);
  for (std::size_t s = 0; s < schemes.size(); ++s) {
    results[s].per_tensor.back().stored_bits =
        weights * schemes[s].format.effective_bits_per_weight(source.cols, group_size);
  }
}

}  // namespace

// --- random numbers ---------------------------------------------------------------------------

double DeterministicRandom::uniform() {
  return std::ldexp(static_cast<double>(engine_() >> (64 - kUniformBits)), -kUniformBits);
}

double DeterministicRandom::uniform_open() {
  double u = 0;
  while (u == 0) u = uniform();
  return u;
}

double DeterministicRandom::standard_normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u = 0;
  double v = 0;
  double s = 0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * factor;
  has_spare_normal_ = true;
  return u * factor;
}

double DeterministicRandom::laplace() { return laplace_from_uniform(uniform_open()); }

// --- synthetic weights ------------------------------------------------------------------------

const std::vector<std::string>& synthetic_distribution_names() {
  static const std::vector<std::string> names = {"gaussian", "laplace", "llm"};
  return names;
}

SyntheticDistribution parse_synthetic_distribution(std::string_view name) {
  if (name == "gaussian") return SyntheticDistribution::kGaussian;
  if (name == "laplace") return SyntheticDistribution::kLaplace;
  if (name == "llm") return SyntheticDistribution::kLlm;
  throw InputError(SourceLocation{"", 0, "--synthetic"},
                   "expected one of gaussian, laplace, llm, got \"" + std::string(name) + "\"");
}

std::vector<float> synthetic_weights(SyntheticDistribution distribution, std::size_t rows,
                                     std::size_t cols, std::uint64_t seed) {
  DeterministicRandom random(seed);
  switch (distribution) {
    case SyntheticDistribution::kGaussian:
      return draw_matrix(rows, cols, 1.0, &DeterministicRandom::standard_normal, random);
    case SyntheticDistribution::kLaplace:
      return draw_matrix(rows, cols, 1.0, &DeterministicRandom::laplace, random);
    case SyntheticDistribution::kLlm:
      return llm_weights(rows, cols, random);
  }
  return {};
}

std::vector<std::size_t> llm_outlier_columns(std::size_t cols, std::uint64_t seed) {
  if (cols == 0) return {};
  DeterministicRandom random(seed);
  std::vector<std::size_t> columns = draw_outliers(cols, random).columns;
  std::sort(columns.begin(), columns.end());
  return columns;
}

std::vector<float> random_activations(std::size_t cols, std::uint64_t seed) {
  DeterministicRandom random(seed ^ kActivationSeedSalt);
  return draw_matrix(kActivationRows, cols, 1.0, &DeterministicRandom::standard_normal, random);
}

// --- metrics ----------------------------------------------------------------------------------

void ErrorSums::add(const ErrorSums& other) {
  weight_count += other.weight_count;
  weight_sq += other.weight_sq;
  error_sq += other.error_sq;
  weight_abs += other.weight_abs;
  error_abs += other.error_abs;
  max_abs_error = std::max(max_abs_error, other.max_abs_error);
  output_sq += other.output_sq;
  output_error_sq += other.output_error_sq;
  stored_bits += other.stored_bits;
}

QualityMetrics quality_metrics(const ErrorSums& sums) {
  auto ratio = [](double numerator, double denominator) {
    return numerator == 0 ? 0.0 : numerator / denominator;
  };
  QualityMetrics metrics;
  metrics.relative_frobenius_error = std::sqrt(ratio(sums.error_sq, sums.weight_sq));
  metrics.mean_relative_error = ratio(sums.error_abs, sums.weight_abs);
  metrics.max_abs_error = sums.max_abs_error;
  metrics.sqnr_db = sums.error_sq == 0 ? std::numeric_limits<double>::infinity()
                                       : 10.0 * std::log10(sums.weight_sq / sums.error_sq);
  metrics.output_relative_error = std::sqrt(ratio(sums.output_error_sq, sums.output_sq));
  metrics.effective_bits_per_weight =
      ratio(sums.stored_bits, static_cast<double>(sums.weight_count));
  return metrics;
}

void accumulate_weight_error(const float* w, const float* w_hat, std::size_t count,
                             ErrorSums* sums) {
  double weight_sq = 0;
  double error_sq = 0;
  double weight_abs = 0;
  double error_abs = 0;
  double max_abs_error = sums->max_abs_error;
  for (std::size_t i = 0; i < count; ++i) {
    const double weight = w[i];
    const double error = weight - static_cast<double>(w_hat[i]);
    weight_sq += weight * weight;
    error_sq += error * error;
    weight_abs += std::fabs(weight);
    error_abs += std::fabs(error);
    max_abs_error = std::max(max_abs_error, std::fabs(error));
  }
  sums->weight_count += count;
  sums->weight_sq += weight_sq;
  sums->error_sq += error_sq;
  sums->weight_abs += weight_abs;
  sums->error_abs += error_abs;
  sums->max_abs_error = max_abs_error;
}

void accumulate_output_error(const float* x, const float* w, const float* w_hat, std::size_t rows,
                             std::size_t cols, ErrorSums* sums) {
  const std::vector<float> xt = transpose_activations(x, cols);
  for (std::size_t n = 0; n < rows; ++n) {
    const float* w_row = w + n * cols;
    const float* w_hat_row = w_hat + n * cols;
    double y[kActivationRows] = {};
    double y_error[kActivationRows] = {};
    for (std::size_t k = 0; k < cols; ++k) {
      const double weight = w_row[k];
      const double error = weight - static_cast<double>(w_hat_row[k]);
      const float* x_column = xt.data() + k * kActivationRows;
      for (std::size_t r = 0; r < kActivationRows; ++r) {
        y[r] += x_column[r] * weight;
        y_error[r] += x_column[r] * error;
      }
    }
    for (std::size_t r = 0; r < kActivationRows; ++r) {
      sums->output_sq += y[r] * y[r];
      sums->output_error_sq += y_error[r] * y_error[r];
    }
  }
}

// --- measurement ------------------------------------------------------------------------------

std::string QuantScheme::label() const {
  return symmetric && !format.is_float() ? format.name + "-sym" : format.name;
}

std::vector<SchemeQuality> measure_quality(const std::vector<WeightMatrixSource>& sources,
                                           const std::vector<QuantScheme>& schemes, int group_size,
                                           std::uint64_t seed) {
  std::vector<SchemeQuality> results(schemes.size());
  for (std::size_t s = 0; s < schemes.size(); ++s) results[s].scheme = schemes[s].label();
  for (const WeightMatrixSource& source : sources) {
    measure_source(source, schemes, group_size, seed, results);
  }
  for (SchemeQuality& result : results) {
    for (const ErrorSums& sums : result.per_tensor) result.overall.add(sums);
  }
  return results;
}

}  // namespace lpusim
