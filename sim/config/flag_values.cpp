#include "sim/config/flag_values.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/format.h"

namespace lpusim {

namespace {

[[noreturn]] void refuse(std::string_view flag, const std::string& wanted, std::string_view text) {
  throw InputError(SourceLocation{"", 0, std::string(flag)},
                   fmt::format("expected {}, got \"{}\"", wanted, text));
}

}  // namespace

std::uint64_t parse_integer_flag(std::string_view flag, std::string_view text, std::uint64_t min,
                                 std::uint64_t max) {
  const std::string wanted = fmt::format("a whole number in [{}, {}]", min, max);
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) i = 1;
  if (i == text.size()) refuse(flag, wanted, text);
  std::uint64_t magnitude = 0;
  bool too_big = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') refuse(flag, wanted, text);
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) too_big = true;
    magnitude = magnitude * 10 + digit;
  }
  if (too_big || (negative && magnitude != 0) || magnitude < min || magnitude > max)
    refuse(flag, wanted, text);
  return magnitude;
}

int parse_group_size_flag(std::string_view text) {
  constexpr std::string_view kFlag = "--group-size";
  if (text == "per-channel") return kPerChannel;
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  try {
    return static_cast<int>(parse_integer_flag(kFlag, text, 1, max));
  } catch (const InputError&) {
    refuse(kFlag, fmt::format("\"per-channel\" or a whole number in [1, {}]", max), text);
  }
}

double parse_number_flag(std::string_view flag, std::string_view text, double min, double max) {
  const std::string wanted = fmt::format("a finite number in [{}, {}]", min, max);
  const std::string copy(text);
  char* end = nullptr;
  const double value = copy.empty() || std::isspace(static_cast<unsigned char>(copy[0]))
                           ? std::nan("")
                           : std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < min || value > max)
    refuse(flag, wanted, text);
  return value;
}

}  // namespace lpusim
