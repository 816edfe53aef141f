// Unit table and strict parser for config values. Every unit is one row of kUnits; scales are
// exact (powers of 10 and 2), and printing picks a unit only if its text parses back exactly.
#include "sim/config/units.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>

namespace lpusim {
namespace {

// The dimension of a unit; values are held in the base unit named by each comment.
enum class Dim {
  kBytes,           // B
  kBytesPerSecond,  // B/s
  kBytesPerCycle,   // B/cycle
  kHertz,           // Hz
  kSeconds,         // s
  kCycles,          // cycles
  kPjPerByte,       // pJ/B
  kPj,              // pJ
  kWatts,           // W
};

struct Unit {
  std::string_view symbol;
  Dim dim;
  double multiply;  // value in base unit = number * multiply / divide
  double divide;
  bool any_case;  // "mhz" and "MHZ" are read as MHz
};

constexpr double kKi = 1024.0;
constexpr double kMi = kKi * kKi;
constexpr double kGi = kMi * kKi;
constexpr double kTi = kGi * kKi;
constexpr double kBitsPerByte = 8;

constexpr Unit kUnits[] = {
    {"B", Dim::kBytes, 1, 1, false},
    {"KB", Dim::kBytes, 1e3, 1, false},
    {"kB", Dim::kBytes, 1e3, 1, false},
    {"MB", Dim::kBytes, 1e6, 1, false},
    {"GB", Dim::kBytes, 1e9, 1, false},
    {"TB", Dim::kBytes, 1e12, 1, false},
    {"KiB", Dim::kBytes, kKi, 1, false},
    {"MiB", Dim::kBytes, kMi, 1, false},
    {"GiB", Dim::kBytes, kGi, 1, false},
    {"TiB", Dim::kBytes, kTi, 1, false},
    {"B/s", Dim::kBytesPerSecond, 1, 1, false},
    {"KB/s", Dim::kBytesPerSecond, 1e3, 1, false},
    {"kB/s", Dim::kBytesPerSecond, 1e3, 1, false},
    {"MB/s", Dim::kBytesPerSecond, 1e6, 1, false},
    {"GB/s", Dim::kBytesPerSecond, 1e9, 1, false},
    {"TB/s", Dim::kBytesPerSecond, 1e12, 1, false},
    {"KiB/s", Dim::kBytesPerSecond, kKi, 1, false},
    {"MiB/s", Dim::kBytesPerSecond, kMi, 1, false},
    {"GiB/s", Dim::kBytesPerSecond, kGi, 1, false},
    {"TiB/s", Dim::kBytesPerSecond, kTi, 1, false},
    {"B/cycle", Dim::kBytesPerCycle, 1, 1, false},
    {"Hz", Dim::kHertz, 1, 1, true},
    {"kHz", Dim::kHertz, 1e3, 1, true},
    {"MHz", Dim::kHertz, 1e6, 1, true},
    {"GHz", Dim::kHertz, 1e9, 1, true},
    {"ps", Dim::kSeconds, 1, 1e12, false},
    {"ns", Dim::kSeconds, 1, 1e9, false},
    {"us", Dim::kSeconds, 1, 1e6, false},
    {"ms", Dim::kSeconds, 1, 1e3, false},
    {"s", Dim::kSeconds, 1, 1, false},
    {"cycle", Dim::kCycles, 1, 1, false},
    {"cycles", Dim::kCycles, 1, 1, false},
    {"fJ/B", Dim::kPjPerByte, 1, 1e3, false},
    {"pJ/B", Dim::kPjPerByte, 1, 1, false},
    {"nJ/B", Dim::kPjPerByte, 1e3, 1, false},
    {"fJ/bit", Dim::kPjPerByte, kBitsPerByte, 1e3, false},
    {"pJ/bit", Dim::kPjPerByte, kBitsPerByte, 1, false},
    {"nJ/bit", Dim::kPjPerByte, kBitsPerByte * 1e3, 1, false},
    {"fJ", Dim::kPj, 1, 1e3, false},
    {"pJ", Dim::kPj, 1, 1, false},
    {"nJ", Dim::kPj, 1e3, 1, false},
    {"mW", Dim::kWatts, 1, 1e3, false},
    {"W", Dim::kWatts, 1, 1, false},
    {"kW", Dim::kWatts, 1e3, 1, false},
};

std::string_view noun_of(Dim dim) {
  switch (dim) {
    case Dim::kBytes:
      return "a size";
    case Dim::kBytesPerSecond:
    case Dim::kBytesPerCycle:
      return "a bandwidth";
    case Dim::kHertz:
      return "a frequency";
    case Dim::kSeconds:
    case Dim::kCycles:
      return "a time";
    case Dim::kPjPerByte:
      return "an energy per byte";
    case Dim::kPj:
      return "an energy";
    case Dim::kWatts:
      return "a power";
  }
  return "a value";
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

const Unit* find_unit(std::string_view symbol) {
  for (const Unit& unit : kUnits) {
    if (unit.symbol == symbol) return &unit;
  }
  for (const Unit& unit : kUnits) {
    if (unit.any_case && same_ignoring_case(unit.symbol, symbol)) return &unit;
  }
  return nullptr;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::size_t skip_digits(std::string_view text, std::size_t i) {
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

// Length of the leading decimal number [+-]digits[.digits][e[+-]digits], or 0 if none.
std::size_t number_length(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t int_end = skip_digits(text, i);
  std::size_t end = int_end;
  if (end < text.size() && text[end] == '.') end = skip_digits(text, end + 1);
  if (end == i || (int_end == i && end == i + 1)) return 0;  // no digit at all
  if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
    std::size_t exp = end + 1;
    if (exp < text.size() && (text[exp] == '+' || text[exp] == '-')) ++exp;
    const std::size_t exp_end = skip_digits(text, exp);
    if (exp_end > exp) end = exp_end;
  }
  return end;
}

std::optional<double> to_double(std::string_view digits) {
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

// What a parser expects, for messages: `a bandwidth like "80 GB/s"`.
struct Expectation {
  std::string_view what;
  std::initializer_list<Dim> dims;
};

[[noreturn]] void fail(const SourceLocation& where, std::string_view expected,
                       std::string_view text, const std::string& hint) {
  std::string message = fmt::format("expected {}, got \"{}\"", expected, text);
  if (!hint.empty()) message += " (" + hint + ")";
  throw InputError(where, message);
}

struct Quantity {
  double value = 0;  // in the base unit of `dim`
  Dim dim = Dim::kBytes;
};

bool allows(const Expectation& expected, Dim dim) {
  for (Dim allowed : expected.dims) {
    if (allowed == dim) return true;
  }
  return false;
}

Quantity parse_quantity(std::string_view raw, const SourceLocation& where,
                        const Expectation& expected) {
  const std::string_view text = trim(raw);
  const std::size_t length = number_length(text);
  if (length == 0) fail(where, expected.what, raw, "");
  const std::optional<double> number = to_double(text.substr(0, length));
  if (!number) fail(where, expected.what, raw, "the number is out of range");
  const std::string_view symbol = trim(text.substr(length));
  if (symbol.empty()) fail(where, expected.what, raw, "the number needs a unit");
  const Unit* unit = find_unit(symbol);
  if (unit == nullptr) fail(where, expected.what, raw, fmt::format("unknown unit \"{}\"", symbol));
  if (!allows(expected, unit->dim))
    fail(where, expected.what, raw, fmt::format("that is {}", noun_of(unit->dim)));
  const double value = *number * unit->multiply / unit->divide;
  if (!std::isfinite(value)) fail(where, expected.what, raw, "the number is out of range");
  return Quantity{value, unit->dim};
}

constexpr std::string_view kSizeExpected = "a size like \"220 MiB\"";
constexpr std::string_view kBandwidthExpected = "a bandwidth like \"80 GB/s\"";

// Largest whole byte count a double holds exactly (2^53).
constexpr double kMaxExactBytes = 9007199254740992.0;

// Prints `value` (in the base unit of the symbols' dimension) in the first of `symbols` whose
// number is at least 1 and parses back to exactly `value`; else in the base unit `base`.
std::string format_in(double value, std::initializer_list<std::string_view> symbols,
                      std::string_view base) {
  for (std::string_view symbol : symbols) {
    const Unit* unit = find_unit(symbol);
    const double number = value * unit->divide / unit->multiply;
    const std::string digits = fmt::format("{}", number);
    const std::optional<double> back = to_double(digits);
    if (std::fabs(number) >= 1 && back && *back * unit->multiply / unit->divide == value)
      return digits + " " + std::string(symbol);
  }
  return fmt::format("{} {}", value, base);
}

}  // namespace

BytesPerSecond Bandwidth::per_second_at(Hertz clock) const {
  return BytesPerSecond{per_cycle ? value * clock.value : value};
}

double Bandwidth::bytes_per_cycle_at(Hertz clock) const {
  return per_cycle ? value : value / clock.value;
}

Seconds Duration::seconds_at(Hertz clock) const {
  return Seconds{in_cycles ? value / clock.value : value};
}

Bytes parse_bytes(std::string_view text, const SourceLocation& where) {
  const Quantity size = parse_quantity(text, where, {kSizeExpected, {Dim::kBytes}});
  if (size.value < 0) fail(where, kSizeExpected, text, "a size cannot be negative");
  if (size.value != std::floor(size.value))
    fail(where, kSizeExpected, text, "not a whole number of bytes");
  if (size.value > kMaxExactBytes) fail(where, kSizeExpected, text, "larger than 8 PiB");
  return Bytes{static_cast<std::uint64_t>(size.value)};
}

Bandwidth parse_bandwidth(std::string_view text, const SourceLocation& where) {
  const Quantity rate = parse_quantity(
      text, where, {kBandwidthExpected, {Dim::kBytesPerSecond, Dim::kBytesPerCycle}});
  return Bandwidth{rate.value, rate.dim == Dim::kBytesPerCycle};
}

Hertz parse_frequency(std::string_view text, const SourceLocation& where) {
  return Hertz{parse_quantity(text, where, {"a frequency like \"900 MHz\"", {Dim::kHertz}}).value};
}

Duration parse_duration(std::string_view text, const SourceLocation& where) {
  const Quantity time = parse_quantity(
      text, where, {"a time like \"100 ns\" or \"90 cycles\"", {Dim::kSeconds, Dim::kCycles}});
  return Duration{time.value, time.dim == Dim::kCycles};
}

std::int64_t parse_count(std::string_view raw, const SourceLocation& where) {
  constexpr std::string_view kExpected = "a whole number like \"4\"";
  std::string_view text = trim(raw);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) fail(where, kExpected, raw, "out of range");
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    fail(where, kExpected, raw, "");
  return value;
}

double parse_energy_per_byte(std::string_view text, const SourceLocation& where) {
  return parse_quantity(text, where, {"an energy per byte like \"20 pJ/B\"", {Dim::kPjPerByte}})
      .value;
}

double parse_energy_per_op(std::string_view text, const SourceLocation& where) {
  return parse_quantity(text, where, {"an energy per operation like \"0.3 pJ\"", {Dim::kPj}}).value;
}

double parse_power(std::string_view text, const SourceLocation& where) {
  return parse_quantity(text, where, {"a power like \"30 W\"", {Dim::kWatts}}).value;
}

std::string format_bytes(Bytes size) {
  static constexpr std::pair<std::string_view, std::uint64_t> kScales[] = {
      {"TiB", 1ull << 40}, {"TB", 1000000000000ull}, {"GiB", 1ull << 30}, {"GB", 1000000000ull},
      {"MiB", 1ull << 20}, {"MB", 1000000ull},       {"KiB", 1ull << 10}, {"KB", 1000ull}};
  for (const auto& [symbol, scale] : kScales) {
    if (size.count != 0 && size.count % scale == 0)
      return fmt::format("{} {}", size.count / scale, symbol);
  }
  return fmt::format("{} B", size.count);
}

std::string format_bandwidth(BytesPerSecond rate) {
  return format_in(rate.value, {"TB/s", "GB/s", "MB/s", "KB/s"}, "B/s");
}

std::string format_bytes_per_cycle(double rate) { return fmt::format("{} B/cycle", rate); }

std::string format_frequency(Hertz frequency) {
  return format_in(frequency.value, {"GHz", "MHz", "kHz"}, "Hz");
}

std::string format_duration(Seconds duration) {
  return format_in(duration.value, {"s", "ms", "us", "ns", "ps"}, "s");
}

std::string format_energy_per_byte(double pj_per_byte) {
  return fmt::format("{} pJ/B", pj_per_byte);
}

std::string format_energy_per_op(double pj) { return fmt::format("{} pJ", pj); }

std::string format_power(double watts) { return fmt::format("{} W", watts); }

}  // namespace lpusim
