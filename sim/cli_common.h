// Options shared by the simulating commands: the hardware config (--hw, --set) and the output
// format (--format), registered once here so every command spells them the same way.
#pragma once

#include <string>
#include <vector>

#include "kernels/hw.h"
#include "sim/report.h"

namespace CLI {
class App;
}

namespace lpusim {

struct HwOptions {
  std::string hw = "seed-80gbps";
  std::vector<std::string> overrides;  // --set key.path=value
  HwConfig load() const;
};

void add_hw_options(CLI::App& command, HwOptions& options);

// --format text|markdown|json|csv (default text); returns the option's storage.
void add_format_option(CLI::App& command, std::string& format);

// Prints tables or JSON to stdout in the chosen format.
void print_report(const std::vector<Table>& tables, const std::string& json_text,
                  OutputFormat format);

}  // namespace lpusim
