// Options shared by the simulating commands: the hardware config (--hw, --set) and the output
// format (--format), registered once here so every command spells them the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/hw.h"
#include "sim/report.h"

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

// Integer flags: the text is read as a signed decimal whole number (so "-1" is -1, never 2^64 - 1)
// and must lie in [min, max]; anything else is an InputError (exit 2) naming the flag and the
// range, e.g. `--batch: expected a whole number in [1, 65536], got "-1"`.
std::uint64_t parse_integer_flag(std::string_view flag, std::string_view text, std::uint64_t min,
                                 std::uint64_t max);
CLI::Option* add_integer_option(CLI::App& command, const std::string& names, std::uint64_t& target,
                                std::uint64_t min, std::uint64_t max,
                                const std::string& description);
CLI::Option* add_integer_option(CLI::App& command, const std::string& names, int& target, int min,
                                int max, const std::string& description);

// --group-size: "per-channel" (kPerChannel) or a whole number in [1, 2^31 - 1]; anything else is an
// InputError naming the flag and both choices.
int parse_group_size_flag(std::string_view text);

// Floating flags: a finite decimal number in [min, max] (nan, inf and out-of-range values are an
// InputError naming the flag and the range).
double parse_number_flag(std::string_view flag, std::string_view text, double min, double max);
CLI::Option* add_number_option(CLI::App& command, const std::string& names, double& target,
                               double min, double max, const std::string& description);

// Prints tables or JSON to stdout in the chosen format.
void print_report(const std::vector<Table>& tables, const std::string& json_text,
                  OutputFormat format);

}  // namespace lpusim
