#include "sim/cli/cli_common.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "kernels/error.h"
#include "kernels/format.h"
#include "sim/config/hw_config.h"

namespace lpusim {

namespace {

// "--jobs" of "--jobs,-j" (the first long name, else the first name), for messages.
std::string flag_of(const std::string& names) {
  std::string first;
  std::size_t start = 0;
  while (start <= names.size()) {
    const std::size_t comma = std::min(names.find(',', start), names.size());
    const std::string name = names.substr(start, comma - start);
    if (name.rfind("--", 0) == 0) return name;
    if (first.empty()) first = name;
    start = comma + 1;
  }
  return first;
}

}  // namespace

CLI::Option* add_integer_option(CLI::App& command, const std::string& names, std::uint64_t& target,
                                std::uint64_t min, std::uint64_t max,
                                const std::string& description) {
  const std::string flag = flag_of(names);
  return command
      .add_option_function<std::string>(
          names,
          [&target, flag, min, max](const std::string& text) {
            target = parse_integer_flag(flag, text, min, max);
          },
          description)
      ->type_name("INT");
}

CLI::Option* add_integer_option(CLI::App& command, const std::string& names, int& target, int min,
                                int max, const std::string& description) {
  const std::string flag = flag_of(names);
  return command
      .add_option_function<std::string>(
          names,
          [&target, flag, min, max](const std::string& text) {
            target = static_cast<int>(parse_integer_flag(
                flag, text, static_cast<std::uint64_t>(min), static_cast<std::uint64_t>(max)));
          },
          description)
      ->type_name("INT");
}

CLI::Option* add_number_option(CLI::App& command, const std::string& names, double& target,
                               double min, double max, const std::string& description) {
  const std::string flag = flag_of(names);
  return command
      .add_option_function<std::string>(
          names,
          [&target, flag, min, max](const std::string& text) {
            target = parse_number_flag(flag, text, min, max);
          },
          description)
      ->type_name("NUMBER");
}

HwConfig HwOptions::load() const { return load_hw_config(hw, overrides); }

void add_hw_options(CLI::App& command, HwOptions& options) {
  command.add_option("--hw", options.hw,
                     "hardware config: a file, or a name in configs/hw (default seed-80gbps)");
  command.add_option("--set", options.overrides,
                     "override a hardware key, e.g. --set memory.bandwidth=\"160 GB/s\" "
                     "(repeatable)");
}

void add_format_option(CLI::App& command, std::string& format) {
  command.add_option("--format", format, "text, markdown, json or csv (default text)");
}

void print_report(const std::vector<Table>& tables, const std::string& json_text,
                  OutputFormat format) {
  check_finite_tables(tables);
  if (format == OutputFormat::kJson) {
    std::cout << json_text << "\n";
  } else {
    std::cout << render_tables(tables, format);
  }
}

}  // namespace lpusim
