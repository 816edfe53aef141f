// The trace options of every simulating command (--trace, --trace-window, --trace-layers,
// --trace-merge, --trace-limit, --vcd) and the session that writes those traces for its runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/quantity.h"
#include "traces/chrome_trace.h"
#include "traces/chrome_trace_run.h"
#include "traces/vcd_sink.h"

namespace CLI {
class App;
}

namespace lpusim {

struct TraceOptions {
  std::string trace;   // --trace FILE.json (FILE.json.gz: gzip)
  std::string window;  // --trace-window FROM:TO
  std::string layers;  // --trace-layers A-B
  bool merge = false;  // --trace-merge
  std::uint64_t limit = kDefaultTraceEventLimit;
  std::string vcd;  // --vcd FILE.vcd

  bool any() const { return !trace.empty() || !vcd.empty(); }
};

void add_trace_options(CLI::App& command, TraceOptions& options);

// "10us:20us", ":5ms" (from the start), "1ms:" (to the end); times as in the configs ("100 ns",
// "90 cycles" at `clock`). Throws InputError naming --trace-window.
TimeWindow parse_trace_window(const std::string& text, Hertz clock);
// "3-5" or "7" (one layer). Throws InputError naming --trace-layers.
LayerRange parse_trace_layers(const std::string& text);

class Simulation;

// Writes the requested traces of a command's runs: each run of the chip becomes a process of the
// JSON trace; the VCD file records every run. Files appear only when finish() completes.
class TraceSession {
 public:
  // Validates the options and output paths and opens the files, before anything is simulated;
  // throws InputError (exit 2). `clock` converts cycle counts in --trace-window.
  TraceSession(const TraceOptions& options, Hertz clock);
  ~TraceSession();  // removes the files of an unfinished session
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  // Records every later run of `simulation` (until finish() or destruction, which detach from it:
  // `simulation` must outlive the session, so declare it first).
  void attach(Simulation& simulation);
  // Completes the files and puts them in place (see AtomicFile); warns on stderr when the event
  // limit cut the JSON trace short.
  void finish();

 private:
  void open_vcd(const TraceOptions& options, const TraceFilter& filter);
  void detach();

  std::unique_ptr<ChromeTraceWriter> json_;
  std::unique_ptr<ChromeTraceSink> json_sink_;
  std::unique_ptr<VcdSink> vcd_;
  Simulation* simulation_ = nullptr;
};

// A session when the options ask for a trace, else null; checks that the window and layer
// options come with a trace.
std::unique_ptr<TraceSession> open_trace_session(const TraceOptions& options, Hertz clock);

}  // namespace lpusim
