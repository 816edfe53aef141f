// What a trace records: a window of simulated time (from each run's start) and a range of layers
// (instruction tags "layerN.*"). Plain C++; the JSON and VCD writers both apply it.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "models/sim_time.h"

namespace lpusim {

inline constexpr Femtoseconds kEndOfTime = std::numeric_limits<Femtoseconds>::max();

struct TimeWindow {
  Femtoseconds from_fs = 0;
  Femtoseconds to_fs = kEndOfTime;  // exclusive

  bool whole() const { return from_fs == 0 && to_fs == kEndOfTime; }
  // [start, end) overlaps the window; a zero-length slice counts when start lies inside.
  bool overlaps(Femtoseconds start, Femtoseconds end) const {
    if (start == end) return start >= from_fs && start < to_fs;
    return start < to_fs && end > from_fs;
  }
  bool contains(Femtoseconds t) const { return t >= from_fs && t < to_fs; }
};

struct LayerRange {
  int first = 0;
  int last = 0;  // inclusive
};

// The layer number of a tag "layer12.mlp.down" (12), or nullopt for tags outside the layers
// ("embedding", "lm_head", "").
std::optional<int> layer_of_tag(std::string_view tag);

struct TraceFilter {
  TimeWindow window;
  std::optional<LayerRange> layers;  // unset: every instruction, tagged or not

  bool selects_layer(std::optional<int> layer) const {
    if (!layers) return true;
    return layer && *layer >= layers->first && *layer <= layers->last;
  }
  // "window 10 us .. 20 us, layers 3-4" for messages and trace metadata.
  std::string describe() const;
};

// Microseconds with up to nine decimals (exact to the femtosecond), trailing zeros dropped:
// 1111111 fs -> "0.001111111", 2000000000 fs -> "2". Appended to `out`.
void append_microseconds(std::string& out, Femtoseconds fs);
std::string microseconds_text(Femtoseconds fs);

// Parses a decimal number of microseconds as written by append_microseconds ("12.5",
// "0.001111111", "3e-3" too) into femtoseconds, rounding to the nearest femtosecond; nullopt for
// text that is not such a number or a time beyond 2^64 - 1 fs (about 18,447 s).
std::optional<Femtoseconds> parse_microseconds(std::string_view text);

}  // namespace lpusim
