// `lpusim kernel`: generates the GEMM/GEMV kernel of one weight format for a chip and writes it as
// `.lpuasm` text, so people can read, edit and replay it with `lpusim exec`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "kernels/asm.h"
#include "kernels/gemm_kernel.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/cli/gemm_options.h"
#include "sim/io/output_file.h"

namespace lpusim {

namespace {

struct KernelOptions {
  HwOptions hw;
  GemmOptions gemm;
  std::string output = "-";
};

int run_kernel(const KernelOptions& options) {
  if (options.output != "-") check_output_path(options.output, "--output");
  const HwConfig hw = options.hw.load();
  const GemmKernel kernel = build_gemm_program(options.gemm.spec(), hw);
  const std::string text = write_asm(kernel.program);
  if (options.output == "-") {
    std::cout << text;
  } else {
    write_file_atomically(options.output, text);
  }
  return 0;
}

}  // namespace

CommandRunner add_kernel_command(CLI::App& app) {
  auto options = std::make_shared<KernelOptions>();
  CLI::App* command =
      app.add_subcommand("kernel", "write the GEMM kernel of a weight format as .lpuasm text");
  add_hw_options(*command, options->hw);
  add_gemm_shape_options(*command, options->gemm);
  command->add_option("-o,--output", options->output, "output .lpuasm file (default: stdout)");
  return [options] { return run_kernel(*options); };
}

}  // namespace lpusim
