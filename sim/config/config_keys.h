// A config key catalogue as data (path, kind, default, range, meaning) and the typed parsing,
// canonical printing and description of each key's value, shared by the hardware and model loaders.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantity.h"

namespace lpusim {

// How a key's value is written and what it parses to (see KeyValue).
enum class KeyKind {
  kString,              // free text, not empty
  kEnum,                // one of KeySpec::choices
  kBool,                // true | false
  kNameList,            // a YAML list, each item one of KeySpec::choices
  kCount,               // a whole number without unit
  kCycles,              // a whole number of clock cycles: "640 cycles" (or "640")
  kBytes,               // a size: B, KB.., KiB..
  kBandwidthPerSecond,  // held in B/s; B/cycle accepted and converted at the clock
  kBandwidthPerCycle,   // held in B/cycle; B/s accepted and converted at the clock
  kFrequency,           // held in Hz
  kTime,                // held in s; "N cycles" accepted and converted at the clock
  kEnergyPerByte,       // held in pJ/B
  kEnergyPerOp,         // held in pJ
  kPower,               // held in W
};

// One row of a key catalogue: everything the loader, the dump, --describe and docs/CONFIG.md
// know about a key.
struct KeySpec {
  std::string_view path;          // "memory.bandwidth"
  KeyKind kind;                   //
  std::string_view default_text;  // value used when absent; empty = required
  double min = 0;                 // numbers: smallest allowed value (in the held unit)
  bool min_exclusive = false;     // numbers: value must be > min rather than >= min
  double max = 0;                 // numbers: largest allowed value (in the held unit)
  std::string_view choices;       // kEnum, kNameList: "streamed|resident"
  std::string_view example;       // "80 GB/s", shown in messages and --describe
  std::string_view description;   // what the key means
  std::string_view default_note;  // where the default comes from (required when defaulted)
};

using KeyCatalogue = std::vector<KeySpec>;

// A parsed value: `number` for numeric kinds (held unit), `text` for string/enum/bool,
// `names` for lists.
struct KeyValue {
  double number = 0;
  std::string text;
  std::vector<std::string> names;
};

// One leaf of a config file or a --set override, as written.
struct ConfigEntry {
  enum class Shape { kScalar, kList, kSection, kNothing };
  Shape shape = Shape::kScalar;
  std::string text;                // kScalar
  std::vector<std::string> items;  // kList (scalars only)
  SourceLocation where;            // file (or "--set"), 1-based line, key path
};

// Parses and range-checks an entry against its spec; clock-relative units use `clock`.
KeyValue parse_key(const KeySpec& spec, const ConfigEntry& entry, Hertz clock);

// What a value of `spec` looks like, for messages: `a bandwidth like "80 GB/s"`,
// `one of streamed|resident`.
std::string expectation(const KeySpec& spec);

// The canonical text of a value (parses back to the same value through parse_key).
std::string format_key(const KeySpec& spec, const KeyValue& value);

// The unit (or choices) a key is shown with in --describe: "B/s", "streamed|resident".
std::string unit_of(const KeySpec& spec);

// "[1, 1024]", "[1 kHz, 100 GHz]", "(0, 1 s]" for numeric kinds, "" for others.
std::string range_text(const KeySpec& spec);

// YAML text of `values` (key path -> value, every catalogue key) in canonical units, grouped into
// sections in catalogue order (paths have at most one dot), after the comment line `header`.
std::string dump_config(const KeyCatalogue& catalogue,
                        const std::map<std::string, KeyValue, std::less<>>& values,
                        const std::string& header);

// Human-readable catalogue (kText) or the Markdown table used in docs/CONFIG.md (kMarkdown).
enum class DescribeFormat { kText, kMarkdown };
std::string describe_catalogue(const KeyCatalogue& catalogue, DescribeFormat format);

}  // namespace lpusim
