#include "traces/unit_stats_sink.h"

#include <algorithm>

namespace lpusim {

void UnitStatsSink::on_run_begin(const RunBegin& run) {
  start_fs_ = run.start_fs;
  units_ = {};
}

void UnitStatsSink::add_busy(UnitStats& s, Femtoseconds begin, Femtoseconds end) const {
  s.busy_fs += end - begin;
  s.busy.add(start_fs_ + begin, start_fs_ + end);
}

// Busy: a NOP or a compute instruction for its occupancy, a LOAD/STORE for its issue slot; WAIT
// and NOTIFY never. Waiting: a WAIT until it took its semaphore, a LOAD/STORE until a slot freed.
void UnitStatsSink::on_instruction(const InstructionEvent& e) {
  UnitStats& s = units_[static_cast<std::size_t>(e.unit)];
  ++s.instructions;
  switch (e.inst->opcode) {
    case Opcode::kNotify:
      break;
    case Opcode::kWait:
      s.wait_fs += e.waited_fs;
      break;
    case Opcode::kLoad:
    case Opcode::kStore:
      if (e.on_channel) {
        s.wait_fs += e.start_fs - e.issue_fs;
        add_busy(s, e.start_fs, e.end_fs);
        break;
      }
      [[fallthrough]];  // a copy within SRAM: busy for its occupancy
    default:
      add_busy(s, e.issue_fs, e.end_fs);
      s.sram_bytes += e.cost.sram_bytes;
      s.alu_ops += e.cost.alu_ops;
      s.macs += e.cost.macs;
      break;
  }
  s.finish_fs = std::max({s.finish_fs, e.end_fs, e.complete_fs});
}

}  // namespace lpusim
