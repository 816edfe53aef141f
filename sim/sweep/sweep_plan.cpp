// Expands a sweep file into validated points: base values (`lpusim run`'s defaults, then the
// file's), grid product, explicit points, per-point configs, canonical text, hash, run arguments.
#include "sim/sweep/sweep_plan.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "kernels/format.h"
#include "sim/config/config_file.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/llm/workload_options.h"
#include "sim/sweep/sweep_hash.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;

using ValueMap = std::map<std::string, SweepValue, std::less<>>;

constexpr std::string_view kDefaultQuant = "q3.5";  // as `lpusim run`
constexpr std::string_view kCanonicalHeader = "lpusim sweep point v1";
constexpr std::size_t kMaxPoints = 1000000;  // a larger grid is almost surely a typo
constexpr std::string_view kPerChannelText = "per-channel";

const KeySpec* hw_spec(std::string_view path) {
  for (const KeySpec& spec : hw_key_catalogue()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

// Runs `check`; an InputError it throws is rethrown located at `where`.
void located_check(const SourceLocation& where, const std::function<void()>& check) {
  try {
    check();
  } catch (const InputError& e) {
    throw InputError(where, e.what());
  }
}

bool looks_like_path(std::string_view text) {
  const auto ends_with = [&](std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
  };
  return text.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml");
}

// A config name, or a file path relative to the sweep file's directory (else to the current one).
std::string config_path(const SweepValue& value, const std::string& sweep_path,
                        std::string_view kind) {
  std::string text = value.text;
  if (looks_like_path(text) && fs::path(text).is_relative()) {
    const fs::path beside = fs::path(sweep_path).parent_path() / text;
    std::error_code error;
    if (fs::is_regular_file(beside, error)) text = beside.lexically_normal().string();
  }
  return resolve_config_path(text, kind);
}

// A whole number in [min, max], the same range as the matching `lpusim run` flag.
std::uint64_t parse_count(const SweepValue& value, std::uint64_t min, std::uint64_t max) {
  const std::string& t = value.text;
  const bool digits = !t.empty() && t.size() <= 18 &&
                      std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoull(t) < min || std::stoull(t) > max) {
    throw InputError(value.where,
                     fmt::format("expected a whole number in [{}, {}], got \"{}\"", min, max, t));
  }
  return std::stoull(t);
}

bool parse_bool(const SweepValue& value) {
  if (value.text == "true") return true;
  if (value.text == "false") return false;
  throw InputError(value.where, fmt::format("expected true or false, got \"{}\"", value.text));
}

void check_value(const std::string& name, const SweepValue& value, const std::string& sweep_path,
                 Hertz clock) {
  if (const KeySpec* spec = hw_spec(name)) {
    ConfigEntry entry;
    entry.text = value.text;
    entry.where = value.where;
    parse_key(*spec, entry, clock);
  } else if (name == kHwAxis) {
    located_check(value.where, [&] { load_hw_config(config_path(value, sweep_path, "hw")); });
  } else if (name == "model") {
    located_check(value.where,
                  [&] { load_model_config(config_path(value, sweep_path, "models")); });
  } else if (name == "quant") {
    located_check(value.where, [&] { parse_format(value.text); });
  } else if (name == "group_size") {
    // The default (no line in the file) is empty: each format's default_group_size.
    if (value.text.empty() && value.where.line == 0) return;
    located_check(value.where, [&] { parse_group_size(value.text); });
  } else if (name == "kv_format") {
    located_check(value.where, [&] { parse_kv_format(value.text); });
  } else if (name == "group_kernel") {
    located_check(value.where,
                  [&] { group_kernels_of(value.text, parse_format("fp16"), kPerChannel); });
  } else if (name == "prefill") {
    parse_bool(value);
  } else if (name == "context") {
    parse_count(value, 0, kMaxContext);
  } else {
    parse_count(value, 1, name == "batch" ? kMaxBatch : kMaxPrompt);
  }
}

ValueMap base_values(const SweepFile& file) {
  const LlmOptions run_defaults;
  const auto defaulted = [&](std::string_view key, std::string text) {
    return SweepValue{std::move(text), SourceLocation{file.path, 0, std::string(key)}};
  };
  ValueMap values = {
      {std::string(kHwAxis), defaulted(kHwAxis, std::string(kDefaultHwConfig))},
      {"model", defaulted("model", run_defaults.model)},
      {"quant", defaulted("quant", std::string(kDefaultQuant))},
      {"group_size", defaulted("group_size", run_defaults.group_size)},
      {"group_kernel", defaulted("group_kernel", "auto")},
      {"batch", defaulted("batch", std::to_string(run_defaults.batch))},
      {"context", defaulted("context", std::to_string(run_defaults.context))},
      {"prompt", defaulted("prompt", std::to_string(run_defaults.prompt))},
      {"kv_format", defaulted("kv_format", run_defaults.kv_format)},
      {"prefill", defaulted("prefill", "true")},
  };
  for (const auto& [name, value] : file.base) values[name] = value;
  return values;
}

// Checks every value written in the file once, so errors point at the value's own line.
void check_values(const SweepFile& file, const ValueMap& base) {
  const Hertz clock = load_hw_config(config_path(base.at("hw"), file.path, "hw")).clock;
  for (const auto& [name, value] : base) check_value(name, value, file.path, clock);
  for (const SweepAxis& axis : file.axes) {
    for (const SweepValue& value : axis.values) check_value(axis.name, value, file.path, clock);
  }
  for (const SweepExplicitPoint& point : file.points) {
    for (const auto& [name, value] : point.settings) check_value(name, value, file.path, clock);
  }
}

std::size_t grid_size(const std::vector<SweepAxis>& axes, const std::string& path) {
  std::size_t size = 1;
  for (const SweepAxis& axis : axes) {
    size *= axis.values.size();
    if (size > kMaxPoints)
      throw InputError(SourceLocation{path, axis.values.front().where.line, axis.name},
                       fmt::format("the grid has more than {} points", kMaxPoints));
  }
  return size;
}

// The product of the axes, the first axis varying slowest; no axes: one point, the base.
std::vector<SweepSettings> grid_settings(const std::vector<SweepAxis>& axes) {
  std::vector<SweepSettings> grid{{}};
  for (const SweepAxis& axis : axes) {
    std::vector<SweepSettings> next;
    next.reserve(grid.size() * axis.values.size());
    for (const SweepSettings& prefix : grid) {
      for (const SweepValue& value : axis.values) {
        next.push_back(prefix);
        next.back().emplace_back(axis.name, value);
      }
    }
    grid = std::move(next);
  }
  return grid;
}

std::string yaml_quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string> hw_overrides(const ValueMap& values) {
  std::vector<std::string> overrides;
  for (const auto& [name, value] : values) {
    if (hw_spec(name)) overrides.push_back(name + "=" + yaml_quoted(value.text));
  }
  return overrides;
}

std::string point_label(const SweepSettings& settings) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : settings) parts.push_back(name + "=" + value.text);
  return parts.empty() ? "base" : fmt::format("{}", fmt::join(parts, " "));
}

SourceLocation first_location(const SweepSettings& settings, const std::string& path) {
  return settings.empty() ? SourceLocation{path, 0, ""} : settings.front().second.where;
}

std::vector<std::string> varied_hw_keys(const SweepFile& file) {
  std::vector<std::string> keys;
  for (const KeySpec& spec : hw_key_catalogue()) {
    const auto varies = [&](const std::string& name) { return name == spec.path; };
    bool found = std::any_of(file.axes.begin(), file.axes.end(),
                             [&](const SweepAxis& a) { return varies(a.name); });
    for (const SweepExplicitPoint& p : file.points) {
      for (const auto& setting : p.settings) found = found || varies(setting.first);
    }
    if (found) keys.emplace_back(spec.path);
  }
  return keys;
}

bool is_text_kind(KeyKind kind) {
  return kind == KeyKind::kString || kind == KeyKind::kEnum || kind == KeyKind::kBool;
}

// Builds the points of one sweep file. Config paths, workloads and base hardware dumps are cached:
// a grid repeats them many times.
class PointMaker {
 public:
  PointMaker(const SweepFile& file, std::vector<std::string> hw_keys)
      : file_(file), base_(base_values(file)), hw_keys_(std::move(hw_keys)) {}

  const ValueMap& base() const { return base_; }

  SweepPoint make(const SweepSettings& settings, const SourceLocation& where, std::size_t index) {
    ValueMap values = base_;
    for (const auto& [name, value] : settings) values[name] = value;
    SweepPoint point;
    point.index = index;
    point.settings = settings;
    try {
      point.prefill = parse_bool(values.at("prefill"));
      point.hw = load_hw_config(path(values.at("hw"), "hw"), hw_overrides(values));
      point.spec = workload(values);
    } catch (const InputError& e) {
      throw InputError(SourceLocation{where.file, where.line, ""},
                       fmt::format("point {} ({}): {}", index, point_label(settings), e.what()));
    }
    point.canonical = canonical_point_text(point.hw, point.spec, point.prefill);
    point.hash = hex64(fnv1a64(point.canonical));
    point.run_args = run_arguments(values, point.prefill);
    fill_hw_values(point, values);
    return point;
  }

 private:
  std::string path(const SweepValue& value, std::string_view kind) {
    const std::string key = std::string(kind) + "\n" + value.text;
    auto it = paths_.find(key);
    if (it == paths_.end()) it = paths_.emplace(key, config_path(value, file_.path, kind)).first;
    return it->second;
  }

  WorkloadSpec workload(const ValueMap& values) {
    std::string key;
    for (const char* name : {"model", "quant", "group_size", "group_kernel", "batch", "context",
                             "prompt", "kv_format"})
      key += values.at(name).text + "\n";
    auto it = workloads_.find(key);
    if (it != workloads_.end()) return it->second;
    LlmOptions options;
    options.model = path(values.at("model"), "models");
    options.group_size = values.at("group_size").text;
    options.batch = parse_count(values.at("batch"), 1, kMaxBatch);
    options.context = parse_count(values.at("context"), 0, kMaxContext);
    options.prompt = parse_count(values.at("prompt"), 1, kMaxPrompt);
    options.kv_format = values.at("kv_format").text;
    WorkloadSpec spec = options.spec(values.at("quant").text);
    spec.group_kernels =
        group_kernels_of(values.at("group_kernel").text, spec.format, spec.group_size);
    return workloads_.emplace(key, std::move(spec)).first->second;
  }

  std::vector<std::string> run_arguments(const ValueMap& values, bool prefill) {
    std::vector<std::string> args = {"run", "--format", "json", "--hw",
                                     path(values.at("hw"), "hw")};
    for (const std::string& item : hw_overrides(values)) {
      args.push_back("--set");
      args.push_back(item);
    }
    const auto add = [&](const char* flag, const std::string& value) {
      args.push_back(flag);
      args.push_back(value);
    };
    add("--model", path(values.at("model"), "models"));
    add("--quant", values.at("quant").text);
    // No group size: the format's default (default_group_size).
    if (!values.at("group_size").text.empty()) add("--group-size", values.at("group_size").text);
    add("--batch", values.at("batch").text);
    add("--context", values.at("context").text);
    add("--prompt", values.at("prompt").text);
    add("--kv-format", values.at("kv_format").text);
    add("--group-kernel", values.at("group_kernel").text);
    if (!prefill) args.push_back("--no-prefill");
    return args;
  }

  // The base config's dump (no overrides), parsed once per hardware config file.
  const YAML::Node& base_dump(const std::string& hw_path) {
    auto it = base_dumps_.find(hw_path);
    if (it == base_dumps_.end())
      it = base_dumps_.emplace(hw_path, YAML::Load(dump_hw_config(load_hw_config(hw_path)))).first;
    return it->second;
  }

  // Each varied hardware key's effective value: the point's own text, or the base config's,
  // parsed at the point's clock like load_hw_config does.
  void fill_hw_values(SweepPoint& point, const ValueMap& values) {
    for (const std::string& key : hw_keys_) {
      ConfigEntry entry;
      const auto own = values.find(key);
      if (own != values.end()) {
        entry.text = own->second.text;
      } else {
        const YAML::Node& dump = base_dump(path(values.at("hw"), "hw"));
        const std::size_t dot = key.find('.');
        entry.text =
            (dot == std::string::npos ? dump[key] : dump[key.substr(0, dot)][key.substr(dot + 1)])
                .Scalar();
      }
      const KeySpec& spec = *hw_spec(key);
      const KeyValue value = parse_key(spec, entry, point.hw.clock);
      point.hw_values.emplace_back(
          key, is_text_kind(spec.kind) ? value.text : fmt::format("{}", value.number));
    }
  }

  const SweepFile& file_;
  ValueMap base_;
  std::vector<std::string> hw_keys_;
  std::map<std::string, std::string> paths_;
  std::map<std::string, WorkloadSpec> workloads_;
  std::map<std::string, YAML::Node> base_dumps_;
};

}  // namespace

std::string SweepPoint::label() const { return point_label(settings); }

std::string canonical_point_text(const HwConfig& hw, const WorkloadSpec& spec, bool prefill) {
  HwConfig hw_without_source = hw;
  hw_without_source.source.clear();
  ModelConfig model_without_source = spec.model;
  model_without_source.source.clear();
  const std::string group = spec.group_size == kPerChannel ? std::string(kPerChannelText)
                                                           : std::to_string(spec.group_size);
  return fmt::format(
      "# {}\n[hw]\n{}[model]\n{}[workload]\nquant: {}\ngroup_size: {}\ngroup_kernel: {}\n"
      "batch: {}\ncontext: {}\nprompt: {}\nkv_format: {}\nprefill: {}\n",
      kCanonicalHeader, dump_hw_config(hw_without_source), dump_model_config(model_without_source),
      spec.format.name, group, group_kernels_text(spec.group_kernels), spec.batch, spec.context,
      spec.prompt, kv_format_name(spec.kv), prefill ? "true" : "false");
}

SweepPlan expand_sweep(const SweepFile& file) {
  PointMaker maker(file, varied_hw_keys(file));
  check_values(file, maker.base());
  std::vector<SweepSettings> settings;
  std::vector<SourceLocation> where;
  if (!file.axes.empty() || file.points.empty()) {
    grid_size(file.axes, file.path);
    settings = grid_settings(file.axes);
    for (const SweepSettings& s : settings) where.push_back(first_location(s, file.path));
  }
  for (const SweepExplicitPoint& point : file.points) {
    settings.push_back(point.settings);
    where.push_back(point.where);
  }
  SweepPlan plan;
  plan.path = file.path;
  plan.hw_axes = varied_hw_keys(file);
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    SweepPoint point = maker.make(settings[i], where[i], plan.points.size());
    if (!seen.emplace(point.hash, point.index).second) {
      ++plan.duplicates;
      continue;
    }
    plan.points.push_back(std::move(point));
  }
  return plan;
}

Shard parse_shard(std::string_view text) {
  const SourceLocation where{"--shard", 0, ""};
  const std::size_t slash = text.find('/');
  const auto number = [](std::string_view part) -> std::size_t {
    if (part.empty() || part.size() > 9 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return 0;
    return std::stoul(std::string(part));
  };
  Shard shard;
  if (slash != std::string_view::npos) {
    shard.index = number(text.substr(0, slash));
    shard.count = number(text.substr(slash + 1));
  }
  if (slash == std::string_view::npos || shard.count == 0 || shard.index == 0 ||
      shard.index > shard.count)
    throw InputError(where,
                     fmt::format("expected I/N with 1 <= I <= N, like 1/4, got \"{}\"", text));
  return shard;
}

}  // namespace lpusim
