// Registration of the `lpusim` subcommands. Each command lives in its own sim/cmd_*.cpp and adds
// itself to the app through one explicit function (no static self-registration: a linker drops
// self-registering objects of a static library that nothing references).
#pragma once

#include <functional>
#include <memory>

namespace CLI {
class App;
}

namespace lpusim {

// A registered command: set up its options on `app`; when chosen, `run` executes it and returns
// the process exit code. Errors are thrown as InputError / SimulationError.
using CommandRunner = std::function<int()>;

CommandRunner add_quantize_command(CLI::App& app);
CommandRunner add_quant_error_command(CLI::App& app);
CommandRunner add_config_command(CLI::App& app);
CommandRunner add_kernel_command(CLI::App& app);
CommandRunner add_exec_command(CLI::App& app);
CommandRunner add_gemm_command(CLI::App& app);
CommandRunner add_run_command(CLI::App& app);
CommandRunner add_compare_command(CLI::App& app);
CommandRunner add_timeline_command(CLI::App& app);
CommandRunner add_sweep_command(CLI::App& app);
CommandRunner add_merge_command(CLI::App& app);

}  // namespace lpusim
