// Typed parsing, range checks, canonical printing and description of catalogue keys. Every kind
// of value is handled here once, so hardware and model configs validate the same way.
#include "sim/config/config_keys.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <set>

#include "sim/config/units.h"

namespace lpusim {
namespace {

std::vector<std::string> split_choices(std::string_view choices) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= choices.size()) {
    const std::size_t bar = std::min(choices.find('|', start), choices.size());
    out.emplace_back(choices.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

bool is_choice(const KeySpec& spec, const std::string& text) {
  const std::vector<std::string> choices = split_choices(spec.choices);
  return std::find(choices.begin(), choices.end(), text) != choices.end();
}

std::string_view noun_of(KeyKind kind) {
  switch (kind) {
    case KeyKind::kString:
      return "a name";
    case KeyKind::kEnum:
    case KeyKind::kBool:
    case KeyKind::kNameList:
      return "a value";
    case KeyKind::kCount:
      return "a whole number";
    case KeyKind::kCycles:
      return "a number of cycles";
    case KeyKind::kBytes:
      return "a size";
    case KeyKind::kBandwidthPerSecond:
    case KeyKind::kBandwidthPerCycle:
      return "a bandwidth";
    case KeyKind::kFrequency:
      return "a frequency";
    case KeyKind::kTime:
      return "a time";
    case KeyKind::kEnergyPerByte:
      return "an energy per byte";
    case KeyKind::kEnergyPerOp:
      return "an energy per operation";
    case KeyKind::kPower:
      return "a power";
  }
  return "a value";
}

std::string_view shape_noun(ConfigEntry::Shape shape) {
  switch (shape) {
    case ConfigEntry::Shape::kList:
      return "a list";
    case ConfigEntry::Shape::kSection:
      return "a section";
    case ConfigEntry::Shape::kNothing:
      return "nothing";
    case ConfigEntry::Shape::kScalar:
      break;
  }
  return "a value";
}

void check_shape(const KeySpec& spec, const ConfigEntry& entry) {
  const auto wanted =
      spec.kind == KeyKind::kNameList ? ConfigEntry::Shape::kList : ConfigEntry::Shape::kScalar;
  if (entry.shape == wanted) return;
  const std::string got = entry.shape == ConfigEntry::Shape::kScalar
                              ? fmt::format("\"{}\"", entry.text)
                              : std::string(shape_noun(entry.shape));
  throw InputError(entry.where, fmt::format("expected {}, got {}", expectation(spec), got));
}

[[noreturn]] void fail(const ConfigEntry& entry, const std::string& wanted) {
  throw InputError(entry.where, fmt::format("expected {}, got \"{}\"", wanted, entry.text));
}

bool is_numeric(KeyKind kind) {
  return kind != KeyKind::kString && kind != KeyKind::kEnum && kind != KeyKind::kBool &&
         kind != KeyKind::kNameList;
}

// Every numeric key has a range in the catalogue; a value outside it (or not a finite number) is
// refused with the range in the message.
void check_range(const KeySpec& spec, const ConfigEntry& entry, double number) {
  const bool too_small = spec.min_exclusive ? !(number > spec.min) : !(number >= spec.min);
  const bool whole = spec.kind == KeyKind::kCount || spec.kind == KeyKind::kCycles;
  const bool too_large = !(number <= spec.max) || (whole && number > INT_MAX);
  if (too_small || too_large)
    fail(entry, fmt::format("{} in {}", noun_of(spec.kind), range_text(spec)));
}

std::string bound_text(const KeySpec& spec, double bound) {
  if (bound == 0 || spec.kind == KeyKind::kCount || spec.kind == KeyKind::kCycles)
    return fmt::format("{}", bound);
  return format_key(spec, KeyValue{bound, {}, {}});
}

KeyValue parse_text_kind(const KeySpec& spec, const ConfigEntry& entry) {
  KeyValue value;
  value.text = entry.text;
  if (spec.kind == KeyKind::kString && entry.text.empty()) fail(entry, expectation(spec));
  if (spec.kind == KeyKind::kEnum && !is_choice(spec, entry.text)) fail(entry, expectation(spec));
  if (spec.kind == KeyKind::kBool && entry.text != "true" && entry.text != "false")
    fail(entry, expectation(spec));
  return value;
}

KeyValue parse_name_list(const KeySpec& spec, const ConfigEntry& entry) {
  KeyValue value;
  std::set<std::string> seen;
  for (const std::string& item : entry.items) {
    if (!is_choice(spec, item))
      throw InputError(entry.where, fmt::format("expected a list of names from {}, got \"{}\"",
                                                spec.choices, item));
    if (!seen.insert(item).second)
      throw InputError(entry.where, fmt::format("\"{}\" is listed twice", item));
    value.names.push_back(item);
  }
  return value;
}

// "640 cycles", "1 cycle" or a bare "640": the whole number before the unit.
double parse_cycles(const KeySpec& spec, const ConfigEntry& entry) {
  std::string_view text = entry.text;
  for (const std::string_view unit : {"cycles", "cycle"}) {
    if (text.size() > unit.size() && text.substr(text.size() - unit.size()) == unit) {
      text.remove_suffix(unit.size());
      break;
    }
  }
  try {
    return static_cast<double>(parse_count(text, entry.where));
  } catch (const InputError&) {
    fail(entry, expectation(spec));
  }
}

double parse_number(const KeySpec& spec, const ConfigEntry& entry, Hertz clock) {
  const std::string& text = entry.text;
  const SourceLocation& at = entry.where;
  switch (spec.kind) {
    case KeyKind::kCount:
      return static_cast<double>(parse_count(text, at));
    case KeyKind::kCycles:
      return parse_cycles(spec, entry);
    case KeyKind::kBytes:
      return static_cast<double>(parse_bytes(text, at).count);
    case KeyKind::kBandwidthPerSecond:
      return parse_bandwidth(text, at).per_second_at(clock).value;
    case KeyKind::kBandwidthPerCycle:
      return parse_bandwidth(text, at).bytes_per_cycle_at(clock);
    case KeyKind::kFrequency:
      return parse_frequency(text, at).value;
    case KeyKind::kTime:
      return parse_duration(text, at).seconds_at(clock).value;
    case KeyKind::kEnergyPerByte:
      return parse_energy_per_byte(text, at);
    case KeyKind::kEnergyPerOp:
      return parse_energy_per_op(text, at);
    case KeyKind::kPower:
      return parse_power(text, at);
    default:
      return 0;
  }
}

std::string escape_markdown(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string default_column(const KeySpec& spec) {
  return spec.default_text.empty() ? "required" : fmt::format("`{}`", spec.default_text);
}

// `text` as lines of at most kDescribeWidth columns, each starting with `indent`.
std::string wrap(const std::string& text, std::string_view indent) {
  constexpr std::size_t kDescribeWidth = 100;
  std::string out;
  std::string line(indent);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    const std::string word = text.substr(start, end - start);
    if (line.size() > indent.size() && line.size() + 1 + word.size() > kDescribeWidth) {
      out += line + "\n";
      line = std::string(indent);
    }
    line += (line.size() > indent.size() ? " " : "") + word;
    start = end + 1;
  }
  return out + line + "\n";
}

std::string describe_text(const KeySpec& spec) {
  std::string out = fmt::format("{}  [{}]  ", spec.path, unit_of(spec));
  out += spec.default_text.empty() ? "required" : fmt::format("default \"{}\"", spec.default_text);
  if (!range_text(spec).empty()) out += ", " + range_text(spec);
  if (spec.default_text.empty()) out += fmt::format(", e.g. \"{}\"", spec.example);
  out += "\n" + wrap(std::string(spec.description), "    ");
  if (!spec.default_note.empty()) out += wrap("Default: " + std::string(spec.default_note), "    ");
  return out;
}

std::string describe_markdown_row(const KeySpec& spec) {
  std::string meaning(spec.description);
  if (!spec.default_note.empty()) meaning += fmt::format(" Default: {}", spec.default_note);
  return fmt::format("| `{}` | {} | {} | {} | {} |\n", spec.path, escape_markdown(unit_of(spec)),
                     default_column(spec), range_text(spec), escape_markdown(meaning));
}

// Emits one value; lists in flow style, strings quoted so that any name reads back as text.
void emit_value(YAML::Emitter& out, const KeySpec& spec, const KeyValue& value) {
  if (spec.kind == KeyKind::kNameList) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const std::string& name : value.names) out << name;
    out << YAML::EndSeq;
  } else if (spec.kind == KeyKind::kString) {
    out << YAML::DoubleQuoted << value.text;
  } else {
    out << format_key(spec, value);
  }
}

std::pair<std::string, std::string> split_path(std::string_view path) {
  const std::size_t dot = path.find('.');
  if (dot == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, dot)), std::string(path.substr(dot + 1))};
}

}  // namespace

std::string expectation(const KeySpec& spec) {
  switch (spec.kind) {
    case KeyKind::kEnum:
      return fmt::format("one of {}", spec.choices);
    case KeyKind::kBool:
      return "true or false";
    case KeyKind::kNameList:
      return fmt::format("a list of names from {}", spec.choices);
    default:
      return fmt::format("{} like \"{}\"", noun_of(spec.kind), spec.example);
  }
}

KeyValue parse_key(const KeySpec& spec, const ConfigEntry& entry, Hertz clock) {
  check_shape(spec, entry);
  if (spec.kind == KeyKind::kNameList) return parse_name_list(spec, entry);
  if (!is_numeric(spec.kind)) return parse_text_kind(spec, entry);
  KeyValue value;
  value.number = parse_number(spec, entry, clock);
  check_range(spec, entry, value.number);
  return value;
}

std::string format_key(const KeySpec& spec, const KeyValue& value) {
  switch (spec.kind) {
    case KeyKind::kNameList:
      return fmt::format("[{}]", fmt::join(value.names, ", "));
    case KeyKind::kCount:
      return fmt::format("{}", static_cast<long long>(value.number));
    case KeyKind::kCycles:
      return fmt::format("{} cycles", static_cast<long long>(value.number));
    case KeyKind::kBytes:
      return format_bytes(Bytes{static_cast<std::uint64_t>(value.number)});
    case KeyKind::kBandwidthPerSecond:
      return format_bandwidth(BytesPerSecond{value.number});
    case KeyKind::kBandwidthPerCycle:
      return format_bytes_per_cycle(value.number);
    case KeyKind::kFrequency:
      return format_frequency(Hertz{value.number});
    case KeyKind::kTime:
      return format_duration(Seconds{value.number});
    case KeyKind::kEnergyPerByte:
      return format_energy_per_byte(value.number);
    case KeyKind::kEnergyPerOp:
      return format_energy_per_op(value.number);
    case KeyKind::kPower:
      return format_power(value.number);
    default:
      return value.text;
  }
}

std::string unit_of(const KeySpec& spec) {
  switch (spec.kind) {
    case KeyKind::kString:
      return "text";
    case KeyKind::kEnum:
      return std::string(spec.choices);
    case KeyKind::kBool:
      return "true|false";
    case KeyKind::kNameList:
      return fmt::format("list of {}", spec.choices);
    case KeyKind::kCount:
      return "count";
    case KeyKind::kCycles:
      return "cycles";
    case KeyKind::kBytes:
      return "B (KB..TB, KiB..TiB)";
    case KeyKind::kBandwidthPerSecond:
      return "B/s (KB/s..TB/s, KiB/s..TiB/s; or B/cycle)";
    case KeyKind::kBandwidthPerCycle:
      return "B/cycle (or B/s..TB/s)";
    case KeyKind::kFrequency:
      return "Hz (kHz, MHz, GHz)";
    case KeyKind::kTime:
      return "s (ps, ns, us, ms; or cycles)";
    case KeyKind::kEnergyPerByte:
      return "pJ/B (fJ/B, nJ/B; or per bit)";
    case KeyKind::kEnergyPerOp:
      return "pJ (fJ, nJ)";
    case KeyKind::kPower:
      return "W (mW, kW)";
  }
  return "";
}

std::string range_text(const KeySpec& spec) {
  if (!is_numeric(spec.kind)) return "";
  return fmt::format("{}{}, {}]", spec.min_exclusive ? "(" : "[", bound_text(spec, spec.min),
                     bound_text(spec, spec.max));
}

std::string dump_config(const KeyCatalogue& catalogue,
                        const std::map<std::string, KeyValue, std::less<>>& values,
                        const std::string& header) {
  YAML::Emitter out;
  out << YAML::Comment(header) << YAML::BeginMap;
  std::string open_section;
  for (const KeySpec& spec : catalogue) {
    const auto [section, leaf] = split_path(spec.path);
    if (section != open_section) {
      if (!open_section.empty()) out << YAML::EndMap;
      if (!section.empty()) out << YAML::Key << section << YAML::Value << YAML::BeginMap;
      open_section = section;
    }
    out << YAML::Key << leaf << YAML::Value;
    emit_value(out, spec, values.at(std::string(spec.path)));
  }
  if (!open_section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string describe_catalogue(const KeyCatalogue& catalogue, DescribeFormat format) {
  std::string out;
  if (format == DescribeFormat::kMarkdown)
    out = "| key | unit | default | range | meaning |\n|---|---|---|---|---|\n";
  for (const KeySpec& spec : catalogue) {
    out += format == DescribeFormat::kMarkdown ? describe_markdown_row(spec) : describe_text(spec);
  }
  return out;
}

}  // namespace lpusim
