// The per-queue statistics of a run (UnitStats: instructions, busy and wait time, busy intervals,
// SRAM bytes, ALU operations, MACs, finish time), counted from the instruction events.
#pragma once

#include <array>

#include "models/chip_events.h"
#include "models/chip_result.h"

namespace lpusim {

class UnitStatsSink : public ChipEventSink {
 public:
  void on_run_begin(const RunBegin& run) override;
  void on_instruction(const InstructionEvent& event) override;

  // The statistics of the run since the last on_run_begin.
  std::array<UnitStats, kUnitCount>& units() { return units_; }

 private:
  void add_busy(UnitStats& s, Femtoseconds begin, Femtoseconds end) const;

  Femtoseconds start_fs_ = 0;  // busy intervals are absolute
  std::array<UnitStats, kUnitCount> units_;
};

}  // namespace lpusim
