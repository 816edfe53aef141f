// Unit-carrying value types shared by every layer: a number that crosses a function boundary
// says its unit in its type. Plain structs, no implicit conversions between units.
#pragma once

#include <cstdint>

namespace lpusim {

struct Bytes {
  std::uint64_t count = 0;
  constexpr bool operator==(const Bytes& o) const { return count == o.count; }
  constexpr bool operator<(const Bytes& o) const { return count < o.count; }
  constexpr Bytes operator+(const Bytes& o) const { return Bytes{count + o.count}; }
};

struct Cycles {
  std::uint64_t count = 0;
  constexpr bool operator==(const Cycles& o) const { return count == o.count; }
  constexpr bool operator<(const Cycles& o) const { return count < o.count; }
  constexpr Cycles operator+(const Cycles& o) const { return Cycles{count + o.count}; }
};

struct Seconds {
  double value = 0;
};

struct Hertz {
  double value = 0;
  Seconds period() const { return Seconds{1.0 / value}; }
};

struct BytesPerSecond {
  double value = 0;
};

// Converts a cycle count at a clock into seconds.
inline Seconds to_seconds(Cycles c, Hertz clock) {
  return Seconds{static_cast<double>(c.count) / clock.value};
}

}  // namespace lpusim
