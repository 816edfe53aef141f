#include "sim/cli/trace_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>

#include "kernels/error.h"
#include "sim/cli/cli_common.h"
#include "sim/config/units.h"
#include "sim/engine/simulation.h"
#include "sim/io/output_file.h"

namespace lpusim {

namespace {

const SourceLocation kWindowFlag{"", 0, "--trace-window"};
const SourceLocation kLayersFlag{"", 0, "--trace-layers"};
// About 10 GB of trace JSON: beyond what the viewers or the disk are expected to take.
constexpr std::uint64_t kMaxTraceEventLimit = 100'000'000;

Femtoseconds parse_time(std::string_view text, Hertz clock) {
  const Duration d = parse_duration(text, kWindowFlag);
  if (d.value < 0)
    throw InputError(kWindowFlag, "expected a time >= 0, got \"" + std::string(text) + "\"");
  return seconds_to_fs(d.seconds_at(clock).value);
}

int parse_layer(std::string_view text) {
  const std::int64_t layer = parse_count(text, kLayersFlag);
  if (layer < 0 || layer > std::numeric_limits<int>::max()) {
    throw InputError(kLayersFlag,
                     "expected a layer number >= 0, got \"" + std::string(text) + "\"");
  }
  return static_cast<int>(layer);
}

}  // namespace

void add_trace_options(CLI::App& command, TraceOptions& options) {
  command.add_option("--trace", options.trace,
                     "write a Perfetto / Chrome trace of the run (FILE.json, or FILE.json.gz)");
  command.add_option("--trace-window", options.window,
                     "record only FROM:TO of simulated time from each run's start, e.g. "
                     "10us:20us (either side may be left out)");
  command.add_option("--trace-layers", options.layers,
                     "record only the instructions of layers A-B (or one layer A)");
  command.add_flag("--trace-merge", options.merge,
                   "merge runs of identical back-to-back instructions into one slice with a count");
  add_integer_option(command, "--trace-limit", options.limit, 1, kMaxTraceEventLimit,
                     "record at most N events, the first ones (default 1000000)");
  command.add_option("--vcd", options.vcd,
                     "write a VCD file of the units' busy flags and opcodes, the memory channel "
                     "and the semaphores (FILE.vcd, for GTKWave)");
}

TimeWindow parse_trace_window(const std::string& text, Hertz clock) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
    throw InputError(kWindowFlag, "expected FROM:TO like \"10us:20us\", got \"" + text + "\"");
  }
  TimeWindow window;
  const std::string from = text.substr(0, colon);
  const std::string to = text.substr(colon + 1);
  if (from.find_first_not_of(' ') != std::string::npos) window.from_fs = parse_time(from, clock);
  if (to.find_first_not_of(' ') != std::string::npos) window.to_fs = parse_time(to, clock);
  if (window.to_fs <= window.from_fs) {
    throw InputError(kWindowFlag, "expected FROM before TO, got \"" + text + "\"");
  }
  return window;
}

LayerRange parse_trace_layers(const std::string& text) {
  const std::size_t dash = text.find('-', 1);
  LayerRange range;
  range.first = parse_layer(text.substr(0, dash));
  range.last = dash == std::string::npos ? range.first : parse_layer(text.substr(dash + 1));
  if (range.last < range.first) {
    throw InputError(kLayersFlag, "expected A-B with A <= B, got \"" + text + "\"");
  }
  return range;
}

TraceSession::TraceSession(const TraceOptions& options, Hertz clock) {
  TraceFilter filter;
  if (!options.window.empty()) filter.window = parse_trace_window(options.window, clock);
  if (!options.layers.empty()) filter.layers = parse_trace_layers(options.layers);
  if (options.trace.empty() && !options.layers.empty()) {
    throw InputError(kLayersFlag,
                     "applies only to --trace (the VCD records the chip's state over time: select "
                     "a part of it with --trace-window)");
  }
  if (options.limit == 0) {
    throw InputError(SourceLocation{"", 0, "--trace-limit"}, "expected at least 1 event, got 0");
  }
  if (!options.trace.empty()) check_output_path(options.trace, "--trace");
  if (!options.vcd.empty()) check_output_path(options.vcd, "--vcd");
  if (!options.trace.empty() && options.trace == options.vcd) {
    throw InputError(options.trace + ": --trace and --vcd name the same file");
  }
  if (!options.trace.empty()) {
    json_ = std::make_unique<ChromeTraceWriter>(
        options.trace, ChromeTraceOptions{filter, options.merge, options.limit});
    json_sink_ = std::make_unique<ChromeTraceSink>(*json_);
  }
  if (!options.vcd.empty()) open_vcd(options, filter);
}

void TraceSession::open_vcd(const TraceOptions& options, const TraceFilter& filter) {
  if (std::filesystem::path(options.vcd).extension() != ".vcd") {
    throw InputError(SourceLocation{"", 0, "--vcd"},
                     "expected a file name ending in .vcd, got \"" + options.vcd + "\"");
  }
  VcdOptions vcd;
  vcd.path = options.vcd;
  vcd.window_from_fs = filter.window.from_fs;
  vcd.window_to_fs = filter.window.to_fs;
  vcd.version = Simulation::kernel_version();
  vcd_ = std::make_unique<VcdSink>(vcd);
}

TraceSession::~TraceSession() { detach(); }

void TraceSession::attach(Simulation& simulation) {
  detach();
  simulation_ = &simulation;
  if (json_sink_) simulation.attach(*json_sink_);
  if (vcd_) simulation.attach(*vcd_);
}

void TraceSession::detach() {
  if (simulation_ == nullptr) return;
  if (json_sink_) simulation_->detach(*json_sink_);
  if (vcd_) simulation_->detach(*vcd_);
  simulation_ = nullptr;
}

void TraceSession::finish() {
  detach();
  if (json_) {
    json_->finish();
    if (json_->truncated()) {
      std::cerr << "lpusim: warning: " << json_->path() << ": " << json_->truncation_note()
                << "; select less with --trace-window or --trace-layers, merge with "
                   "--trace-merge, or raise --trace-limit\n";
    }
  }
  if (vcd_) vcd_->finish();
}

std::unique_ptr<TraceSession> open_trace_session(const TraceOptions& options, Hertz clock) {
  if (!options.any()) {
    for (const auto& [value, flag] : {std::pair{&options.window, "--trace-window"},
                                      std::pair{&options.layers, "--trace-layers"}}) {
      if (!value->empty()) {
        throw InputError(SourceLocation{"", 0, flag}, "applies only with --trace or --vcd");
      }
    }
    if (options.merge) {
      throw InputError(SourceLocation{"", 0, "--trace-merge"}, "applies only with --trace");
    }
    return nullptr;
  }
  return std::make_unique<TraceSession>(options, clock);
}

}  // namespace lpusim
