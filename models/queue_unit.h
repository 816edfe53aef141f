// One in-order instruction queue (MEM, VXM, MXM, ... one per row of the unit table). Time is kept
// locally and handed to SystemC only where queues meet (a WAIT that must block), so a run costs
// about one context switch per blocking WAIT instead of one per instruction. Every executed
// instruction is reported to the run's event sinks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <systemc>

#include "kernels/isa.h"
#include "kernels/program.h"
#include "models/chip_interfaces.h"
#include "models/run_context.h"

namespace lpusim {

class QueueUnit : public sc_core::sc_module {
 public:
  sc_core::sc_port<DispatchIf> dispatch;
  sc_core::sc_port<MemoryChannelIf> memory;

  SC_HAS_PROCESS(QueueUnit);
  QueueUnit(const sc_core::sc_module_name& name, Unit unit);

  // Runs this queue of ctx.program from ctx.start_fs once the kernel runs; `ctx` lives until the
  // run is over.
  void start(const RunContext& ctx);
  bool done() const { return done_; }
  // The instruction it stopped at when not done (a deadlock or an overflow).
  std::size_t blocked_at() const { return blocked_at_; }
  Unit unit() const { return unit_; }

 private:
  void main();
  void run_queue();
  bool execute(std::uint32_t index, const Instruction& inst);
  bool on_chip(const Instruction& inst) const;
  Femtoseconds occupy(const UnitCost& cost);
  bool overflowed(std::uint32_t index, const Instruction& inst);

  Unit unit_;
  const RunContext* ctx_ = nullptr;
  Femtoseconds local_ = 0;
  Femtoseconds completed_ = 0;
  bool done_ = false;
  std::size_t blocked_at_ = 0;
  sc_core::sc_event start_event_;
};

}  // namespace lpusim
