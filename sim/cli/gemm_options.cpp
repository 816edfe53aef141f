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

constexpr const char* kGroupKernelFlag = "--group-kernel";

constexpr const char* kAutoGroupKernel = "auto";

InputError bad_group_kernel(const std::string& text, const char* expected) {
  return InputError(SourceLocation{"", 0, kGroupKernelFlag},
                    std::string("expected ") + expected + ", got \"" + text + "\"");
}

}  // namespace

GroupKernel group_kernel_flag(const std::string& text, const WeightFormat& format, int group_size) {
  GroupKernel kernel;
  try {
    kernel = parse_group_kernel(text);
  } catch (const InputError&) {
    throw text == kAutoGroupKernel
        ? bad_group_kernel(text, "per-group or two-level (auto chooses per phase: run and compare)")
        : bad_group_kernel(text, "per-group or two-level");
  }
  if (kernel == GroupKernel::kTwoLevel && has_groups(format, group_size) &&
      !two_level_applies(format, group_size)) {
    throw InputError(SourceLocation{"", 0, kGroupKernelFlag},
                     "two-level needs codes of at most 7 bits (s2 x c must fit int8); " +
                         format.name + " at group size " + std::to_string(group_size) +
                         " has 8-bit codes: use per-group, or --group-size per-channel");
  }
  return kernel;
}

void add_group_kernel_option(CLI::App& command, std::string& group_kernel) {
  command.add_option(kGroupKernelFlag, group_kernel,
                     "how group scales are applied: per-group (one MXM pass per group, default) "
                     "or two-level (codes dequantized to int8 with a u8 scale per group, full-"
                     "depth MXM, an fp16 scale per channel; docs/FORMATS.md)");
}

PhaseGroupKernels run_group_kernels_flag(const std::string& text, const WeightFormat& format,
                                         int group_size) {
  if (text == kAutoGroupKernel) return auto_group_kernels(format, group_size);
  try {
    parse_group_kernel(text);
  } catch (const InputError&) {
    throw bad_group_kernel(text, "auto, per-group or two-level");
  }
  return PhaseGroupKernels::both(group_kernel_flag(text, format, group_size));
}

void add_run_group_kernel_option(CLI::App& command, std::string& group_kernel) {
  command.add_option(kGroupKernelFlag, group_kernel,
                     "how group scales are applied: auto (two-level for the prefill, per-group for "
                     "the decode step; default), per-group (one MXM pass per group) or two-level "
                     "(codes dequantized to int8 with a u8 scale per group, full-depth MXM, an "
                     "fp16 scale per channel; docs/FORMATS.md)");
}

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
  spec.group_kernel = group_kernel_flag(group_kernel, spec.format, spec.group_size);
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
  add_group_kernel_option(command, options.group_kernel);
}

}  // namespace lpusim
