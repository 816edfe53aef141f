// VCD recording of the chip's state (docs/TRACES.md), written from the event stream: per queue a
// busy flag and the current opcode (code = opcode + 1, 0 idle), the memory channel's outstanding
// transfers and whether it carries data, and the values of semaphores 0..kVcdSemaphores-1. The
// text is the one SystemC's VCD writer produced for the same signals (same header, identifiers,
// time stamps and value changes), written through an AtomicFile.
//
// Time axis: the first recorded run starts at 0 fs; each later run starts 1 fs after the last
// activity of the one before (its last value change, landing semaphore increment, transfer
// completion or queue end within the window, or the end of the model's own activity).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/chip_events.h"
#include "traces/atomic_file.h"

namespace lpusim {

inline constexpr int kVcdSemaphores = 16;

struct VcdOptions {
  std::string path;                 // the file to write
  Femtoseconds window_from_fs = 0;  // value changes are recorded in [from, to) of each run
  Femtoseconds window_to_fs = std::numeric_limits<Femtoseconds>::max();
  std::string version;  // the text of the $version block (the simulation kernel's version)
};

class VcdSink : public ChipEventSink {
 public:
  // Opens the output (see AtomicFile); throws InputError naming the path when it cannot.
  explicit VcdSink(VcdOptions options);
  ~VcdSink() override;
  VcdSink(const VcdSink&) = delete;
  VcdSink& operator=(const VcdSink&) = delete;

  void on_run_begin(const RunBegin& run) override;
  void on_instruction(const InstructionEvent& event) override;
  void on_run_end(const RunEnd& run) override;
  // Writes the closing time stamp and puts the file in place; throws InputError on a write error.
  void finish();

 private:
  struct Signal {
    std::string scope;
    std::string name;
    int width = 1;
    bool count = false;  // holds a count, shown as 1 while it is positive
  };
  struct Change {
    Femtoseconds at = 0;
    std::uint32_t signal = 0;
    bool add = false;  // add `value` (else set to it)
    std::int64_t value = 0;
  };
  void set(std::uint32_t signal, Femtoseconds at, std::int64_t value);
  void add(std::uint32_t signal, Femtoseconds at, std::int64_t delta);
  void write_group(Femtoseconds at);
  void initialize();
  void write_value(std::string& out, std::size_t signal, std::int64_t value) const;
  std::int64_t shown(std::size_t signal, std::int64_t value) const;

  VcdOptions options_;
  AtomicFile file_;
  std::vector<Signal> signals_;
  std::vector<std::string> ids_;
  std::uint32_t first_semaphore_ = 0;
  std::uint32_t outstanding_ = 0;
  std::uint32_t channel_busy_ = 0;
  std::vector<std::int64_t> timeline_;  // each signal's value ignoring the window
  std::vector<std::int64_t> current_;   // each signal's recorded value
  std::vector<std::int64_t> printed_;   // each signal's value last written
  std::vector<Change> changes_;         // this run's, from its start
  std::vector<Femtoseconds> queue_end_;
  Femtoseconds run_start_ = 0;  // on the file's time axis
  Femtoseconds next_start_ = 0;
  Femtoseconds last_time_ = 0;
  int runs_ = 0;
  bool initialized_ = false;
  bool finished_ = false;
};

}  // namespace lpusim
