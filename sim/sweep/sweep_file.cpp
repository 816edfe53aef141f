// Reads a sweep file with yaml-cpp, keeping every value's line: top-level keys, `set:`, `axes:`
// and `points:`, with hardware keys written as dotted paths or as nested sections.
#include "sim/sweep/sweep_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "kernels/input_file.h"
#include "sim/config/config_file.h"
#include "sim/config/hw_config.h"

namespace lpusim {
namespace {

constexpr std::string_view kSetKey = "set";
constexpr std::string_view kAxesKey = "axes";
constexpr std::string_view kPointsKey = "points";
constexpr std::string_view kDescriptionKey = "description";

// A leaf of a mapping: its dotted path, value node and location.
struct Leaf {
  std::string path;
  YAML::Node value;
  SourceLocation where;
};

KeySpec name_only(std::string_view name) {
  return KeySpec{name, KeyKind::kString, "", 0, false, 0, "", "", "", ""};
}

const KeyCatalogue& top_level_catalogue() {
  static const KeyCatalogue catalogue = [] {
    KeyCatalogue names;
    for (std::string_view name : {kDescriptionKey, kHwAxis, kSetKey, kAxesKey, kPointsKey})
      names.push_back(name_only(name));
    for (std::string_view name : workload_axis_names()) names.push_back(name_only(name));
    return names;
  }();
  return catalogue;
}

const KeyCatalogue& axis_catalogue() {
  static const KeyCatalogue catalogue = [] {
    KeyCatalogue names{name_only(kHwAxis)};
    for (std::string_view name : workload_axis_names()) names.push_back(name_only(name));
    for (const KeySpec& spec : hw_key_catalogue()) names.push_back(spec);
    return names;
  }();
  return catalogue;
}

bool is_hw_key(std::string_view path) {
  const KeyCatalogue& keys = hw_key_catalogue();
  return std::any_of(keys.begin(), keys.end(), [&](const KeySpec& s) { return s.path == path; });
}

bool is_hw_section(std::string_view path) {
  const std::string prefix = std::string(path) + ".";
  const KeyCatalogue& keys = hw_key_catalogue();
  return std::any_of(keys.begin(), keys.end(),
                     [&](const KeySpec& s) { return s.path.substr(0, prefix.size()) == prefix; });
}

SourceLocation located(const std::string& file, const YAML::Mark& mark, std::string key) {
  return SourceLocation{file, mark.is_null() ? 0 : mark.line + 1, std::move(key)};
}

std::string unknown_name_message(std::string_view name, const KeyCatalogue& catalogue,
                                 std::string_view what) {
  const std::string close = closest_key(name, catalogue);
  if (!close.empty()) return fmt::format("unknown {}; did you mean `{}`?", what, close);
  return fmt::format("unknown {}; expected hw, {} or a hardware key (lpusim config --describe)",
                     what, fmt::join(workload_axis_names(), ", "));
}

void check_axis_name(const Leaf& leaf) {
  if (is_sweep_axis(leaf.path)) return;
  if (is_hw_section(leaf.path))
    throw InputError(leaf.where, "is a section of the hardware config; name one of its keys");
  throw InputError(leaf.where, unknown_name_message(leaf.path, axis_catalogue(), "axis"));
}

// The leaves of `map`; a nested mapping under a hardware section name is read as that section.
void flatten(const YAML::Node& map, const std::string& prefix, const std::string& file,
             std::vector<Leaf>& out) {
  for (const auto& pair : map) {
    if (!pair.first.IsScalar())
      throw InputError(located(file, pair.first.Mark(), prefix), "expected a key name");
    const std::string path =
        prefix.empty() ? pair.first.Scalar() : prefix + "." + pair.first.Scalar();
    const SourceLocation where = located(file, pair.first.Mark(), path);
    if (pair.second.IsMap() && is_hw_section(path)) {
      flatten(pair.second, path, file, out);
      continue;
    }
    for (const Leaf& seen : out) {
      if (seen.path == path)
        throw InputError(where, fmt::format("duplicate key (first at line {})", seen.where.line));
    }
    out.push_back(Leaf{path, pair.second, where});
  }
}

std::vector<Leaf> mapping_leaves(const YAML::Node& node, const SourceLocation& where,
                                 const std::string& what) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) throw InputError(where, "expected a mapping of " + what);
  std::vector<Leaf> leaves;
  flatten(node, "", where.file, leaves);
  return leaves;
}

SweepValue scalar_value(const Leaf& leaf) {
  if (leaf.value.IsNull() || !leaf.value.IsDefined())
    throw InputError(leaf.where, "expected a value, got nothing");
  if (!leaf.value.IsScalar())
    throw InputError(leaf.where, leaf.value.IsSequence()
                                     ? "expected one value, got a list (lists go under `axes:`)"
                                     : "expected one value, got a mapping");
  return SweepValue{leaf.value.Scalar(), located(leaf.where.file, leaf.value.Mark(), leaf.path)};
}

SweepAxis axis_values(const Leaf& leaf) {
  if (!leaf.value.IsSequence() || leaf.value.size() == 0)
    throw InputError(leaf.where, "expected a non-empty list of values, like [int4, q3.5]");
  SweepAxis axis{leaf.path, {}};
  for (const YAML::Node& item : leaf.value) {
    const SourceLocation where = located(leaf.where.file, item.Mark(), leaf.path);
    if (!item.IsScalar()) throw InputError(where, "expected a value, got a nested list or mapping");
    axis.values.push_back(SweepValue{item.Scalar(), where});
  }
  return axis;
}

void read_set(const Leaf& leaf, SweepFile& sweep) {
  for (const Leaf& key : mapping_leaves(leaf.value, leaf.where, "hardware keys to values")) {
    if (!is_hw_key(key.path)) {
      if (is_sweep_axis(key.path))
        throw InputError(key.where, "`set:` takes hardware keys; write it at the top level");
      check_axis_name(key);
    }
    sweep.base.emplace_back(key.path, scalar_value(key));
  }
}

void read_axes(const Leaf& leaf, SweepFile& sweep) {
  for (const Leaf& axis : mapping_leaves(leaf.value, leaf.where, "axis names to lists")) {
    check_axis_name(axis);
    sweep.axes.push_back(axis_values(axis));
  }
}

void read_points(const Leaf& leaf, SweepFile& sweep) {
  if (!leaf.value.IsSequence())
    throw InputError(leaf.where, "expected a list of points, each a mapping of axis: value");
  for (const YAML::Node& item : leaf.value) {
    const SourceLocation where = located(leaf.where.file, item.Mark(), "points");
    if (!item.IsMap()) throw InputError(where, "expected a mapping of axis: value");
    SweepExplicitPoint point{{}, where};
    for (const Leaf& setting : mapping_leaves(item, where, "axis: value")) {
      check_axis_name(setting);
      point.settings.emplace_back(setting.path, scalar_value(setting));
    }
    sweep.points.push_back(std::move(point));
  }
}

void read_top_level(const Leaf& leaf, SweepFile& sweep) {
  if (leaf.path == kDescriptionKey) return;
  if (leaf.path == kSetKey) return read_set(leaf, sweep);
  if (leaf.path == kAxesKey) return read_axes(leaf, sweep);
  if (leaf.path == kPointsKey) return read_points(leaf, sweep);
  if (leaf.path == kHwAxis || std::find(workload_axis_names().begin(), workload_axis_names().end(),
                                        leaf.path) != workload_axis_names().end()) {
    sweep.base.emplace_back(leaf.path, scalar_value(leaf));
    return;
  }
  const std::string hint = is_sweep_axis(leaf.path)
                               ? "hardware keys go under `set:` or `axes:`"
                               : unknown_name_message(leaf.path, top_level_catalogue(), "key");
  throw InputError(leaf.where, hint);
}

YAML::Node load_sweep_yaml(const std::string& path) {
  return load_yaml_text(path, read_input_file(path, kSweepYamlInput));
}

}  // namespace

const std::vector<std::string_view>& workload_axis_names() {
  static const std::vector<std::string_view> names = {"model",        "quant",     "group_size",
                                                      "group_kernel", "batch",     "context",
                                                      "prompt",       "kv_format", "prefill"};
  return names;
}

bool is_sweep_axis(std::string_view name) {
  const auto& workload = workload_axis_names();
  return name == kHwAxis || std::find(workload.begin(), workload.end(), name) != workload.end() ||
         is_hw_key(name);
}

SweepFile read_sweep_file(const std::string& path) {
  const YAML::Node root = load_sweep_yaml(path);
  const SourceLocation top{path, root.IsNull() ? 0 : root.Mark().line + 1, ""};
  if (root.IsNull()) throw InputError(top, "the sweep file is empty; expected a mapping of keys");
  SweepFile sweep;
  sweep.path = path;
  for (const Leaf& leaf : mapping_leaves(root, top, "keys")) read_top_level(leaf, sweep);
  return sweep;
}

}  // namespace lpusim
