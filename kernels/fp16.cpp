// IEEE 754 binary16 and bfloat16 conversions by bit manipulation: round to nearest, ties to even,
// with subnormals, infinities and NaN payloads handled exactly (no dependence on F16C).
#include "kernels/fp16.h"

#include <cstring>

namespace lpusim {
namespace {

constexpr std::uint16_t kFp16Sign = 0x8000;
constexpr std::uint16_t kFp16Inf = 0x7C00;
constexpr std::uint16_t kFp16QuietBit = 0x0200;
constexpr int kFp16MantissaBits = 10;
constexpr int kFp16ExponentBias = 15;

std::uint32_t bits_of(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_of(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Shifts `mantissa` right by `shift` bits (1..63), rounding to nearest, ties to even.
std::uint64_t shift_right_rne(std::uint64_t mantissa, int shift) {
  if (shift >= 64) return 0;  // below half of the smallest subnormal: rounds to zero
  const std::uint64_t kept = mantissa >> shift;
  const std::uint64_t rest = mantissa & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t half = std::uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) return kept + 1;
  return kept;
}

// Rounds a finite nonzero value sign * significand * 2^exponent (significand an integer with
// its top bit at position `top`) to binary16 bits. The carry of a rounding up walks naturally
// into the exponent field (and into infinity past 65504).
std::uint16_t round_to_fp16(std::uint16_t sign, std::uint64_t significand, int top, int exponent) {
  // Unbiased exponent of the leading bit.
  const int lead = exponent + top;
  if (lead > kFp16ExponentBias) return sign | kFp16Inf;  // >= 65536: overflows even rounded
  int field_exponent = lead + kFp16ExponentBias;         // biased
  int shift;
  if (field_exponent >= 1) {
    shift = top - kFp16MantissaBits;  // keep 11 bits incl. the leading one
  } else {
    // Subnormal: the value is m * 2^-24; shift so the kept bits are in units of 2^-24.
    shift = -24 - exponent;
    field_exponent = 0;
  }
  std::uint64_t kept;
  if (shift > 0) {
    kept = shift_right_rne(significand, shift);
  } else {
    kept = significand << -shift;
  }
  if (field_exponent == 0) return static_cast<std::uint16_t>(sign | kept);  // kept <= 0x400
  // Normal: kept in [0x400, 0x800]; subtract the implicit bit and add the exponent. A carry to
  // 0x800 increments the exponent, and exponent 31 with mantissa 0 is infinity.
  const std::uint64_t bits =
      (static_cast<std::uint64_t>(field_exponent - 1) << kFp16MantissaBits) + kept;
  if (bits >= kFp16Inf) return sign | kFp16Inf;
  return static_cast<std::uint16_t>(sign | bits);
}

int top_bit(std::uint64_t x) { return 63 - __builtin_clzll(x); }

}  // namespace

std::uint16_t float_to_fp16(float value) {
  const std::uint32_t bits = bits_of(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & kFp16Sign);
  const std::uint32_t exponent = (bits >> 23) & 0xFF;
  const std::uint32_t mantissa = bits & 0x7FFFFF;
  if (exponent == 0xFF) {
    if (mantissa == 0) return sign | kFp16Inf;
    // NaN: keep the top payload bits; a payload that would vanish becomes the quiet NaN.
    auto payload = static_cast<std::uint16_t>(mantissa >> 13);
    if (payload == 0) payload = kFp16QuietBit;
    return sign | kFp16Inf | payload;
  }
  if (exponent == 0 && mantissa == 0) return sign;
  if (exponent == 0) {  // float subnormal: far below fp16's smallest subnormal
    return round_to_fp16(sign, mantissa, top_bit(mantissa), -149);
  }
  return round_to_fp16(sign, mantissa | 0x800000, 23, static_cast<int>(exponent) - 150);
}

std::uint16_t double_to_fp16(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const auto sign = static_cast<std::uint16_t>((bits >> 48) & kFp16Sign);
  const std::uint64_t exponent = (bits >> 52) & 0x7FF;
  const std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  if (exponent == 0x7FF) {
    if (mantissa == 0) return sign | kFp16Inf;
    auto payload = static_cast<std::uint16_t>(mantissa >> 42);
    if (payload == 0) payload = kFp16QuietBit;
    return sign | kFp16Inf | payload;
  }
  if (exponent == 0 && mantissa == 0) return sign;
  if (exponent == 0) return sign;  // double subnormal (< 2^-1022): rounds to zero
  return round_to_fp16(sign, mantissa | (std::uint64_t{1} << 52), 52,
                       static_cast<int>(exponent) - 1075);
}

float fp16_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & kFp16Sign) << 16;
  const std::uint32_t exponent = (bits >> kFp16MantissaBits) & 0x1F;
  const std::uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0x1F) return float_of(sign | 0x7F800000 | (mantissa << 13));
  if (exponent != 0) return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_of(sign);
  // Subnormal: mantissa * 2^-24, exact in float.
  const int top = top_bit(mantissa);  // 0..9
  const std::uint32_t float_exponent = static_cast<std::uint32_t>(top - 24 + 127);
  const std::uint32_t float_mantissa = (mantissa << (23 - top)) & 0x7FFFFF;
  return float_of(sign | (float_exponent << 23) | float_mantissa);
}

float bf16_to_float(std::uint16_t bits) { return float_of(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t float_to_bf16(float value) {
  const std::uint32_t bits = bits_of(value);
  if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x7FFFFF) != 0) {
    auto high = static_cast<std::uint16_t>(bits >> 16);
    if ((high & 0x7F) == 0) high |= 0x40;  // payload lost in the low half: quiet NaN
    return high;
  }
  // Round to nearest even on the low 16 bits; a carry walks into the exponent (and to inf).
  const std::uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

}  // namespace lpusim
