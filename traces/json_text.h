// Fast, locale-free writing of JSON values for the streaming trace writer: into a string, or at
// a raw cursor into the sink's buffer (TextCursor) on the hot path of one event per instruction.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace lpusim {

// Decimal digits of the largest std::uint64_t.
inline constexpr std::size_t kMaxUintDigits = 20;

// Writes the decimal digits of `value` at `p` (room for 20) and returns the end of what was
// written. std::to_chars: table-driven, no locale, the same digits as printf's %llu.
inline char* write_uint(char* p, std::uint64_t value) {
  return std::to_chars(p, p + kMaxUintDigits, value).ptr;
}

inline void append_uint(std::string& out, std::uint64_t value) {
  char digits[24];
  out.append(digits, write_uint(digits, value));
}

inline void append_int(std::string& out, std::int64_t value) {
  if (value < 0) {
    out.push_back('-');
    append_uint(out, static_cast<std::uint64_t>(-(value + 1)) + 1);
  } else {
    append_uint(out, static_cast<std::uint64_t>(value));
  }
}

// The shortest text printf's "%.9g" would give (std::to_chars with a precision is specified to
// match it), without printf's locale and format-string cost.
inline void append_double(std::string& out, double value) {
  char text[40];
  const std::to_chars_result r =
      std::to_chars(text, text + sizeof text, value, std::chars_format::general, 9);
  out.append(text, r.ptr);
}

// A JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// Writes at a raw pointer; the caller reserved enough room (TraceSink::reserve).
struct TextCursor {
  char* p;

  template <std::size_t N>
  void literal(const char (&text)[N]) {
    std::memcpy(p, text, N - 1);
    p += N - 1;
  }
  void text(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void uint(std::uint64_t value) { p = write_uint(p, value); }
  // femtoseconds as microseconds: up to nine decimals, trailing zeros dropped (as
  // append_microseconds in traces/trace_filter.h).
  void micros(std::uint64_t fs) {
    constexpr std::uint64_t kFsPerUs = 1'000'000'000;
    uint(fs / kFsPerUs);
    std::uint64_t fraction = fs % kFsPerUs;
    if (fraction == 0) return;
    char digits[9];  // the fraction as exactly nine digits, leading zeros kept
    char* end = std::to_chars(digits, digits + 9, fraction).ptr;
    const auto written = static_cast<std::size_t>(end - digits);
    std::memmove(digits + (9 - written), digits, written);
    std::memset(digits, '0', 9 - written);
    int len = 9;
    while (digits[len - 1] == '0') --len;
    *p++ = '.';
    std::memcpy(p, digits, static_cast<std::size_t>(len));
    p += len;
  }
};

inline std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace lpusim
