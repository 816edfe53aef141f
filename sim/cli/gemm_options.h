// The GEMM shape and weight-format options shared by `lpusim kernel` and `lpusim gemm`
// (--m --k --n --quant --group-size --group-kernel), validated into a GemmSpec; and the
// --group-kernel flag that `lpusim run` and `lpusim compare` share, which also takes auto.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/gemm_kernel.h"
#include "sim/llm/workload.h"

namespace CLI {
class App;
}

namespace lpusim {

struct GemmOptions {
  std::uint64_t m = 1;
  std::uint64_t k = 0;
  std::uint64_t n = 0;
  std::string quant = "q3.5";
  std::string group_size = "128";
  std::string group_kernel = "per-group";

  // Throws InputError for a zero dimension, an unknown format or a bad group size.
  GemmSpec spec() const;
};

void add_gemm_shape_options(CLI::App& command, GemmOptions& options);

// --group-kernel per-group|two-level of `gemm` and `kernel` (default per-group).
void add_group_kernel_option(CLI::App& command, std::string& group_kernel);
// Parses --group-kernel, and refuses two-level for a format whose codes have 8 bits when it has
// several groups per row (s2 x c would not fit int8): InputError naming the flag (exit 2).
GroupKernel group_kernel_flag(const std::string& text, const WeightFormat& format, int group_size);

// --group-kernel auto|per-group|two-level of `run` and `compare` (default auto).
inline constexpr const char* kDefaultRunGroupKernel = "auto";
void add_run_group_kernel_option(CLI::App& command, std::string& group_kernel);
// Parses it into the kernel of each phase: auto is auto_group_kernels (sim/llm/workload.h), the
// others are group_kernel_flag's for both phases.
PhaseGroupKernels run_group_kernels_flag(const std::string& text, const WeightFormat& format,
                                         int group_size);

}  // namespace lpusim
