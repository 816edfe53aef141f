// Integer helpers shared by the kernel generators, the cost models and the simulator.
#pragma once

#include <cstdint>

namespace lpusim {

// ceil(a / b) for b > 0. Written as a / b plus one for a remainder, so it never overflows, even
// for a saturated a (the form (a + b - 1) / b wraps for a near the top of the range).
constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// a rounded up to a multiple of b, for b > 0 (a + b must not overflow).
constexpr std::uint64_t round_up(std::uint64_t a, std::uint64_t b) { return ceil_div(a, b) * b; }

}  // namespace lpusim
