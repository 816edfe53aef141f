// Hardware configs: the one catalogue of chip keys, loading configs/hw/*.yaml (+ --set overrides)
// into a validated HwConfig, and printing it back (dump) or describing every key (--describe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernels/hw.h"
#include "sim/config/config_file.h"

namespace lpusim {

// The hardware config used when none is given.
inline constexpr std::string_view kDefaultHwConfig = "seed-80gbps";

// Every hardware key (path, kind, default, range, example, meaning), in dump order.
const KeyCatalogue& hw_key_catalogue();

// Loads a hardware config file, or a name such as "seed-80gbps" (see resolve_config_path), then
// applies "key.path=value" overrides. Throws InputError naming file:line (or "--set"), the key
// path and what was expected, for syntax errors, unknown, duplicate or missing keys, bad units
// and out-of-range values. B/cycle and cycle values convert at the config's (final) clock.
HwConfig load_hw_config(const std::string& path_or_name,
                        const std::vector<std::string>& overrides = {});

// YAML text of every key of `config` in canonical units; loading it gives the same config.
std::string dump_hw_config(const HwConfig& config);

// Every hardware key with unit, default, range and meaning (kMarkdown: docs/CONFIG.md's table).
std::string describe_hw_keys(DescribeFormat format = DescribeFormat::kText);

}  // namespace lpusim
