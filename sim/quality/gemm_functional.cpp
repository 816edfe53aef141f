#include "sim/quality/gemm_functional.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/fp16.h"
#include "sim/io/packed_weights.h"
#include "sim/quality/quant_error.h"

namespace lpusim {

namespace {

constexpr std::uint64_t kActivationSalt = 0x5851f42d4c957f2dULL;

std::vector<float> random_matrix(std::uint64_t rows, std::uint64_t cols, std::uint64_t seed) {
  DeterministicRandom rng(seed);
  std::vector<float> out(rows * cols);
  for (float& v : out) v = static_cast<float>(rng.standard_normal());
  return out;
}

// The activation quantization the kernel emits (docs/ISA.md "Kernels"), in the same f32 steps:
// x_scale = max(max|x| * f32(1/127), FLT_MIN); xq = round_half_away(x * (1 / x_scale)).
std::vector<std::int8_t> quantize_activations(const std::vector<float>& x, std::uint64_t m,
                                              std::uint64_t k) {
  std::vector<std::int8_t> xq(m * k);
  for (std::uint64_t r = 0; r < m; ++r) {
    const float* row = x.data() + r * k;
    float amax = std::fabs(row[0]);
    for (std::uint64_t c = 1; c < k; ++c) amax = std::max(amax, std::fabs(row[c]));
    float scale = amax * static_cast<float>(kActivationScaleImm);
    scale = std::max(scale, static_cast<float>(kActivationScaleFloor));
    const float inverse = 1.0f / scale;
    for (std::uint64_t c = 0; c < k; ++c) {
      const double rounded = std::round(static_cast<double>(row[c] * inverse));
      xq[r * k + c] = static_cast<std::int8_t>(std::clamp(rounded, -128.0, 127.0));
    }
  }
  return xq;
}

std::vector<double> product(const std::vector<float>& x, const std::vector<float>& w,
                            std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  std::vector<double> y(m * n, 0.0);
  for (std::uint64_t i = 0; i < m; ++i) {
    for (std::uint64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::uint64_t c = 0; c < k; ++c) acc += double(x[i * k + c]) * double(w[j * k + c]);
      y[i * n + j] = acc;
    }
  }
  return y;
}

template <typename T>
double relative_error(const std::vector<T>& got, const std::vector<double>& want) {
  double err = 0;
  double norm = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    err += d * d;
    norm += want[i] * want[i];
  }
  return norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
}

double max_abs_difference(const std::vector<float>& got, const std::vector<double>& want) {
  double out = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    out = std::max(out, std::fabs(static_cast<double>(got[i]) - want[i]));
  }
  return out;
}

template <typename T>
void copy_into(std::vector<std::uint8_t>& dst, const std::vector<T>& src, const char* what) {
  const std::size_t bytes = src.size() * sizeof(T);
  if (dst.size() < bytes) {
    throw SimulationError(std::string("functional: the kernel's ") + what + " space holds " +
                          std::to_string(dst.size()) + " bytes, the data needs " +
                          std::to_string(bytes));
  }
  std::memcpy(dst.data(), src.data(), bytes);
}

}  // namespace

GemmSpec GemmData::spec() const {
  GemmSpec spec;
  spec.name = "gemm";
  spec.m = m;
  spec.k = q.cols;
  spec.n = q.rows;
  spec.format = q.format;
  spec.group_size = q.group_size;
  return spec;
}

GemmData synthetic_gemm_data(const GemmSpec& spec, std::uint64_t seed) {
  GemmData data;
  data.m = spec.m;
  data.w = synthetic_weights(SyntheticDistribution::kGaussian, spec.n, spec.k, seed);
  data.x = random_matrix(spec.m, spec.k, seed ^ kActivationSalt);
  data.q = quantize(spec.format, data.w.data(), spec.n, spec.k, spec.group_size);
  return data;
}

GemmData packed_gemm_data(const std::string& weights_path, const std::string& tensor,
                          const std::string& reference_path, std::uint64_t seed) {
  GemmData data;
  data.q = read_packed_tensor(SafetensorsFile(weights_path), tensor);
  if (!reference_path.empty()) {
    const SafetensorsFile reference(reference_path);
    const TensorInfo& info = reference.tensor(tensor);
    if (!is_float_matrix(info) || info.rows() != data.q.rows || info.cols() != data.q.cols) {
      throw InputError(reference_path + ": tensor '" + tensor + "': expected a float matrix [" +
                       std::to_string(data.q.rows) + ", " + std::to_string(data.q.cols) +
                       "] like the packed one");
    }
    data.w = reference.read_float(info);
  }
  data.m = kActivationRows;
  data.x = random_activations(data.q.cols, seed);
  return data;
}

GemmFunctionalCheck::GemmFunctionalCheck(GemmData data, const GemmKernel& kernel)
    : data_(std::move(data)), kernel_(kernel) {
  if (kernel_.gemm.weights.two_level) {
    two_level_ = derive_two_level(data_.q);
    codes_ = two_level_codes(data_.q, two_level_);
    xq_ = quantize_activations(data_.x, data_.m, data_.q.cols);
  } else if (!data_.q.format.is_float()) {
    codes_ = unpack_codes(data_.q);
    xq_ = quantize_activations(data_.x, data_.m, data_.q.cols);
  }
}

void GemmFunctionalCheck::fill(FunctionalState& state) const {
  const GemmWeights& w = kernel_.gemm.weights;
  auto space = [&](std::uint32_t id) -> std::vector<std::uint8_t>& {
    return w.resident ? state.buffer(id) : state.region(id);
  };
  copy_into(space(w.qweight), data_.q.qweight, "qweight");
  if (w.scales) copy_into(space(*w.scales), data_.q.scales, "scales");
  if (w.offsets) copy_into(space(*w.offsets), data_.q.offsets, "offsets");
  if (w.channel_scales) copy_into(space(*w.channel_scales), two_level_.s1, "channel_scales");
  if (w.group_scales) copy_into(space(*w.group_scales), two_level_.s2, "group_scales");
  if (w.group_zeros) copy_into(space(*w.group_zeros), two_level_.z, "group_zeros");
  copy_into(state.region(kernel_.x_region), data_.x, "x");
}

void GemmFunctionalCheck::on_instruction(const InstructionEvent& event) {
  const Instruction& inst = *event.inst;
  if (event.unit == Unit::kMxm && inst.opcode == Opcode::kMatmul && inst.type == ElemType::kI8) {
    check_matmul(inst);
  }
}

// MATMULs come in the generator's loop order: strips, then k chunks, then m blocks.
void GemmFunctionalCheck::check_matmul(const Instruction& inst) {
  const GemmPlan& plan = kernel_.gemm.plan;
  const std::uint64_t i = matmul_index_++;
  const std::uint64_t strip = i / (plan.k_chunks * plan.m_blocks);
  const std::uint64_t chunk = (i / plan.m_blocks) % plan.k_chunks;
  const std::uint64_t block = i % plan.m_blocks;
  const std::uint64_t n0 = plan.strip_first_row(strip);
  const std::uint64_t k0 = chunk * plan.k_chunk;
  const std::uint64_t m0 = block * plan.m_block;
  const std::uint64_t group = inst.kgroup == 0 ? inst.k : inst.kgroup;
  const std::uint64_t groups = matmul_groups(inst);
  const std::uint8_t* y = state_->buffer_data(inst.dst.space) + inst.dst.offset;
  for (std::uint64_t mi = 0; mi < inst.m; ++mi) {
    for (std::uint64_t g = 0; g < groups; ++g) {
      const std::uint64_t k_end = std::min<std::uint64_t>(inst.k, (g + 1) * group);
      for (std::uint64_t ni = 0; ni < inst.n; ++ni) {
        std::int64_t want = 0;
        for (std::uint64_t kk = g * group; kk < k_end; ++kk) {
          want += std::int64_t{xq_[(m0 + mi) * data_.q.cols + k0 + kk]} *
                  codes_[(n0 + ni) * data_.q.cols + k0 + kk];
        }
        std::int32_t got;
        std::memcpy(&got, y + ((mi * groups + g) * inst.n + ni) * kMatmulPartialBytes, sizeof got);
        if (got != want) exact_ = false;
      }
    }
  }
}

GemmFunctionalResult GemmFunctionalCheck::finish(const FunctionalState& state) {
  GemmFunctionalResult r;
  const std::uint64_t m = data_.m;
  const std::uint64_t k = data_.q.cols;
  const std::uint64_t n = data_.q.rows;
  r.integer_checked = !data_.q.format.is_float();
  r.matmuls_checked = matmul_index_;
  r.integer_exact = r.integer_checked && exact_ && matmul_index_ > 0;
  const std::vector<std::uint8_t>& y_bytes = state.region(kernel_.y_region);
  std::vector<float> y(m * n);
  std::memcpy(y.data(), y_bytes.data(), y.size() * sizeof(float));
  std::vector<float> w_hat(n * k);
  dequantize(data_.q, w_hat.data());
  const std::vector<double> with_stored = product(data_.x, w_hat, m, k, n);
  r.stored_rel_error = relative_error(y, with_stored);
  r.stored_max_abs_error = max_abs_difference(y, with_stored);
  if (kernel_.gemm.weights.two_level) dequantize_two_level(data_.q, two_level_, w_hat.data());
  const std::vector<double> with_w_hat = product(data_.x, w_hat, m, k, n);
  r.has_reference = !data_.w.empty();
  if (r.has_reference) {
    const std::vector<double> exact = product(data_.x, data_.w, m, k, n);
    r.rel_error = relative_error(y, exact);
    r.max_abs_error = max_abs_difference(y, exact);
    std::vector<double> as_double(with_w_hat.begin(), with_w_hat.end());
    r.weight_only_rel_error = relative_error(as_double, exact);
  } else {
    r.rel_error = relative_error(y, with_w_hat);
    r.max_abs_error = max_abs_difference(y, with_w_hat);
  }
  return r;
}

}  // namespace lpusim
