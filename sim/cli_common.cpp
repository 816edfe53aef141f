#include "sim/cli_common.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "sim/hw_config.h"

namespace lpusim {

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
  if (format == OutputFormat::kJson) {
    std::cout << json_text << "\n";
  } else {
    std::cout << render_tables(tables, format);
  }
}

}  // namespace lpusim
