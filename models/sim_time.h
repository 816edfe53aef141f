// Simulated time as integer femtoseconds: exact for memory transfers (64 B at 80 GB/s = 800,000
// fs) and within 1e-7 of the clock period at any clock in MHz-GHz. Plain C++, no SystemC.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/quantity.h"

namespace lpusim {

using Femtoseconds = std::uint64_t;
inline constexpr double kFemtosecondsPerSecond = 1e15;

inline Femtoseconds seconds_to_fs(double seconds) {
  return static_cast<Femtoseconds>(std::llround(seconds * kFemtosecondsPerSecond));
}
inline double fs_to_seconds(Femtoseconds fs) {
  return static_cast<double>(fs) / kFemtosecondsPerSecond;
}

// The chip clock: converts whole cycles to femtoseconds and back.
class Clock {
 public:
  explicit Clock(Hertz frequency)
      : frequency_(frequency), period_fs_(seconds_to_fs(1.0 / frequency.value)) {}
  Femtoseconds period_fs() const { return period_fs_; }
  Femtoseconds cycles_to_fs(std::uint64_t cycles) const { return cycles * period_fs_; }
  // Whole cycles elapsed by `fs`, rounded up (a partly used cycle counts).
  std::uint64_t fs_to_cycles_ceil(Femtoseconds fs) const {
    return (fs + period_fs_ - 1) / period_fs_;
  }
  Hertz frequency() const { return frequency_; }

 private:
  Hertz frequency_;
  Femtoseconds period_fs_;
};

}  // namespace lpusim
