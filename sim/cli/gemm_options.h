// The GEMM shape and weight-format options shared by `lpusim kernel` and `lpusim gemm`
// (--m --k --n --quant --group-size), validated into a GemmSpec.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/gemm_kernel.h"

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

  // Throws InputError for a zero dimension, an unknown format or a bad group size.
  GemmSpec spec() const;
};

void add_gemm_shape_options(CLI::App& command, GemmOptions& options);

}  // namespace lpusim
