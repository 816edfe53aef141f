// One run of the chip recorded into a ChromeTraceWriter: turns the instruction events into
// slices (busy parts on the unit tracks, waits and stalls on the sync tracks, transfers on the
// channel track), applies the window, layer filter and merging, and feeds the channel counters.
// Every time comes from the events; nothing is recomputed here.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/chip_events.h"
#include "traces/chrome_trace.h"
#include "traces/json_text.h"
#include "traces/step_counter.h"

namespace lpusim {

class ChromeTraceRun : public ChipEventSink {
 public:
  ChromeTraceRun(ChromeTraceWriter& writer, int pid, const Program& program, const HwConfig& hw,
                 std::string label);

  void on_instruction(const InstructionEvent& event) override;
  // Writes the slices held for merging and the counters' last samples.
  void finish();

 private:
  enum class Kind : std::uint8_t {
    kNop,
    kVector,
    kMatmul,
    kIssue,
    kTransfer,
    kWait,
    kNotify,
    kStall
  };
  struct Slice {
    Femtoseconds start = 0;
    Femtoseconds end = 0;
    int track = 0;
    Kind kind = Kind::kNop;
    const Instruction* inst = nullptr;
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    std::uint64_t amount = 0;  // bytes (issue, transfer), elements (vector), cycles (nop)
  };

  void write_metadata(const HwConfig& hw);
  void record(const InstructionEvent& event);
  void record_transfer(const InstructionEvent& event);
  void add(const Slice& slice);
  bool mergeable(const Slice& held, const Slice& next) const;
  void write(const Slice& slice);
  void write_args(TextCursor& out, const Slice& slice) const;
  std::string_view semaphore_text(const Slice& slice) const;  // JSON string, or "" for none
  void write_counter(const char* name, const char* key, Femtoseconds at_fs, double value);
  Femtoseconds cut_candidate(Femtoseconds at_fs) const;

  ChromeTraceWriter& writer_;
  int pid_;
  const Program& program_;
  std::string label_;
  TraceFilter filter_;
  bool merge_;
  std::int64_t bandwidth_bps_;  // the channel's rate while it carries data
  std::vector<std::string> tag_json_;
  std::vector<std::optional<int>> tag_layer_;
  std::vector<char> tag_selected_;
  std::vector<std::string> semaphore_json_;
  std::array<std::optional<Slice>, kTraceTrackCount + 1> held_;   // by track, for merging
  std::array<std::optional<Femtoseconds>, kUnitCount> progress_;  // each queue's last end
  StepCounter bandwidth_;
  StepCounter outstanding_;
};

// Records every run of a simulation into one ChromeTraceWriter, each run a process of its own.
class ChromeTraceSink : public ChipEventSink {
 public:
  explicit ChromeTraceSink(ChromeTraceWriter& writer) : writer_(writer) {}
  ~ChromeTraceSink() override;
  void on_run_begin(const RunBegin& run) override;
  void on_instruction(const InstructionEvent& event) override { run_->on_instruction(event); }
  void on_run_end(const RunEnd& run) override;

 private:
  ChromeTraceWriter& writer_;
  std::unique_ptr<ChromeTraceRun> run_;
};

}  // namespace lpusim
