#include "sim/cli_common.h"

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
#include "sim/hw_config.h"

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

[[noreturn]] void refuse(std::string_view flag, const std::string& wanted, std::string_view text) {
  throw InputError(SourceLocation{"", 0, std::string(flag)},
                   fmt::format("expected {}, got \"{}\"", wanted, text));
}

}  // namespace

std::uint64_t parse_integer_flag(std::string_view flag, std::string_view text, std::uint64_t min,
                                 std::uint64_t max) {
  const std::string wanted = fmt::format("a whole number in [{}, {}]", min, max);
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) i = 1;
  if (i == text.size()) refuse(flag, wanted, text);
  std::uint64_t magnitude = 0;
  bool too_big = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') refuse(flag, wanted, text);
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) too_big = true;
    magnitude = magnitude * 10 + digit;
  }
  if (too_big || (negative && magnitude != 0) || magnitude < min || magnitude > max)
    refuse(flag, wanted, text);
  return magnitude;
}

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

int parse_group_size_flag(std::string_view text) {
  constexpr std::string_view kFlag = "--group-size";
  if (text == "per-channel") return kPerChannel;
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  try {
    return static_cast<int>(parse_integer_flag(kFlag, text, 1, max));
  } catch (const InputError&) {
    refuse(kFlag, fmt::format("\"per-channel\" or a whole number in [1, {}]", max), text);
  }
}

double parse_number_flag(std::string_view flag, std::string_view text, double min, double max) {
  const std::string wanted = fmt::format("a finite number in [{}, {}]", min, max);
  const std::string copy(text);
  char* end = nullptr;
  const double value = copy.empty() || std::isspace(static_cast<unsigned char>(copy[0]))
                           ? std::nan("")
                           : std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < min || value > max)
    refuse(flag, wanted, text);
  return value;
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
