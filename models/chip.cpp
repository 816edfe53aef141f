#include "models/chip.h"

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <systemc>
#include <vector>

#include "kernels/error.h"
#include "models/compute_cost.h"
#include "models/semaphore_bank.h"

namespace lpusim {

namespace {

sc_core::sc_time fs_time(Femtoseconds fs) {
  return sc_core::sc_time(static_cast<double>(fs), sc_core::SC_FS);
}
Femtoseconds now_fs() { return sc_core::sc_time_stamp().value(); }

// ---- interfaces: one per role ------------------------------------------------------------

class DispatchIf : public virtual sc_core::sc_interface {
 public:
  // A NOTIFY whose increment becomes visible at land_fs (>= the current time).
  virtual void post(std::uint32_t sem, Femtoseconds land_fs) = 0;
  // A WAIT reached at local_fs; returns when the semaphore could be taken, with the time the
  // queue resumes, or nullopt when the run was aborted (deadlock).
  virtual std::optional<Femtoseconds> take(std::uint32_t sem, Femtoseconds local_fs) = 0;
};

class MemoryChannelIf : public virtual sc_core::sc_interface {
 public:
  virtual Femtoseconds issue_slot(Femtoseconds ready_fs) const = 0;
  virtual TransferTiming transfer(Femtoseconds ready_fs, std::uint64_t bytes,
                                  std::uint64_t rows) = 0;
};

// The current run, shared by the modules while sc_start runs.
struct RunContext {
  const Program* program = nullptr;
  ChipRunOptions options;
  Clock clock{Hertz{1e9}};
  Femtoseconds start_fs = 0;
  Femtoseconds issue_fs = 0;  // one dispatch slot
  std::optional<VxmCost> vxm;
  std::optional<MxmCost> mxm;
};

// ---- modules -----------------------------------------------------------------------------

// The instruction dispatch's semaphores: increments land at given times; waiters block on one
// event per semaphore (notified at the landing time) or the run's abort event.
class Dispatch : public sc_core::sc_module, public DispatchIf {
 public:
  explicit Dispatch(const sc_core::sc_module_name& name) : sc_module(name) {}

  void reset(const RunContext& ctx) {
    ctx_ = &ctx;
    bank_.emplace(ctx.program->semaphores, ctx.start_fs);
    events_.clear();
    events_.reserve(ctx.program->semaphores.size());
    for (std::size_t i = 0; i < ctx.program->semaphores.size(); ++i) {
      events_.push_back(std::make_unique<sc_core::sc_event>());
    }
  }
  void abort() { abort_event_.notify(sc_core::SC_ZERO_TIME); }
  std::uint32_t value_now(std::uint32_t sem) const { return bank_->value_at(sem, now_fs()); }

  void post(std::uint32_t sem, Femtoseconds land_fs) override {
    bank_->post(sem, land_fs);
    events_[sem]->notify(fs_time(land_fs - now_fs()));
  }

  std::optional<Femtoseconds> take(std::uint32_t sem, Femtoseconds local_fs) override {
    const Femtoseconds period = ctx_->clock.period_fs();
    if (auto land = bank_->try_take(sem, local_fs)) return std::max(local_fs, *land) + period;
    // Increments landing before local_fs may still be posted by queues behind us: catch up.
    if (local_fs > now_fs()) sc_core::wait(fs_time(local_fs - now_fs()));
    for (;;) {
      if (auto land = bank_->try_take(sem, now_fs())) {
        return std::max(local_fs, *land) + period;
      }
      if (auto next = bank_->earliest_pending(sem)) {
        sc_core::wait(fs_time(*next - now_fs()), *events_[sem] | abort_event_);
      } else {
        sc_core::wait(*events_[sem] | abort_event_);
      }
      if (abort_event_.triggered()) return std::nullopt;
    }
  }

 private:
  const RunContext* ctx_ = nullptr;
  std::optional<SemaphoreBank> bank_;
  std::vector<std::unique_ptr<sc_core::sc_event>> events_;
  sc_core::sc_event abort_event_;
};

// The off-chip memory channel, a shell around MemoryChannelCore.
class MemoryChannel : public sc_core::sc_module, public MemoryChannelIf {
 public:
  explicit MemoryChannel(const sc_core::sc_module_name& name) : sc_module(name) {}
  void reset(const MemoryConfig& config) { core_.emplace(config); }
  const MemoryChannelCore& core() const { return *core_; }

  Femtoseconds issue_slot(Femtoseconds ready_fs) const override {
    return core_->issue_slot_fs(ready_fs);
  }
  TransferTiming transfer(Femtoseconds ready_fs, std::uint64_t bytes, std::uint64_t rows) override {
    return core_->schedule(ready_fs, bytes, rows);
  }

 private:
  std::optional<MemoryChannelCore> core_;
};

// One in-order instruction queue (MEM, VXM or MXM). Time is kept locally and handed to SystemC
// only where queues meet (a WAIT that must block), so a run costs about one context switch per
// blocking WAIT instead of one per instruction.
class QueueUnit : public sc_core::sc_module {
 public:
  sc_core::sc_port<DispatchIf> dispatch;
  sc_core::sc_port<MemoryChannelIf> memory;

  SC_HAS_PROCESS(QueueUnit);
  QueueUnit(const sc_core::sc_module_name& name, Unit unit) : sc_module(name), unit_(unit) {
    SC_THREAD(main);
  }

  void start(const RunContext& ctx) {
    ctx_ = &ctx;
    stats_ = UnitStats{};
    done_ = false;
    blocked_at_ = 0;
    start_event_.notify(sc_core::SC_ZERO_TIME);
  }
  bool done() const { return done_; }
  std::size_t blocked_at() const { return blocked_at_; }
  Unit unit() const { return unit_; }
  UnitStats& stats() { return stats_; }

 private:
  void main() {
    for (;;) {
      sc_core::wait(start_event_);
      run_queue();
    }
  }

  void run_queue() {
    const std::vector<Instruction>& queue = ctx_->program->queue(unit_);
    local_ = ctx_->start_fs;
    completed_ = local_;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      blocked_at_ = i;
      const Instruction& inst = queue[i];
      if (inst.opcode == Opcode::kHalt) break;
      if (!execute(static_cast<std::uint32_t>(i), inst)) return;  // aborted
    }
    stats_.finish_fs = std::max(local_, completed_) - ctx_->start_fs;
    done_ = true;
  }

  // Executes one instruction at local_; false when the run was aborted.
  bool execute(std::uint32_t index, const Instruction& inst) {
    ++stats_.instructions;
    const Femtoseconds begin = local_;
    switch (inst.opcode) {
      case Opcode::kNotify:
        local_ += ctx_->issue_fs;
        dispatch->post(inst.sem, std::max(local_, completed_));
        break;
      case Opcode::kWait: {
        const std::optional<Femtoseconds> resume = dispatch->take(inst.sem, local_);
        if (!resume) return false;
        stats_.wait_fs += *resume - local_ - ctx_->clock.period_fs();
        local_ = *resume;
        break;
      }
      case Opcode::kNop:
        local_ += ctx_->clock.cycles_to_fs(inst.n0);
        add_busy(begin, local_);
        break;
      case Opcode::kLoad:
      case Opcode::kStore:
        transfer(inst);
        break;
      case Opcode::kMatmul:
        compute(ctx_->mxm->of(inst));
        break;
      default:
        compute(ctx_->vxm->of(inst));
        break;
    }
    if (ctx_->options.functional) ctx_->options.functional->execute(inst);
    if (ctx_->options.observer) {
      ctx_->options.observer->on_instruction(unit_, index, inst, begin - ctx_->start_fs,
                                             local_ - ctx_->start_fs);
    }
    return true;
  }

  void transfer(const Instruction& inst) {
    const Femtoseconds slot = memory->issue_slot(local_);
    stats_.wait_fs += slot - local_;
    const TransferTiming t = memory->transfer(local_, inst.bytes, inst.n0);
    const Femtoseconds issue_start = slot;
    local_ = slot + ctx_->issue_fs;
    add_busy(issue_start, local_);
    completed_ = std::max(completed_, t.complete);
    if (ctx_->options.observer) ctx_->options.observer->on_transfer(inst, t);
  }

  void compute(const UnitCost& cost) {
    const Femtoseconds begin = local_;
    local_ += ctx_->clock.cycles_to_fs(cost.occupancy_cycles);
    completed_ = std::max(completed_, local_ + ctx_->clock.cycles_to_fs(cost.latency_cycles));
    stats_.sram_bytes += cost.sram_bytes;
    stats_.alu_ops += cost.alu_ops;
    stats_.macs += cost.macs;
    add_busy(begin, local_);
  }

  void add_busy(Femtoseconds begin, Femtoseconds end) {
    stats_.busy_fs += end - begin;
    stats_.busy.add(begin, end);
  }

  Unit unit_;
  const RunContext* ctx_ = nullptr;
  UnitStats stats_;
  Femtoseconds local_ = 0;
  Femtoseconds completed_ = 0;
  bool done_ = false;
  std::size_t blocked_at_ = 0;
  sc_core::sc_event start_event_;
};

// The top level: units bound to the dispatch and the memory channel.
class Chip : public sc_core::sc_module {
 public:
  explicit Chip(const sc_core::sc_module_name& name)
      : sc_module(name),
        dispatch_("dispatch"),
        channel_("memory_channel"),
        mem_("mem", Unit::kMem),
        vxm_("vxm", Unit::kVxm),
        mxm_("mxm", Unit::kMxm) {
    for (QueueUnit* u : units()) {
      u->dispatch.bind(dispatch_);
      u->memory.bind(channel_);
    }
  }

  ChipRunResult run(const Program& program, const HwConfig& hw, const ChipRunOptions& options);

 private:
  std::array<QueueUnit*, kUnitCount> units() { return {&mem_, &vxm_, &mxm_}; }
  std::string describe_deadlock(const Program& program);

  Dispatch dispatch_;
  MemoryChannel channel_;
  QueueUnit mem_;
  QueueUnit vxm_;
  QueueUnit mxm_;
  RunContext ctx_;
};

ChipRunResult Chip::run(const Program& program, const HwConfig& hw, const ChipRunOptions& options) {
  ctx_ = RunContext{};
  ctx_.program = &program;
  ctx_.options = options;
  ctx_.clock = Clock(hw.clock);
  ctx_.start_fs = now_fs();
  ctx_.issue_fs = ctx_.clock.period_fs() / static_cast<Femtoseconds>(hw.dispatch.issue_per_cycle);
  ctx_.vxm.emplace(hw.vxm, hw.sram);
  ctx_.mxm.emplace(hw.mxm);
  dispatch_.reset(ctx_);
  channel_.reset(hw.memory);
  for (QueueUnit* u : units()) u->start(ctx_);
  sc_core::sc_start();

  bool all_done = true;
  for (QueueUnit* u : units()) all_done = all_done && u->done();
  if (!all_done) {
    const std::string message = describe_deadlock(program);
    dispatch_.abort();
    sc_core::sc_start();  // let the blocked queues unwind so the chip can run again
    throw SimulationError(message);
  }

  ChipRunResult result;
  for (QueueUnit* u : units()) {
    result.units[static_cast<int>(u->unit())] = std::move(u->stats());
    result.elapsed_fs = std::max(result.elapsed_fs, u->stats().finish_fs);
  }
  for (const UnitStats& s : result.units) result.instructions += s.instructions;
  result.cycles = ctx_.clock.fs_to_cycles_ceil(result.elapsed_fs);
  const MemoryChannelCore& core = channel_.core();
  result.memory = core.stats();
  result.memory_in_flight_fs = core.in_flight().total();
  result.bandwidth_bound_fs =
      uncovered_time(core.in_flight(), result.unit(Unit::kVxm).busy, result.unit(Unit::kMxm).busy);
  return result;
}

std::string Chip::describe_deadlock(const Program& program) {
  std::ostringstream out;
  out << "deadlock: no queue can make progress;";
  for (QueueUnit* u : units()) {
    if (u->done()) continue;
    const std::vector<Instruction>& queue = program.queue(u->unit());
    const Instruction& inst = queue.at(u->blocked_at());
    out << " queue " << unit_name(u->unit()) << " waits at instruction " << u->blocked_at();
    if (inst.opcode == Opcode::kWait) {
      out << " on semaphore '" << program.semaphores.at(inst.sem).name << "' (value "
          << dispatch_.value_now(inst.sem) << ")";
    }
    out << ";";
  }
  out << " a WAIT has no NOTIFY left that could release it";
  return out.str();
}

Chip& the_chip() {
  static Chip* chip = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
    // SystemC prints info and warnings on stdout; keep stdout for reports.
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_LOG);
    Chip* elaborated = new Chip("chip");  // lives until exit, like any elaborated hierarchy
    // Finish elaboration and let every queue thread reach its wait for a program, so that the
    // first run starts from the same state as every later one.
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return elaborated;
  }();
  return *chip;
}

}  // namespace

ChipRunResult run_on_chip(const Program& program, const HwConfig& hw,
                          const ChipRunOptions& options) {
  if (program.sram_bytes() > hw.sram.capacity.count) {
    std::ostringstream out;
    out << "program needs " << program.sram_bytes() << " bytes of SRAM, the chip '" << hw.name
        << "' has " << hw.sram.capacity.count;
    throw SimulationError(out.str());
  }
  return the_chip().run(program, hw, options);
}

}  // namespace lpusim

// libsystemc's own main() calls sc_main; lpusim has its own main and drives SystemC through
// run_on_chip, so this entry point exists only to satisfy the shared library's reference.
int sc_main(int /*argc*/, char** /*argv*/) { return 1; }
