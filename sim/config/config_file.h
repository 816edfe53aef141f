// Reading YAML config files into located leaves checked against a key catalogue: unknown keys
// with "did you mean", duplicates, missing required keys, --set overrides, config name lookup.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/config_keys.h"

namespace YAML {
class Exception;
class Node;
}  // namespace YAML

namespace lpusim {

using ConfigEntries = std::map<std::string, ConfigEntry, std::less<>>;

// "invalid YAML at line L, column C: what" for a yaml-cpp error (the line and column 1-based).
std::string yaml_error_text(const YAML::Exception& e);

// Parses YAML text read from `path`; yaml-cpp's errors (syntax, nesting deeper than its limit of
// 2000) become InputError at path:line with the column in the message.
YAML::Node load_yaml_text(const std::string& path, const std::string& text);

// Reads a YAML mapping into its leaves. Throws InputError naming the file when it is not a
// regular file or is above 1 MiB, and at file:line on YAML syntax errors, duplicate keys and keys
// that are not in `catalogue` (with "did you mean" when one is close).
ConfigEntries read_config_file(const std::string& path, const KeyCatalogue& catalogue);

// Applies "key.path=value" overrides (the value is read as YAML); errors are located at "--set".
void apply_overrides(ConfigEntries& entries, const std::vector<std::string>& overrides,
                     const KeyCatalogue& catalogue);

// The entry for `spec`: the written one, or its default (located at `file`). Throws
// "missing required key" naming `file` and the key when there is neither.
ConfigEntry entry_or_default(const ConfigEntries& entries, const KeySpec& spec,
                             const std::string& file);

// Catalogue indices in the order to check them, so that the first error reported is the first
// in the file: written keys by line, then --set overrides, then absent keys (defaults, missing).
std::vector<std::size_t> check_order(const ConfigEntries& entries, const KeyCatalogue& catalogue);

// The catalogue key or section closest to `unknown` within a few edits, or "" when none is.
std::string closest_key(std::string_view unknown, const KeyCatalogue& catalogue);

// A file path, or a config name such as "seed-80gbps" (no '/', no .yaml/.yml suffix) resolved to
// configs/<kind>/<name>.yaml, searched in order: the current directory; then, relative to the
// directory of the running executable (/proc/self/exe), ../configs, ../../configs and
// ../share/lpusim/configs. `kind` is "hw" or "models". Throws InputError listing the places
// searched and the names available when a name is not found. Paths are returned unchanged.
std::string resolve_config_path(std::string_view name_or_path, std::string_view kind);

}  // namespace lpusim
