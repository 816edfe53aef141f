#include "sim/cli/gemm_options.h"

#include <CLI/CLI.hpp>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"

namespace lpusim {

namespace {

// The MATMUL instruction holds m, k and n in 32 bits.
constexpr std::uint64_t kMaxDimension = 1ull << 31;

void check_dimension(const char* flag, std::uint64_t value) {
  if (value == 0 || value >= kMaxDimension) {
    throw InputError(SourceLocation{"", 0, flag}, "expected a dimension from 1 to " +
                                                      std::to_string(kMaxDimension - 1) + ", got " +
                                                      std::to_string(value));
  }
}

}  // namespace

GemmSpec GemmOptions::spec() const {
  check_dimension("--m", m);
  check_dimension("--k", k);
  check_dimension("--n", n);
  GemmSpec spec;
  spec.name = "gemm";
  spec.m = m;
  spec.k = k;
  spec.n = n;
  spec.format = parse_format(quant);
  spec.group_size = parse_group_size_flag(group_size);
  return spec;
}

void add_gemm_shape_options(CLI::App& command, GemmOptions& options) {
  add_integer_option(command, "--m", options.m, 1, kMaxDimension - 1,
                     "activation rows (tokens), default 1 (a GEMV)");
  add_integer_option(command, "--k", options.k, 1, kMaxDimension - 1,
                     "input features (reduction depth), required");
  add_integer_option(command, "--n", options.n, 1, kMaxDimension - 1,
                     "output features (weight rows), required");
  command.add_option("--quant", options.quant,
                     "weight format: int8, int4, q3.5, q3.5-b8, q3, q2.5, fp16 or pattern:W,... "
                     "(default q3.5)");
  command.add_option("--group-size", options.group_size,
                     "weights per scale/offset group, or per-channel (default 128)");
}

}  // namespace lpusim
