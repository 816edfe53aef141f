// Perfetto / Chrome Trace Event JSON written while the chip runs, in bounded memory: one process
// per run of the chip, a track per unit queue, its waits and the memory channel (docs/TRACES.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "traces/trace_filter.h"
#include "traces/trace_sink.h"

namespace lpusim {

inline constexpr std::uint64_t kDefaultTraceEventLimit = 1'000'000;

struct ChromeTraceOptions {
  TraceFilter filter;
  bool merge = false;  // runs of identical back-to-back slices become one slice with a count
  std::uint64_t event_limit = kDefaultTraceEventLimit;
};

// Track ids (Chrome "tid") of each run's process, in display order, from the unit table: each
// queue's busy track is followed by its sync track (WAIT, NOTIFY, stalls on a full channel); the
// memory channel's track comes last.
inline constexpr int busy_track(Unit unit) { return 1 + 2 * static_cast<int>(unit); }
inline constexpr int sync_track(Unit unit) { return busy_track(unit) + 1; }
inline constexpr int kTrackMemoryChannel = 1 + 2 * kUnitCount;
inline constexpr int kTraceTrackCount = kTrackMemoryChannel;
// The unit's name for a busy track, its sync track name ("mem sync") for a sync track, "memory
// channel", or "" for an id that is no track.
std::string_view trace_track_name(int track);

class ChromeTraceRun;

class ChromeTraceWriter {
 public:
  // Creates the temporary file and writes the header; throws InputError when it cannot.
  ChromeTraceWriter(const std::string& path, ChromeTraceOptions options);
  ~ChromeTraceWriter();
  ChromeTraceWriter(const ChromeTraceWriter&) = delete;
  ChromeTraceWriter& operator=(const ChromeTraceWriter&) = delete;

  // Records the next run of the chip as a new process named "<hw name>: <label>".
  std::unique_ptr<ChromeTraceRun> begin_run(const Program& program, const HwConfig& hw,
                                            const std::string& label);
  // Writes the trace's metadata, closes the file and renames it into place.
  void finish();

  const ChromeTraceOptions& options() const { return options_; }
  const std::string& path() const { return sink_.path(); }
  std::uint64_t events() const { return events_; }
  bool truncated() const { return truncated_; }
  // What the event limit cut off, for stderr and the metadata; "" when nothing was.
  std::string truncation_note() const;

 private:
  friend class ChromeTraceRun;
  // Starts a counted event at at_fs of run `pid` with room for `bytes` and returns where to
  // write its members, or nullptr when it is dropped. Past the limit only events of the
  // truncated run that lie before its cut are still written (they complete the picture up to
  // the cut); `cut_fs` is the cut to use if this call is the one that reaches the limit.
  char* begin_event(int pid, Femtoseconds at_fs, Femtoseconds cut_fs, const std::string& label,
                    std::size_t bytes);
  void end_event(char* end) {
    *end++ = '}';
    sink_.commit(end);
  }
  // An event that is always written and not counted (metadata): its members, without braces.
  void write_uncounted_event(std::string_view members);
  void write_truncation_marker();
  // The JSON string of instruction_name(inst) ("SHR.u16"), cached.
  const std::string& instruction_text(const Instruction& inst);
  std::string metadata_json() const;

  ChromeTraceOptions options_;
  TraceSink sink_;
  bool first_event_ = true;
  int runs_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t dropped_ = 0;
  bool truncated_ = false;
  int truncated_pid_ = 0;
  Femtoseconds cut_fs_ = 0;
  std::string truncated_label_;
  std::vector<std::string> names_;  // by (opcode, type, src_type)
};

}  // namespace lpusim
