// A Gantt-style SVG of one run of a Chrome trace written by lpusim: a row per unit (mem, vxm,
// mxm, memory channel), slices colored by opcode class, waits in grey, a time axis and a legend.
#pragma once

#include <optional>
#include <string>

#include "traces/trace_filter.h"

namespace lpusim {

// Picture widths: below 400 px the legend and labels overlap; 100,000 px bounds the per-pixel
// coverage table (a few MB) and is far beyond any screen.
inline constexpr int kMinTimelineWidthPx = 400;
inline constexpr int kMaxTimelineWidthPx = 100'000;

struct TimelineOptions {
  int process = 1;                      // the trace's pid (run) to draw
  std::optional<Femtoseconds> from_fs;  // the axis; unset: the first recorded event
  std::optional<Femtoseconds> to_fs;    // unset: the last recorded event's end
  std::optional<Femtoseconds> span_fs;  // the axis length, from `from` (for pictures side by side)
  std::string title;                    // empty: the run's process name
  int width_px = 1200;                  // kMinTimelineWidthPx..kMaxTimelineWidthPx
};

// Reads `trace_path` (streaming; twice when the axis needs the trace's extent) and returns the
// SVG text. Throws InputError when the trace cannot be read or holds nothing for the process, or
// the width is out of range.
std::string render_timeline_svg(const std::string& trace_path, const TimelineOptions& options);

}  // namespace lpusim
