// `lpusim gemm --functional`: fills the kernel's memory with real quantized weights and
// activations, checks every MATMUL's INT32 partial sums against a plain C++ reference while the
// chip runs, and measures the float result against the unquantized product.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/gemm_kernel.h"
#include "kernels/quantizer.h"
#include "models/chip.h"

namespace lpusim {

struct GemmFunctionalResult {
  bool integer_checked = false;  // false for fp16 (no integer path)
  bool integer_exact = false;    // every MATMUL's int32 partials equal the reference
  std::uint64_t matmuls_checked = 0;
  double rel_error = 0;              // ||Y_chip - X W^T|| / ||X W^T||
  double weight_only_rel_error = 0;  // ||X W_hat^T - X W^T|| / ||X W^T||: the format's share
};

// Random weights and activations for a GEMM, quantized in the kernel's format.
class GemmFunctionalCheck : public ChipObserver {
 public:
  GemmFunctionalCheck(const GemmSpec& spec, const GemmKernel& kernel, std::uint64_t seed);

  // Places weights and X where the kernel expects them.
  void fill(FunctionalState& state) const;
  // Compares the result after the run.
  GemmFunctionalResult finish(const FunctionalState& state);

  void on_instruction(Unit unit, std::uint32_t index, const Instruction& inst,
                      Femtoseconds start_fs, Femtoseconds end_fs) override;
  void attach(const FunctionalState* state) { state_ = state; }

 private:
  void check_matmul(const Instruction& inst);

  GemmSpec spec_;
  const GemmKernel& kernel_;
  std::vector<float> w_;  // [n][k]
  std::vector<float> x_;  // [m][k]
  QuantizedMatrix q_;
  std::vector<std::int8_t> codes_;  // [n][k]
  std::vector<std::int8_t> xq_;     // [m][k], the reference activation quantization
  const FunctionalState* state_ = nullptr;
  std::uint64_t matmul_index_ = 0;
  bool exact_ = true;
};

}  // namespace lpusim
