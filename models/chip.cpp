#include "models/chip.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <sstream>
#include <string>
#include <systemc>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "models/asan_stack.h"
#include "models/compute_cost.h"
#include "models/semaphore_bank.h"

namespace lpusim {

namespace {

// Exact for every 64-bit count (the time resolution is 1 fs; a double would round above 2^53 fs).
sc_core::sc_time fs_time(Femtoseconds fs) { return sc_core::sc_time::from_value(fs); }
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

// The part of a run whose state changes go to the VCD file, in absolute SystemC time.
struct VcdWindow {
  Femtoseconds from = 0;
  Femtoseconds to = 0;
  bool contains(Femtoseconds t) const { return t >= from && t < to; }
};

// VCD only: brings the calling thread's SystemC time up to `at` (at most to the window's end)
// when `at` is not before the window, so that signals change at the time they describe; true
// when `at` lies inside the window. Timing is unaffected: the queues' results are time-stamped.
bool sync_for_vcd(const VcdWindow& window, Femtoseconds at) {
  if (at < window.from) return false;
  const Femtoseconds target = std::min(at, window.to);
  if (target > now_fs()) sc_core::wait(fs_time(target - now_fs()));
  return at < window.to;
}

// VCD only: wakes a module's refresh method at `at` when that lies inside the window.
void wake_for_vcd(sc_core::sc_event_queue& wake, const VcdWindow& window, Femtoseconds at) {
  if (window.contains(at) && at >= now_fs()) wake.notify(fs_time(at - now_fs()));
}

// The current run, shared by the modules while sc_start runs.
struct RunContext {
  const Program* program = nullptr;
  ChipRunOptions options;
  Clock clock{Hertz{1e9}};
  Femtoseconds start_fs = 0;
  Femtoseconds issue_fs = 0;  // one dispatch slot
  std::optional<VxmCost> vxm;
  std::optional<MxmCost> mxm;
  const VcdWindow* vcd = nullptr;  // set while a VCD file records this run
  // The first time overflow a queue met; the queues cannot throw across SystemC's coroutines, so
  // Chip::run throws it once sc_start has returned.
  mutable std::optional<std::string> time_overflow;
};

// ---- modules -----------------------------------------------------------------------------

// The instruction dispatch's semaphores: increments land at given times; waiters block on one
// event per semaphore (notified at the landing time) or the run's abort event.
class Dispatch : public sc_core::sc_module, public DispatchIf {
 public:
  SC_HAS_PROCESS(Dispatch);
  explicit Dispatch(const sc_core::sc_module_name& name) : sc_module(name), vcd_wake_("vcd_wake") {
    SC_METHOD(refresh_vcd);
    sensitive << vcd_wake_;
    dont_initialize();
  }

  void trace(sc_core::sc_trace_file* file) {
    for (int i = 0; i < kVcdSemaphores; ++i) {
      const std::string index = (i < 10 ? "0" : "") + std::to_string(i);
      sc_core::sc_trace(file, vcd_values_[static_cast<std::size_t>(i)], "dispatch.sem" + index,
                        kVcdSemaphoreBits);
    }
  }

  void reset(const RunContext& ctx) {
    ctx_ = &ctx;
    bank_.emplace(ctx.program->semaphores, ctx.start_fs);
    if (ctx.vcd) wake_for_vcd(vcd_wake_, *ctx.vcd, ctx.vcd->from);
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
    if (ctx_->vcd) wake_for_vcd(vcd_wake_, *ctx_->vcd, land_fs);
  }

  std::optional<Femtoseconds> take(std::uint32_t sem, Femtoseconds local_fs) override {
    const Femtoseconds period = ctx_->clock.period_fs();
    if (auto land = bank_->try_take(sem, local_fs)) {
      if (ctx_->vcd) wake_for_vcd(vcd_wake_, *ctx_->vcd, now_fs());
      return add_saturated(std::max(local_fs, *land), period);
    }
    // Increments landing before local_fs may still be posted by queues behind us: catch up.
    if (local_fs > now_fs()) sc_core::wait(fs_time(local_fs - now_fs()));
    for (;;) {
      if (auto land = bank_->try_take(sem, now_fs())) {
        if (ctx_->vcd) wake_for_vcd(vcd_wake_, *ctx_->vcd, now_fs());
        return add_saturated(std::max(local_fs, *land), period);
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
  static constexpr int kVcdSemaphoreBits = 16;
  // VCD: the traced semaphores' values now (0 for semaphores the program does not declare).
  void refresh_vcd() {
    if (!ctx_ || !ctx_->vcd || !ctx_->vcd->contains(now_fs())) return;
    for (std::size_t i = 0; i < vcd_values_.size(); ++i) {
      vcd_values_[i] =
          i < bank_->size() ? bank_->value_at(static_cast<std::uint32_t>(i), now_fs()) : 0;
    }
  }

  const RunContext* ctx_ = nullptr;
  std::optional<SemaphoreBank> bank_;
  std::vector<std::unique_ptr<sc_core::sc_event>> events_;
  sc_core::sc_event abort_event_;
  sc_core::sc_event_queue vcd_wake_;
  std::array<unsigned, kVcdSemaphores> vcd_values_{};
};

// The off-chip memory channel, a shell around MemoryChannelCore.
class MemoryChannel : public sc_core::sc_module, public MemoryChannelIf {
 public:
  SC_HAS_PROCESS(MemoryChannel);
  explicit MemoryChannel(const sc_core::sc_module_name& name)
      : sc_module(name), vcd_wake_("vcd_wake") {
    SC_METHOD(refresh_vcd);
    sensitive << vcd_wake_;
    dont_initialize();
  }
  void reset(const MemoryConfig& config) { core_.emplace(config); }
  void trace(sc_core::sc_trace_file* file) {
    sc_core::sc_trace(file, vcd_outstanding_, "memory_channel.outstanding", kVcdCountBits);
    sc_core::sc_trace(file, vcd_busy_, "memory_channel.busy");
  }
  // Records this run's transfers for the VCD file when `window` is set.
  void record_vcd(const VcdWindow* window) {
    vcd_ = window;
    vcd_transfers_.clear();
    if (vcd_) wake_for_vcd(vcd_wake_, *vcd_, vcd_->from);
  }
  const MemoryChannelCore& core() const { return *core_; }

  Femtoseconds issue_slot(Femtoseconds ready_fs) const override {
    return core_->issue_slot_fs(ready_fs);
  }
  TransferTiming transfer(Femtoseconds ready_fs, std::uint64_t bytes, std::uint64_t rows) override {
    const Femtoseconds issue = vcd_ ? core_->issue_slot_fs(ready_fs) : ready_fs;
    const TransferTiming t = core_->schedule(ready_fs, bytes, rows);
    if (vcd_) note_transfer(issue, t);
    return t;
  }

 private:
  static constexpr int kVcdCountBits = 16;
  struct VcdTransfer {
    Femtoseconds issue;
    TransferTiming timing;
  };

  void note_transfer(Femtoseconds issue, const TransferTiming& t) {
    forget_completed_transfers();
    vcd_transfers_.push_back({issue, t});
    for (Femtoseconds at : {issue, t.start, t.last_byte, t.complete}) {
      wake_for_vcd(vcd_wake_, *vcd_, at);
    }
  }
  void forget_completed_transfers() {
    while (!vcd_transfers_.empty() && vcd_transfers_.front().timing.complete <= now_fs()) {
      vcd_transfers_.pop_front();
    }
  }
  // VCD: transfers issued and not complete, and whether one is on the channel, now.
  void refresh_vcd() {
    if (!vcd_ || !vcd_->contains(now_fs())) return;
    forget_completed_transfers();
    const Femtoseconds now = now_fs();
    vcd_outstanding_ = 0;
    vcd_busy_ = false;
    for (const VcdTransfer& x : vcd_transfers_) {
      if (x.issue <= now) ++vcd_outstanding_;
      if (x.timing.start <= now && now < x.timing.last_byte) vcd_busy_ = true;
    }
  }

  std::optional<MemoryChannelCore> core_;
  const VcdWindow* vcd_ = nullptr;
  std::deque<VcdTransfer> vcd_transfers_;  // completions come in issue order
  sc_core::sc_event_queue vcd_wake_;
  unsigned vcd_outstanding_ = 0;
  bool vcd_busy_ = false;
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
    SC_METHOD(open_vcd_window);
    sensitive << vcd_open_;
    dont_initialize();
  }

  void start(const RunContext& ctx) {
    ctx_ = &ctx;
    stats_ = UnitStats{};
    done_ = false;
    blocked_at_ = 0;
    vcd_pending_.reset();
    if (ctx.vcd && ctx.vcd->from > ctx.start_fs) {
      vcd_open_.notify(fs_time(ctx.vcd->from - ctx.start_fs));
    }
    start_event_.notify(sc_core::SC_ZERO_TIME);
  }
  bool done() const { return done_; }
  std::size_t blocked_at() const { return blocked_at_; }
  Unit unit() const { return unit_; }
  UnitStats& stats() { return stats_; }
  void trace(sc_core::sc_trace_file* file) {
    const std::string prefix(unit_name(unit_));
    sc_core::sc_trace(file, vcd_busy_, prefix + ".busy");
    sc_core::sc_trace(file, vcd_opcode_, prefix + ".opcode", kVcdOpcodeBits);
  }

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
    if (ctx_->vcd) show_on_vcd(local_, false, 0);
    stats_.finish_fs = std::max(local_, completed_) - ctx_->start_fs;
    done_ = true;
  }

  // Executes one instruction at local_; false when the run was aborted.
  bool execute(std::uint32_t index, const Instruction& inst) {
    ++stats_.instructions;
    const Femtoseconds begin = local_;
    if (ctx_->vcd) show_on_vcd(begin, occupies_unit(inst.opcode), vcd_code(inst.opcode));
    switch (inst.opcode) {
      case Opcode::kNotify:
        local_ = add_saturated(local_, ctx_->issue_fs);
        if (overflowed(index, inst)) return false;
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
        local_ = add_saturated(local_, ctx_->clock.cycles_to_fs(inst.n0));
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
    if (overflowed(index, inst)) return false;
    if (ctx_->options.functional) ctx_->options.functional->execute(inst);
    if (ctx_->options.observer) {
      ctx_->options.observer->on_instruction(unit_, index, inst, begin - ctx_->start_fs,
                                             local_ - ctx_->start_fs);
    }
    return true;
  }

  void transfer(const Instruction& inst) {
    const Femtoseconds slot = memory->issue_slot(local_);
    if (ctx_->vcd) show_on_vcd(slot, true, vcd_code(inst.opcode));
    stats_.wait_fs += slot - local_;
    const TransferTiming t = memory->transfer(local_, inst.bytes, inst.n0);
    const Femtoseconds issue_start = slot;
    local_ = add_saturated(slot, ctx_->issue_fs);
    add_busy(issue_start, local_);
    completed_ = std::max(completed_, t.complete);
    if (ctx_->options.observer) {
      const Femtoseconds start = ctx_->start_fs;  // observers see times from the run's start
      ctx_->options.observer->on_transfer(
          inst, TransferTiming{t.start - start, t.last_byte - start, t.complete - start});
    }
  }

  void compute(const UnitCost& cost) {
    const Femtoseconds begin = local_;
    local_ = add_saturated(local_, ctx_->clock.cycles_to_fs(cost.occupancy_cycles));
    completed_ =
        std::max(completed_, add_saturated(local_, ctx_->clock.cycles_to_fs(cost.latency_cycles)));
    stats_.sram_bytes += cost.sram_bytes;
    stats_.alu_ops += cost.alu_ops;
    stats_.macs += cost.macs;
    add_busy(begin, local_);
  }

  // True (and the run's overflow recorded) when this queue's time saturated at the largest
  // representable femtosecond count; times are checked before any SystemC wait or notify uses them.
  bool overflowed(std::uint32_t index, const Instruction& inst) {
    if (local_ != kMaxFemtoseconds && completed_ != kMaxFemtoseconds) return false;
    if (!ctx_->time_overflow) {
      std::ostringstream what;
      what << "queue " << unit_name(unit_) << " instruction " << index << " ("
           << mnemonic(inst.opcode) << ") would end later; this chip run started at "
           << fs_to_seconds(ctx_->start_fs)
           << " s of simulated time. The hardware is too slow for this workload (memory "
              "bandwidth, clock or latency) or the workload too large";
      ctx_->time_overflow = time_overflow_message(what.str());
    }
    return true;
  }

  void add_busy(Femtoseconds begin, Femtoseconds end) {
    stats_.busy_fs += end - begin;
    stats_.busy.add(begin, end);
  }

  // VCD: the unit's state from `at` on, written once SystemC time has caught up with it. A state
  // set before the window is kept for open_vcd_window(), which runs when the window opens (the
  // queue may then be blocked in a WAIT that began before it).
  void show_on_vcd(Femtoseconds at, bool busy, unsigned opcode) {
    const VcdWindow& window = *ctx_->vcd;
    if (at < window.from) {
      vcd_pending_ = std::make_pair(busy, opcode);
      return;
    }
    const bool inside = sync_for_vcd(window, at);  // the window may open while this waits
    vcd_pending_.reset();
    if (!inside) return;
    vcd_busy_ = busy;
    vcd_opcode_ = opcode;
  }
  void open_vcd_window() {
    if (vcd_pending_) std::tie(vcd_busy_, vcd_opcode_) = *vcd_pending_;
    vcd_pending_.reset();
  }
  static unsigned vcd_code(Opcode op) { return static_cast<unsigned>(op) + 1; }
  // Busy from the instruction's start (a LOAD/STORE only from its issue slot; NOTIFY and WAIT
  // never: the report does not count them as busy).
  static bool occupies_unit(Opcode op) {
    return op != Opcode::kNotify && op != Opcode::kWait && op != Opcode::kLoad &&
           op != Opcode::kStore;
  }
  static constexpr int kVcdOpcodeBits = 8;

  Unit unit_;
  const RunContext* ctx_ = nullptr;
  UnitStats stats_;
  Femtoseconds local_ = 0;
  Femtoseconds completed_ = 0;
  bool done_ = false;
  std::size_t blocked_at_ = 0;
  sc_core::sc_event start_event_;
  bool vcd_busy_ = false;
  unsigned vcd_opcode_ = 0;                               // opcode + 1, 0 when idle
  std::optional<std::pair<bool, unsigned>> vcd_pending_;  // the state before the window
  sc_core::sc_event vcd_open_;                            // the window opens
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
  void trace(sc_core::sc_trace_file* file) {
    for (QueueUnit* u : units()) u->trace(file);
    channel_.trace(file);
    dispatch_.trace(file);
  }

 private:
  std::array<QueueUnit*, kUnitCount> units() { return {&mem_, &vxm_, &mxm_}; }
  // SystemC writes a time step's values to the VCD file when time moves on: step one femtosecond
  // past the run so that its final values are recorded (the next run starts there).
  void flush_vcd() {
    vcd_flush_.notify(sc_core::sc_time(1, sc_core::SC_FS));
    sc_core::sc_start();
    restore_asan_stack_bounds();
  }
  std::string describe_deadlock(const Program& program);

  Dispatch dispatch_;
  MemoryChannel channel_;
  QueueUnit mem_;
  QueueUnit vxm_;
  QueueUnit mxm_;
  RunContext ctx_;
  sc_core::sc_event vcd_flush_;
};

// The VCD file requested by enable_chip_vcd and the window of the run it records.
struct ChipVcd {
  ChipVcdOptions options;
  sc_core::sc_trace_file* file = nullptr;
  VcdWindow window;
  int runs = 0;
};
std::optional<ChipVcd>& chip_vcd() {
  static std::optional<ChipVcd> vcd;
  return vcd;
}
bool& chip_elaborated() {
  static bool elaborated = false;
  return elaborated;
}

Femtoseconds saturating_add(Femtoseconds a, Femtoseconds b) {
  return b > std::numeric_limits<Femtoseconds>::max() - a ? std::numeric_limits<Femtoseconds>::max()
                                                          : a + b;
}

// Starts recording a run in the VCD file (when one is open): its window, and a comment naming
// the run's traced semaphores. Returns the window, or null when nothing records.
const VcdWindow* begin_vcd_run(const Program& program, Femtoseconds start_fs) {
  std::optional<ChipVcd>& vcd = chip_vcd();
  if (!vcd || vcd->file == nullptr) return nullptr;
  vcd->window.from = saturating_add(start_fs, vcd->options.window_from_fs);
  vcd->window.to = saturating_add(start_fs, vcd->options.window_to_fs);
  std::ostringstream comment;
  comment << "run " << ++vcd->runs << " starts at " << start_fs << " fs; semaphores:";
  const std::size_t traced = std::min<std::size_t>(program.semaphores.size(), kVcdSemaphores);
  for (std::size_t i = 0; i < traced; ++i) {
    comment << " sem" << (i < 10 ? "0" : "") << i << "=" << program.semaphores[i].name;
  }
  if (program.semaphores.size() > traced) {
    comment << " (" << program.semaphores.size() - traced << " more not traced)";
  }
  vcd->file->write_comment(comment.str());
  return &vcd->window;
}

// The code each opcode has in the VCD's <unit>.opcode signals, as a comment.
std::string vcd_opcode_legend() {
  std::ostringstream out;
  out << "<unit>.opcode: 0=idle";
  for (const OpcodeInfo& info : opcode_table()) {
    out << " " << static_cast<int>(info.opcode) + 1 << "=" << info.mnemonic;
  }
  return out.str();
}

ChipRunResult Chip::run(const Program& program, const HwConfig& hw, const ChipRunOptions& options) {
  ctx_ = RunContext{};
  ctx_.program = &program;
  ctx_.options = options;
  ctx_.clock = Clock(hw.clock);
  ctx_.start_fs = now_fs();
  ctx_.vcd = begin_vcd_run(program, ctx_.start_fs);
  ctx_.issue_fs = ctx_.clock.period_fs() / static_cast<Femtoseconds>(hw.dispatch.issue_per_cycle);
  ctx_.vxm.emplace(hw.vxm, hw.sram);
  ctx_.mxm.emplace(hw.mxm);
  dispatch_.reset(ctx_);
  channel_.reset(hw.memory);
  channel_.record_vcd(ctx_.vcd);
  for (QueueUnit* u : units()) u->start(ctx_);
  sc_core::sc_start();
  restore_asan_stack_bounds();
  if (ctx_.vcd) flush_vcd();

  bool all_done = true;
  for (QueueUnit* u : units()) all_done = all_done && u->done();
  if (ctx_.time_overflow) {
    dispatch_.abort();
    sc_core::sc_start();  // let the blocked queues unwind so the chip can run again
    throw SimulationError(*ctx_.time_overflow);
  }
  if (!all_done) {
    const std::string message = describe_deadlock(program);
    dispatch_.abort();
    sc_core::sc_start();  // let the blocked queues unwind so the chip can run again
    restore_asan_stack_bounds();
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
    chip_elaborated() = true;
    std::optional<ChipVcd>& vcd = chip_vcd();
    if (vcd) {  // sc_trace must precede the first sc_start
      const std::string& path = vcd->options.path;
      vcd->file = sc_core::sc_create_vcd_trace_file(path.substr(0, path.size() - 4).c_str());
      elaborated->trace(vcd->file);
    }
    // Finish elaboration and let every queue thread reach its wait for a program, so that the
    // first run starts from the same state as every later one.
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    restore_asan_stack_bounds();
    if (vcd) vcd->file->write_comment(vcd_opcode_legend());
    return elaborated;
  }();
  return *chip;
}

}  // namespace

void enable_chip_vcd(const ChipVcdOptions& options) {
  constexpr std::string_view kSuffix = ".vcd";
  if (chip_elaborated()) {
    throw SimulationError(
        "VCD recording must be requested before the first run of the chip (sc_trace must "
        "precede sc_start)");
  }
  const std::string& path = options.path;
  if (path.size() <= kSuffix.size() || path.substr(path.size() - kSuffix.size()) != kSuffix) {
    throw InputError(path + ": a VCD file name must end in .vcd");
  }
  // SystemC terminates the process when it cannot open a trace file: find out now.
  std::FILE* probe = std::fopen(path.c_str(), "w");
  if (probe == nullptr) throw InputError(path + ": cannot create the VCD file");
  std::fclose(probe);
  chip_vcd().emplace();
  chip_vcd()->options = options;
}

void close_chip_vcd() {
  std::optional<ChipVcd>& vcd = chip_vcd();
  if (vcd && vcd->file != nullptr) sc_core::sc_close_vcd_trace_file(vcd->file);
  vcd.reset();
}

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
