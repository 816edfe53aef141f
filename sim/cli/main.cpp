// The `lpusim` binary: parses the command line, runs one subcommand, and is the only place that
// turns typed errors into messages and exit codes (0 ok, 2 bad input, 3 simulation error).
#include <malloc.h>
#include <CLI/CLI.hpp>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "kernels/huge_pages.h"
#include "sim/cli/commands.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"lpusim: cycle-approximate simulator of a streaming inference chip (LPU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lpusim 0.1.0");

  std::vector<std::pair<CLI::App*, lpusim::CommandRunner>> commands;
  auto add = [&](lpusim::CommandRunner (*adder)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    lpusim::CommandRunner runner = adder(app);
    commands.emplace_back(app.get_subcommands({}).at(before), std::move(runner));
  };
  add(lpusim::add_quantize_command);
  add(lpusim::add_quant_error_command);
  add(lpusim::add_config_command);
  add(lpusim::add_kernel_command);
  add(lpusim::add_exec_command);
  add(lpusim::add_gemm_command);
  add(lpusim::add_run_command);
  add(lpusim::add_compare_command);
  add(lpusim::add_timeline_command);
  add(lpusim::add_sweep_command);
  add(lpusim::add_merge_command);

  std::string names;
  bool known = false;
  for (const auto& [sub, runner] : commands) {
    names += " " + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "lpusim: error: unknown command '" << argv[1] << "'; the commands are:" << names
              << "\n";
    return static_cast<int>(lpusim::ExitCode::kBadInput);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(lpusim::ExitCode::kBadInput);
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) return runner();
  }
  return static_cast<int>(lpusim::ExitCode::kBadInput);
}

// Backs the heap with transparent huge pages (the kernel's THP mode is `madvise`): grows the heap
// once by kHugePageHeap, asks for huge pages on that range and frees it again. The heap keeps it
// (M_TRIM_THRESHOLD below) and serves the run's blocks from it, so programs, queues and the
// statistics' interval lists fault in 2 MB pages: a batch-256 70B decode took 9,700 page faults
// and 0.43 s of system time with only its instruction queues advised, 1,200 and 0.10 s with the
// whole heap. Nothing is resident until it is touched. Not under AddressSanitizer, whose
// allocator is its own.
void back_heap_with_huge_pages() {
#if !defined(__SANITIZE_ADDRESS__)
  constexpr std::size_t kHugePageHeap = std::size_t{1} << 30;  // virtual: about 3x a large run
  void* block = std::malloc(kHugePageHeap);  // NOLINT: heap mechanics, not an object
  if (block == nullptr) return;
  lpusim::advise_huge_pages(block, kHugePageHeap);
  std::free(block);  // NOLINT
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // A chunked prefill builds and frees one program of hundreds of MB per chunk. By default glibc
  // serves blocks that large with mmap and returns them at free, so every chunk pays the kernel's
  // page faults again (a sixth of the CPU time of a 2048-token prefill). Keep freed memory in the
  // heap for the next chunk instead: the peak is the same, the faults are paid once.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  back_heap_with_huge_pages();
  try {
    return run(argc, argv);
  } catch (const lpusim::InputError& e) {
    std::cerr << "lpusim: error: " << e.what() << "\n";
    return static_cast<int>(lpusim::ExitCode::kBadInput);
  } catch (const lpusim::SimulationError& e) {
    std::cerr << "lpusim: simulation error: " << e.what() << "\n";
    return static_cast<int>(lpusim::ExitCode::kSimulation);
  } catch (const std::exception& e) {
    std::cerr << "lpusim: internal error: " << e.what() << "\n";
    return static_cast<int>(lpusim::ExitCode::kInternal);
  }
}
