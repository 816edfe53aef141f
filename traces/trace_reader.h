// Reads a Chrome trace written by lpusim (plain JSON or gzip) event by event through a SAX
// parser, so memory stays bounded however large the trace; timestamps come back exact in fs.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "models/sim_time.h"

namespace lpusim {

struct TraceEvent {
  char ph = 0;       // 'X', 'C', 'M', 'i'
  std::string name;  // event name ("SHR.u16", "thread_name", ...)
  std::string cat;   // "vector", "matmul", "issue", "transfer", "wait", ...
  Femtoseconds ts = 0;
  Femtoseconds dur = 0;
  int pid = 0;
  int tid = 0;
  std::string arg_name;  // args.name: what a metadata event names
};

// Calls `on_event` for every element of "traceEvents" and returns the trace's "otherData" (its
// scalar members). Throws InputError naming the file (and the byte where reading stopped) when it
// is not a regular file, cannot be read or is not a trace; when a ts or dur is not a time within
// 0..2^64-1 fs or an event ends beyond it; when nesting passes 32 levels, a token (string,
// number) 64 KiB, a run of whitespace 1 MiB or otherData 256 fields; and when otherData's
// selection/truncation are not strings or merge/truncated not booleans.
nlohmann::json read_chrome_trace(const std::string& path,
                                 const std::function<void(const TraceEvent&)>& on_event);

}  // namespace lpusim
