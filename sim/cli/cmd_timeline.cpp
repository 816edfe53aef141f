// `lpusim timeline`: draws one run of a trace written with --trace as a Gantt-style SVG (a row
// per unit, slices colored by opcode class, waits in grey, a time axis and a legend).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>
#include <memory>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/config/units.h"
#include "sim/io/output_file.h"
#include "traces/timeline_svg.h"

namespace lpusim {

namespace {

struct TimelineCommandOptions {
  std::string trace;
  std::string output;
  std::string window;  // FROM:TO
  std::string span;    // a time: the axis length
  std::string title;
  int process = 1;
  int width = 1200;
};

// A time in seconds units ("10us", "1.5 ms"); cycles are not known to a trace file.
Femtoseconds parse_time_option(const std::string& text, const char* flag) {
  const SourceLocation where{"", 0, flag};
  const Duration d = parse_duration(text, where);
  if (d.in_cycles || !(d.value >= 0)) {
    throw InputError(where, "expected a time like \"10us\", got \"" + text + "\"");
  }
  constexpr double kFsRange = 18446744073709551616.0;  // 2^64
  const double fs = std::round(d.value * kFemtosecondsPerSecond);
  if (!(fs < kFsRange)) {
    throw InputError(where, fmt::format("expected a time of at most {} us (the simulated time "
                                        "range), got \"{}\"",
                                        microseconds_text(kEndOfTime), text));
  }
  return static_cast<Femtoseconds>(fs);
}

void apply_window(const std::string& text, TimelineOptions& o) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) {
    throw InputError(SourceLocation{"", 0, "--window"},
                     "expected FROM:TO like \"10us:20us\", got \"" + text + "\"");
  }
  if (colon > 0) o.from_fs = parse_time_option(text.substr(0, colon), "--window");
  if (colon + 1 < text.size()) o.to_fs = parse_time_option(text.substr(colon + 1), "--window");
  if (o.from_fs && o.to_fs && *o.to_fs <= *o.from_fs) {
    throw InputError(SourceLocation{"", 0, "--window"},
                     "expected FROM before TO, got \"" + text + "\"");
  }
}

int run_timeline(const TimelineCommandOptions& options) {
  check_output_path(options.output, "-o");
  TimelineOptions o;
  if (!options.window.empty()) apply_window(options.window, o);
  if (!options.span.empty()) o.span_fs = parse_time_option(options.span, "--span");
  o.process = options.process;
  o.title = options.title;
  o.width_px = options.width;
  write_file_atomically(options.output, render_timeline_svg(options.trace, o), "-o");
  return 0;
}

}  // namespace

// Flag ranges: the width range is the renderer's (traces/timeline_svg.h); 100,000 px bounds the
// SVG's size; runs are numbered by 32-bit trace pids.
constexpr int kMaxProcess = std::numeric_limits<int>::max();

CommandRunner add_timeline_command(CLI::App& app) {
  auto options = std::make_shared<TimelineCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "timeline", "draw a trace written with --trace as a Gantt-style SVG picture");
  command->add_option("trace", options->trace, "the trace (.json or .json.gz)")->required();
  command->add_option("-o,--output", options->output, "the SVG file to write")->required();
  command->add_option("--window", options->window,
                      "the time to draw, FROM:TO from the run's start (default: all of it)");
  command->add_option("--span", options->span,
                      "draw this much time from the window's start (same scale side by side)");
  add_integer_option(*command, "--process", options->process, 1, kMaxProcess,
                     "the run to draw: 1 for the first run of the trace (default), 2 ...");
  command->add_option("--title", options->title, "the picture's title (default: the run's name)");
  add_integer_option(*command, "--width", options->width, kMinTimelineWidthPx, kMaxTimelineWidthPx,
                     "width in pixels (default 1200)");
  return [options] { return run_timeline(*options); };
}

}  // namespace lpusim
