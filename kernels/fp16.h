// IEEE 754 binary16 and bfloat16 conversions, round to nearest even, exact on the values they
// can represent.
#pragma once

#include <cstdint>

namespace lpusim {

// The largest finite binary16 value; anything of larger magnitude rounds to infinity or past it.
inline constexpr float kFp16Max = 65504.0f;

std::uint16_t float_to_fp16(float value);
// Rounds a double straight to binary16 (one rounding, not double -> float -> fp16, which could
// round twice). The quantizer rounds its scales and offsets with it.
std::uint16_t double_to_fp16(double value);
float fp16_to_float(std::uint16_t bits);  // exact; NaN payloads kept
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);

}  // namespace lpusim
