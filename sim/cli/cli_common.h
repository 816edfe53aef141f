// Options shared by the simulating commands: the hardware config (--hw, --set) and the output
// format (--format), registered once here so every command spells them the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/hw.h"
#include "sim/config/flag_values.h"
#include "sim/io/report.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace lpusim {

struct HwOptions {
  std::string hw = "seed-80gbps";
  std::vector<std::string> overrides;  // --set key.path=value
  HwConfig load() const;
};

void add_hw_options(CLI::App& command, HwOptions& options);

// --format text|markdown|json|csv (default text); returns the option's storage.
void add_format_option(CLI::App& command, std::string& format);

// Integer and floating flags, parsed by the functions of sim/config/flag_values.h.
CLI::Option* add_integer_option(CLI::App& command, const std::string& names, std::uint64_t& target,
                                std::uint64_t min, std::uint64_t max,
                                const std::string& description);
CLI::Option* add_integer_option(CLI::App& command, const std::string& names, int& target, int min,
                                int max, const std::string& description);

CLI::Option* add_number_option(CLI::App& command, const std::string& names, double& target,
                               double min, double max, const std::string& description);

// Prints tables or JSON to stdout in the chosen format.
void print_report(const std::vector<Table>& tables, const std::string& json_text,
                  OutputFormat format);

}  // namespace lpusim
