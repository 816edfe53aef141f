#include "traces/trace_filter.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace lpusim {

namespace {

constexpr Femtoseconds kFsPerUs = 1'000'000'000;
constexpr int kFractionDigits = 9;  // femtoseconds in microseconds
constexpr std::string_view kLayerPrefix = "layer";

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "123.456" exactly: whole microseconds and up to nine fraction digits (more are rounded);
// nullopt when the time does not fit 64-bit femtoseconds.
std::optional<Femtoseconds> parse_plain_decimal(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!all_digits(whole) || (!fraction.empty() && !all_digits(fraction))) return std::nullopt;
  Femtoseconds fs = 0;
  for (const char digit : whole) {
    if (__builtin_mul_overflow(fs, Femtoseconds{10}, &fs) ||
        __builtin_add_overflow(fs, static_cast<Femtoseconds>(digit - '0'), &fs))
      return std::nullopt;
  }
  if (__builtin_mul_overflow(fs, kFsPerUs, &fs)) return std::nullopt;
  Femtoseconds scale = kFsPerUs;
  for (std::size_t i = 0; i < fraction.size() && i < kFractionDigits; ++i) {
    scale /= 10;
    if (__builtin_add_overflow(fs, static_cast<Femtoseconds>(fraction[i] - '0') * scale, &fs))
      return std::nullopt;
  }
  if (fraction.size() > kFractionDigits && fraction[kFractionDigits] >= '5' &&
      __builtin_add_overflow(fs, Femtoseconds{1}, &fs))
    return std::nullopt;
  return fs;
}

}  // namespace

std::optional<int> layer_of_tag(std::string_view tag) {
  if (tag.substr(0, kLayerPrefix.size()) != kLayerPrefix) return std::nullopt;
  const std::string_view rest = tag.substr(kLayerPrefix.size());
  const std::string_view digits = rest.substr(0, rest.find('.'));
  if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
  return std::atoi(std::string(digits).c_str());
}

std::string TraceFilter::describe() const {
  std::string out;
  if (!window.whole()) {
    out += "window " + microseconds_text(window.from_fs) + " us .. ";
    out += window.to_fs == kEndOfTime ? "end" : microseconds_text(window.to_fs) + " us";
  }
  if (layers) {
    if (!out.empty()) out += ", ";
    out += "layers " + std::to_string(layers->first) + "-" + std::to_string(layers->last);
  }
  return out.empty() ? "everything" : out;
}

void append_microseconds(std::string& out, Femtoseconds fs) {
  char digits[24];
  const Femtoseconds whole = fs / kFsPerUs;
  Femtoseconds fraction = fs % kFsPerUs;
  int n = 0;
  Femtoseconds w = whole;
  do {
    digits[n++] = static_cast<char>('0' + w % 10);
    w /= 10;
  } while (w != 0);
  while (n > 0) out.push_back(digits[--n]);
  if (fraction == 0) return;
  int len = kFractionDigits;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --len;
  }
  char frac[kFractionDigits];
  for (int i = len - 1; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  out.push_back('.');
  out.append(frac, static_cast<std::size_t>(len));
}

std::string microseconds_text(Femtoseconds fs) {
  std::string out;
  append_microseconds(out, fs);
  return out;
}

std::optional<Femtoseconds> parse_microseconds(std::string_view text) {
  if (text.find_first_of("eE") == std::string_view::npos) return parse_plain_decimal(text);
  char* end = nullptr;
  const std::string copy(text);
  const double us = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !(us >= 0)) return std::nullopt;
  // 2^64 fs exactly as a double; anything at or above it does not fit.
  constexpr double kFsRange = 18446744073709551616.0;
  const double fs = std::round(us * static_cast<double>(kFsPerUs));
  if (!(fs < kFsRange)) return std::nullopt;
  return static_cast<Femtoseconds>(fs);
}

}  // namespace lpusim
