// Simulated time as integer femtoseconds: exact for memory transfers (64 B at 80 GB/s = 800,000
// fs) and within 1e-7 of the clock period at any clock in MHz-GHz. Plain C++, no SystemC.
// A 64-bit count holds about 18,446 s; arithmetic on times saturates (never wraps) and a saturated
// time is reported as a SimulationError (exit 3) naming what overflowed.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "kernels/error.h"
#include "kernels/int_math.h"
#include "kernels/quantity.h"

namespace lpusim {

using Femtoseconds = std::uint64_t;
inline constexpr double kFemtosecondsPerSecond = 1e15;
// The largest representable time; a saturated result equals it and counts as an overflow.
inline constexpr Femtoseconds kMaxFemtoseconds = std::numeric_limits<Femtoseconds>::max();
// 2^64 as a double: the first time a 64-bit femtosecond count cannot hold.
inline constexpr double kFemtosecondLimit = 18446744073709551616.0;

// a + b, or the maximum when the sum does not fit.
inline constexpr std::uint64_t add_saturated(std::uint64_t a, std::uint64_t b) {
  return b > kMaxFemtoseconds - a ? kMaxFemtoseconds : a + b;
}
// a * b, or the maximum when the product does not fit. The overflow flag of the multiply, not a
// 64-bit division: the engine saturates several products per instruction it runs.
inline constexpr std::uint64_t mul_saturated(std::uint64_t a, std::uint64_t b) {
  static_assert(kMaxFemtoseconds == std::numeric_limits<std::uint64_t>::max());
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kMaxFemtoseconds : product;
}
// A non-negative double rounded up to a whole count, saturated at the maximum (NaN saturates).
inline std::uint64_t ceil_to_count_saturated(double value) {
  if (!(value < kFemtosecondLimit)) return kMaxFemtoseconds;
  return value <= 0 ? 0 : static_cast<std::uint64_t>(std::ceil(value));
}

// The message of every time overflow: "simulated time exceeds the representable 18,446 s
// (2^64 fs): <what>".
inline std::string time_overflow_message(std::string_view what) {
  return "simulated time exceeds the representable 18,446 s (2^64 fs): " + std::string(what);
}

// a + b; a SimulationError naming `what` when the sum does not fit.
inline Femtoseconds add_checked(Femtoseconds a, Femtoseconds b, std::string_view what) {
  const Femtoseconds sum = add_saturated(a, b);
  if (sum == kMaxFemtoseconds) throw SimulationError(time_overflow_message(what));
  return sum;
}
// a * b; a SimulationError naming `what` when the product does not fit.
inline Femtoseconds mul_checked(Femtoseconds a, std::uint64_t b, std::string_view what) {
  const Femtoseconds product = mul_saturated(a, b);
  if (product == kMaxFemtoseconds) throw SimulationError(time_overflow_message(what));
  return product;
}

// Seconds rounded to the nearest femtosecond, saturated at the maximum (negative and NaN give 0
// and the maximum respectively).
inline Femtoseconds seconds_to_fs(double seconds) {
  const double fs = std::round(seconds * kFemtosecondsPerSecond);
  if (!(fs < kFemtosecondLimit)) return kMaxFemtoseconds;
  return fs <= 0 ? 0 : static_cast<Femtoseconds>(fs);
}
inline double fs_to_seconds(Femtoseconds fs) {
  return static_cast<double>(fs) / kFemtosecondsPerSecond;
}

// The chip clock: converts whole cycles to femtoseconds and back.
class Clock {
 public:
  // A SimulationError when the period does not round to a whole femtosecond count in [1, 2^64).
  explicit Clock(Hertz frequency)
      : frequency_(frequency), period_fs_(seconds_to_fs(1.0 / frequency.value)) {
    if (period_fs_ == 0 || period_fs_ == kMaxFemtoseconds) {
      char hz[32];
      std::snprintf(hz, sizeof hz, "%g", frequency.value);
      throw SimulationError("a clock of " + std::string(hz) +
                            " Hz has a period that 64-bit femtoseconds cannot represent (1 fs to "
                            "18,446 s, i.e. about 5.4e-5 Hz to 1e15 Hz)");
    }
  }
  Femtoseconds period_fs() const { return period_fs_; }
  // Saturates at the maximum time (reported as an overflow by the caller).
  Femtoseconds cycles_to_fs(std::uint64_t cycles) const {
    return mul_saturated(cycles, period_fs_);
  }
  // Whole cycles elapsed by `fs`, rounded up (a partly used cycle counts).
  std::uint64_t fs_to_cycles_ceil(Femtoseconds fs) const { return ceil_div(fs, period_fs_); }
  Hertz frequency() const { return frequency_; }

 private:
  Hertz frequency_;
  Femtoseconds period_fs_;
};

}  // namespace lpusim
