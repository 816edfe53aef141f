// `lpusim gemm --functional`: fills the kernel's memory with real quantized weights and
// activations, checks every MATMUL's INT32 partial sums against a plain C++ reference while the
// chip runs, and measures the float result against the unquantized product.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/gemm_kernel.h"
#include "kernels/quantizer.h"
#include "models/chip_events.h"
#include "models/functional.h"

namespace lpusim {

// The data of one functional GEMM: quantized weights, the original weights when known, and X.
struct GemmData {
  QuantizedMatrix q;
  std::vector<float> w;  // original [n][k]; empty when only the packed weights are known
  std::vector<float> x;  // [m][k]
  std::uint64_t m = 0;

  // The GEMM these data describe (shape, format, group size), named "gemm".
  GemmSpec spec() const;
};

// Gaussian weights of `spec`'s shape quantized in its format, and N(0, 1) activations.
GemmData synthetic_gemm_data(const GemmSpec& spec, std::uint64_t seed);

// Tensor `tensor` of a file written by `lpusim quantize`, with the original weights from
// `reference_path` when given (else empty), and quant-error's activations for `seed`
// (random_activations: kActivationRows rows), so the result compares with quant-error's.
GemmData packed_gemm_data(const std::string& weights_path, const std::string& tensor,
                          const std::string& reference_path, std::uint64_t seed);

struct GemmFunctionalResult {
  bool integer_checked = false;  // false for fp16 (no integer path)
  bool integer_exact = false;    // every MATMUL's int32 partials equal the reference
  std::uint64_t matmuls_checked = 0;
  bool has_reference = true;         // the original weights were known (else rel_error is vs W_hat)
  double rel_error = 0;              // ||Y_chip - X W^T|| / ||X W^T||
  double max_abs_error = 0;          // max |Y_chip - X W^T| (X W_hat^T without the original)
  double weight_only_rel_error = 0;  // ||X W_hat^T - X W^T|| / ||X W^T||: the format's share
  // W_hat is the stored format's w_hat = offset + scale * c, or for a two-level kernel its
  // w2 = s1 * (s2 * c + z) (docs/FORMATS.md "Two-level scales").
  // Y against X W_hat^T with the stored format's w_hat (integer formats): what the per-group
  // kernel computes up to its activation quantization, so for a two-level kernel the error it
  // adds over today's kernel.
  double stored_rel_error = 0;
  double stored_max_abs_error = 0;
};

// Feeds a GemmData to the kernel and checks what the chip computes.
class GemmFunctionalCheck : public ChipEventSink {
 public:
  GemmFunctionalCheck(GemmData data, const GemmKernel& kernel);

  // Places weights and X where the kernel expects them.
  void fill(FunctionalState& state) const;
  // Compares the result after the run.
  GemmFunctionalResult finish(const FunctionalState& state);

  void on_instruction(const InstructionEvent& event) override;
  void attach(const FunctionalState* state) { state_ = state; }

 private:
  void check_matmul(const Instruction& inst);

  GemmData data_;
  const GemmKernel& kernel_;
  TwoLevelScales two_level_;        // of a two-level kernel (else empty)
  std::vector<std::int8_t> codes_;  // [n][k]: the int8 weights the MXM multiplies
  std::vector<std::int8_t> xq_;     // [m][k], the reference activation quantization
  const FunctionalState* state_ = nullptr;
  std::uint64_t matmul_index_ = 0;
  bool exact_ = true;
};

}  // namespace lpusim
