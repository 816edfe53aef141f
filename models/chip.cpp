#include "models/chip.h"

#include <sstream>

#include "kernels/error.h"
#include "models/asan_stack.h"

namespace lpusim {

Chip::Chip(const sc_core::sc_module_name& name, int index)
    : sc_module(name), index_(index), dispatch_("dispatch"), channel_("memory_channel") {
  for (const UnitInfo& info : unit_table()) {
    queues_.push_back(std::make_unique<QueueUnit>(std::string(info.name).c_str(), info.unit));
    queues_.back()->dispatch.bind(dispatch_);
    queues_.back()->memory.bind(channel_);
  }
}

ChipRunTiming Chip::run(const Program& program, const HwConfig& hw, const ChipRunOptions& options) {
  if (program.sram_bytes() > hw.sram.capacity.count) {
    std::ostringstream out;
    out << "program needs " << program.sram_bytes() << " bytes of SRAM, the chip '" << hw.name
        << "' has " << hw.sram.capacity.count;
    throw SimulationError(out.str());
  }
  ctx_ = RunContext{};
  ctx_.chip = index_;
  ctx_.program = &program;
  ctx_.functional = options.functional;
  ctx_.sinks = options.sinks != nullptr && !options.sinks->empty() ? options.sinks : nullptr;
  ctx_.clock = Clock(hw.clock);
  ctx_.start_fs = now_fs();
  ctx_.issue_fs = ctx_.clock.period_fs() / static_cast<Femtoseconds>(hw.dispatch.issue_per_cycle);
  ctx_.vxm.emplace(hw.vxm, hw.sram);
  ctx_.sram_copy.emplace(hw.sram);
  ctx_.mxm.emplace(hw.mxm);
  dispatch_.reset(program.semaphores, ctx_.start_fs, ctx_.issue_fs);  // a WAIT is one issue slot
  channel_.reset(hw.memory);
  for (const auto& q : queues_) q->start(ctx_);
  sc_core::sc_start();
  restore_asan_stack_bounds();

  bool all_done = true;
  for (const auto& q : queues_) all_done = all_done && q->done();
  if (ctx_.time_overflow) {
    dispatch_.abort();
    sc_core::sc_start();  // let the blocked queues unwind so the chip can run again
    restore_asan_stack_bounds();
    throw SimulationError(*ctx_.time_overflow);
  }
  if (!all_done) {
    const std::string message = describe_deadlock(program);
    dispatch_.abort();
    sc_core::sc_start();  // let the blocked queues unwind so the chip can run again
    restore_asan_stack_bounds();
    throw SimulationError(message);
  }
  ChipRunTiming timing;
  timing.start_fs = ctx_.start_fs;
  timing.quiescent_fs = now_fs() - ctx_.start_fs;
  timing.memory = &channel_.core();
  return timing;
}

std::string Chip::describe_deadlock(const Program& program) {
  std::ostringstream out;
  out << "deadlock: no queue can make progress;";
  for (const auto& q : queues_) {
    if (q->done()) continue;
    const std::vector<Instruction>& queue = program.queue(q->unit());
    const Instruction& inst = queue.at(q->blocked_at());
    out << " queue " << unit_name(q->unit()) << " waits at instruction " << q->blocked_at();
    if (inst.opcode == Opcode::kWait) {
      out << " on semaphore '" << program.semaphores.at(inst.sem).name << "' (value "
          << dispatch_.value_now(inst.sem) << ")";
    }
    out << ";";
  }
  out << " a WAIT has no NOTIFY left that could release it";
  return out.str();
}

}  // namespace lpusim
