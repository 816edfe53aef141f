// Reads YAML config files into located leaves and checks their keys against a catalogue: unknown
// keys (with the closest known key), duplicates, sections, --set overrides, config name lookup.
#include "sim/config/config_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <tuple>

#include "kernels/input_file.h"

namespace lpusim {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kOverrideSource = "--set";

const KeySpec* find_spec(const KeyCatalogue& catalogue, std::string_view path) {
  for (const KeySpec& spec : catalogue) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The names directly under `section` ("" = top level), in catalogue order.
std::vector<std::string> children_of(const KeyCatalogue& catalogue, const std::string& section) {
  const std::string prefix = section.empty() ? "" : section + ".";
  std::vector<std::string> names;
  for (const KeySpec& spec : catalogue) {
    if (!starts_with(spec.path, prefix)) continue;
    const std::string_view rest = spec.path.substr(prefix.size());
    std::string name(rest.substr(0, rest.find('.')));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

bool is_section(const KeyCatalogue& catalogue, const std::string& path) {
  return !path.empty() && !children_of(catalogue, path).empty() && !find_spec(catalogue, path);
}

std::string join_path(const std::string& section, const std::string& name) {
  return section.empty() ? name : section + "." + name;
}

SourceLocation located(const std::string& file, const YAML::Mark& mark, std::string key) {
  return SourceLocation{file, mark.is_null() ? 0 : mark.line + 1, std::move(key)};
}

ConfigEntry entry_from_node(const YAML::Node& node, const SourceLocation& where) {
  ConfigEntry entry;
  entry.where = where;
  if (node.IsScalar()) {
    entry.text = node.Scalar();
  } else if (node.IsSequence()) {
    entry.shape = ConfigEntry::Shape::kList;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) throw InputError(where, "expected a list of names, got a nested value");
      entry.items.push_back(item.Scalar());
    }
  } else {
    entry.shape = node.IsMap() ? ConfigEntry::Shape::kSection : ConfigEntry::Shape::kNothing;
  }
  return entry;
}

std::string unknown_key_message(const std::string& path, const std::string& section,
                                const KeyCatalogue& catalogue) {
  const std::string close = closest_key(path, catalogue);
  if (!close.empty()) return fmt::format("unknown key; did you mean `{}`?", close);
  return fmt::format("unknown key; expected one of: {}",
                     fmt::join(children_of(catalogue, section), ", "));
}

void read_mapping(const YAML::Node& map, const std::string& section, const std::string& file,
                  const KeyCatalogue& catalogue, ConfigEntries& out);

void read_section(const YAML::Node& node, const SourceLocation& where, const std::string& file,
                  const KeyCatalogue& catalogue, ConfigEntries& out) {
  if (node.IsMap()) return read_mapping(node, where.key, file, catalogue, out);
  if (node.IsNull()) return;  // an empty section: its keys take their defaults
  throw InputError(where, fmt::format("expected a section with keys {}, got {}",
                                      fmt::join(children_of(catalogue, where.key), ", "),
                                      node.IsScalar() ? "\"" + node.Scalar() + "\"" : "a list"));
}

void read_mapping(const YAML::Node& map, const std::string& section, const std::string& file,
                  const KeyCatalogue& catalogue, ConfigEntries& out) {
  std::map<std::string, int> first_line;
  for (const auto& pair : map) {
    if (!pair.first.IsScalar())
      throw InputError(located(file, pair.first.Mark(), section), "expected a key name");
    const std::string path = join_path(section, pair.first.Scalar());
    const SourceLocation where = located(file, pair.first.Mark(), path);
    const auto [seen, inserted] = first_line.emplace(pair.first.Scalar(), where.line);
    if (!inserted)
      throw InputError(where, fmt::format("duplicate key (first at line {})", seen->second));
    if (out.count(path) != 0) throw InputError(where, "duplicate key");
    if (find_spec(catalogue, path)) {
      out[path] = entry_from_node(pair.second, where);
    } else if (is_section(catalogue, path)) {
      read_section(pair.second, where, file, catalogue, out);
    } else {
      throw InputError(where, unknown_key_message(path, section, catalogue));
    }
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  return load_yaml_text(path, read_input_file(path, kConfigYamlInput));
}

// Optimal string alignment distance: insertions, deletions, substitutions, transpositions.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> all_names(const KeyCatalogue& catalogue) {
  std::vector<std::string> names;
  for (const KeySpec& spec : catalogue) {
    const std::string_view path = spec.path;
    for (std::size_t dot = path.find('.'); dot != std::string_view::npos;
         dot = path.find('.', dot + 1))
      names.emplace_back(path.substr(0, dot));
    names.emplace_back(path);
  }
  return names;
}

std::string trim(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool looks_like_path(std::string_view text) {
  const auto ends_with = [&](std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
  };
  return text.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml");
}

std::vector<fs::path> config_roots() {
  std::vector<fs::path> roots{fs::path("configs")};
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return roots;
  for (const char* relative : {"../configs", "../../configs", "../share/lpusim/configs"})
    roots.push_back((exe.parent_path() / relative).lexically_normal());
  return roots;
}

std::vector<std::string> available_names(const std::vector<fs::path>& dirs) {
  std::vector<std::string> names;
  for (const fs::path& dir : dirs) {
    std::error_code error;
    for (const auto& file : fs::directory_iterator(dir, error)) {
      const std::string stem = file.path().stem().string();
      if (file.path().extension() == ".yaml" &&
          std::find(names.begin(), names.end(), stem) == names.end())
        names.push_back(stem);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string yaml_error_text(const YAML::Exception& e) {
  if (e.mark.is_null()) return "invalid YAML: " + e.msg;
  return fmt::format("invalid YAML at line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1,
                     e.msg);
}

YAML::Node load_yaml_text(const std::string& path, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(located(path, e.mark, ""), yaml_error_text(e));
  }
}

ConfigEntries read_config_file(const std::string& path, const KeyCatalogue& catalogue) {
  const YAML::Node root = load_yaml_file(path);
  if (root.IsNull())
    throw InputError(SourceLocation{path, 0, ""}, "the file is empty; expected a mapping of keys");
  if (!root.IsMap()) throw InputError(located(path, root.Mark(), ""), "expected a mapping of keys");
  ConfigEntries entries;
  read_mapping(root, "", path, catalogue, entries);
  return entries;
}

void apply_overrides(ConfigEntries& entries, const std::vector<std::string>& overrides,
                     const KeyCatalogue& catalogue) {
  const std::string source(kOverrideSource);
  for (const std::string& item : overrides) {
    const std::size_t equals = item.find('=');
    const std::string key = equals == std::string::npos ? "" : trim(item.substr(0, equals));
    if (key.empty() || key.find(' ') != std::string::npos)
      throw InputError(SourceLocation{source, 0, ""},
                       fmt::format("expected key.path=value, got \"{}\"", item));
    const SourceLocation where{source, 0, key};
    if (is_section(catalogue, key))
      throw InputError(where,
                       fmt::format("is a section; set one of its keys: {}.{}", key,
                                   fmt::join(children_of(catalogue, key), ", " + key + ".")));
    if (!find_spec(catalogue, key))
      throw InputError(where, unknown_key_message(key, "", catalogue));
    YAML::Node value;
    try {
      value = YAML::Load(item.substr(equals + 1));
    } catch (const YAML::Exception& e) {
      throw InputError(where, "invalid value: " + yaml_error_text(e));
    }
    entries[key] = entry_from_node(value, where);
  }
}

ConfigEntry entry_or_default(const ConfigEntries& entries, const KeySpec& spec,
                             const std::string& file) {
  const auto found = entries.find(spec.path);
  if (found != entries.end()) return found->second;
  const SourceLocation where{file, 0, std::string(spec.path)};
  if (spec.default_text.empty())
    throw InputError(where, "missing required key; expected " + expectation(spec));
  return entry_from_node(YAML::Load(std::string(spec.default_text)), where);
}

std::vector<std::size_t> check_order(const ConfigEntries& entries, const KeyCatalogue& catalogue) {
  const auto rank = [&](std::size_t i) {
    const auto found = entries.find(catalogue[i].path);
    if (found == entries.end()) return std::make_tuple(2, 0, i);
    const bool from_set = found->second.where.file == kOverrideSource;
    return std::make_tuple(from_set ? 1 : 0, found->second.where.line, i);
  };
  std::vector<std::size_t> order(catalogue.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  return order;
}

std::string closest_key(std::string_view unknown, const KeyCatalogue& catalogue) {
  const std::string wanted = lowercase(unknown);
  const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, wanted.size() / 4));
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& name : all_names(catalogue)) {
    const std::size_t distance = edit_distance(wanted, lowercase(name));
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

std::string resolve_config_path(std::string_view name_or_path, std::string_view kind) {
  if (looks_like_path(name_or_path)) return std::string(name_or_path);
  const std::string file_name = std::string(name_or_path) + ".yaml";
  std::vector<fs::path> dirs;
  for (const fs::path& root : config_roots()) {
    dirs.push_back(root / kind);
    std::error_code error;
    if (fs::is_regular_file(dirs.back() / file_name, error))
      return (dirs.back() / file_name).string();
  }
  std::vector<std::string> searched;
  for (const fs::path& dir : dirs) searched.push_back(dir.string());
  throw InputError(fmt::format("no {} config named \"{}\" (looked for {} in {}); known names: {}",
                               kind == "hw" ? "hardware" : "model", name_or_path, file_name,
                               fmt::join(searched, ", "), fmt::join(available_names(dirs), ", ")));
}

}  // namespace lpusim
