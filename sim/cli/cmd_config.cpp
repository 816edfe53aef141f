// `lpusim config`: validates hardware and model configs and prints them fully expanded (--dump),
// or lists every key with unit, default and meaning (--describe).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"

namespace lpusim {
namespace {

struct ConfigOptions {
  std::string hw = std::string(kDefaultHwConfig);
  std::vector<std::string> overrides;
  std::string model;
  std::string format = "text";
  bool hw_given = false;
  bool describe = false;
};

std::string describe_all(DescribeFormat format) {
  const bool markdown = format == DescribeFormat::kMarkdown;
  std::string out = markdown ? "### Hardware keys\n\n" : "Hardware keys (configs/hw/*.yaml)\n\n";
  out += describe_hw_keys(format);
  out += markdown ? "\n### Model keys\n\n" : "\nModel keys (configs/models/*.yaml)\n\n";
  out += describe_model_keys(format);
  return out;
}

// The dump of the hardware config, the model config, or both as two YAML documents.
std::string dump_requested(const ConfigOptions& options) {
  const bool want_hw = options.model.empty() || options.hw_given || !options.overrides.empty();
  std::string out;
  if (want_hw) out += dump_hw_config(load_hw_config(options.hw, options.overrides));
  if (want_hw && !options.model.empty()) out += "---\n";
  if (!options.model.empty()) out += dump_model_config(load_model_config(options.model));
  return out;
}

int run_config(const ConfigOptions& options) {
  const DescribeFormat format =
      options.format == "markdown" ? DescribeFormat::kMarkdown : DescribeFormat::kText;
  const std::string text = options.describe ? describe_all(format) : dump_requested(options);
  std::cout << text;  // built completely first: nothing is printed on failure
  return 0;
}

}  // namespace

CommandRunner add_config_command(CLI::App& app) {
  auto options = std::make_shared<ConfigOptions>();
  CLI::App* command = app.add_subcommand(
      "config", "validate a hardware or model config and print it fully expanded, or list keys");
  CLI::Option* hw =
      command->add_option("--hw", options->hw, "hardware config file or name in configs/hw/");
  hw->capture_default_str();
  command
      ->add_option("--set", options->overrides,
                   "override a hardware key: key.path=value (repeatable; value read as YAML)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("--model", options->model, "model config file or name in configs/models/");
  CLI::Option* dump =
      command->add_flag("--dump", "print the effective config(s) in canonical units (default)");
  CLI::Option* describe =
      command->add_flag("--describe", options->describe, "list every key: unit, default, meaning");
  describe->excludes(dump);
  command->add_option("--format", options->format, "--describe output: text or markdown")
      ->check(CLI::IsMember({"text", "markdown"}))
      ->capture_default_str();
  return [options, hw] {
    options->hw_given = hw->count() > 0;
    return run_config(*options);
  };
}

}  // namespace lpusim
