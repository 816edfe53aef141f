#include "models/queue_unit.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>

namespace lpusim {

namespace {

constexpr std::size_t kPrefetchAhead = 8;

}  // namespace

QueueUnit::QueueUnit(const sc_core::sc_module_name& name, Unit unit)
    : sc_module(name), unit_(unit) {
  SC_THREAD(main);
}

void QueueUnit::start(const RunContext& ctx) {
  ctx_ = &ctx;
  done_ = false;
  blocked_at_ = 0;
  start_event_.notify(sc_core::SC_ZERO_TIME);
}

void QueueUnit::main() {
  for (;;) {
    sc_core::wait(start_event_);
    run_queue();
  }
}

// Whether a LOAD/STORE's region lives in SRAM (RegionDecl::on_chip).
inline bool QueueUnit::on_chip(const Instruction& inst) const {
  const std::uint32_t region = (inst.opcode == Opcode::kLoad ? inst.a : inst.dst).space;
  const std::vector<RegionDecl>& regions = ctx_->program->regions;
  return region < regions.size() && regions[region].on_chip;
}

// Executes one instruction at local_; false when the run was aborted.
inline bool QueueUnit::execute(std::uint32_t index, const Instruction& inst) {
  const Femtoseconds begin = local_;
  Femtoseconds busy_from = begin;  // it occupies its unit from here
  Femtoseconds complete = 0;       // its results are usable (when later than its end)
  Femtoseconds waited = 0;
  Femtoseconds lands = 0;
  TransferTiming transfer;
  bool on_channel = false;  // a LOAD or STORE through the memory channel
  UnitCost cost;
  switch (inst.opcode) {
    case Opcode::kNotify:
      local_ = add_saturated(local_, ctx_->issue_fs);
      if (overflowed(index, inst)) return false;
      lands = std::max(local_, completed_);
      dispatch->post(inst.sem, lands);
      break;
    case Opcode::kWait: {
      const std::optional<Femtoseconds> resume = dispatch->take(inst.sem, local_);
      if (!resume) return false;
      busy_from = *resume - ctx_->issue_fs;  // taken then, in one issue slot
      waited = busy_from - local_;
      local_ = *resume;
      break;
    }
    case Opcode::kNop:
      local_ = add_saturated(local_, ctx_->clock.cycles_to_fs(inst.n0));
      break;
    case Opcode::kLoad:
    case Opcode::kStore:
      if (on_chip(inst)) {
        cost = ctx_->sram_copy->of(inst);  // within SRAM: the channel is not used
        complete = occupy(cost);
        break;
      }
      // Issued at the channel's next free slot; the queue is busy for one dispatch slot from
      // there while the transfer runs on asynchronously.
      on_channel = true;
      busy_from = memory->issue_slot(local_);
      transfer = memory->transfer(local_, inst.bytes, inst.n0);
      local_ = add_saturated(busy_from, ctx_->issue_fs);
      complete = transfer.complete;
      break;
    case Opcode::kMatmul:
      cost = ctx_->mxm->of(inst);
      complete = occupy(cost);
      break;
    default:
      cost = ctx_->vxm->of(inst);
      complete = occupy(cost);
      break;
  }
  completed_ = std::max(completed_, complete);
  if (overflowed(index, inst)) return false;
  if (ctx_->functional) ctx_->functional->execute(inst);
  if (ctx_->sinks) {
    const Femtoseconds start = ctx_->start_fs;  // events carry times from the run's start
    const bool moves_data = on_channel;
    // Every member given: no zeroing of the event first.
    const InstructionEvent event{
        ctx_->chip,
        unit_,
        index,
        &inst,
        begin - start,
        busy_from - start,
        local_ - start,
        std::max(complete, local_) - start,
        moves_data ? TransferTiming{transfer.start - start, transfer.last_byte - start,
                                    transfer.complete - start}
                   : TransferTiming{0, 0, 0},
        on_channel,
        waited,
        inst.opcode == Opcode::kNotify ? lands - start : 0,
        cost};
    ctx_->sinks->instruction(event);
  }
  return true;
}

// Occupies the unit for the cost's occupancy; returns when its results complete.
Femtoseconds QueueUnit::occupy(const UnitCost& cost) {
  local_ = add_saturated(local_, ctx_->clock.cycles_to_fs(cost.occupancy_cycles));
  return add_saturated(local_, ctx_->clock.cycles_to_fs(cost.latency_cycles));
}

namespace {

// The message of a run whose queue `unit` saturated its time at instruction `index`.
[[gnu::cold, gnu::noinline]] std::string overflow_message(const RunContext& ctx, Unit unit,
                                                          std::uint32_t index,
                                                          const Instruction& inst) {
  std::ostringstream what;
  what << "queue " << unit_name(unit) << " instruction " << index << " (" << mnemonic(inst.opcode)
       << ") would end later; this chip run started at " << fs_to_seconds(ctx.start_fs)
       << " s of simulated time. The hardware is too slow for this workload (memory "
          "bandwidth, clock or latency) or the workload too large";
  return time_overflow_message(what.str());
}

}  // namespace

// True (and the run's overflow recorded) when this queue's time saturated at the largest
// representable femtosecond count; times are checked before any SystemC wait or notify uses them.
// Inline: it runs once or twice per instruction, the message only once per run.
inline bool QueueUnit::overflowed(std::uint32_t index, const Instruction& inst) {
  if (local_ != kMaxFemtoseconds && completed_ != kMaxFemtoseconds) return false;
  if (!ctx_->time_overflow) ctx_->time_overflow = overflow_message(*ctx_, unit_, index, inst);
  return true;
}

void QueueUnit::run_queue() {
  const std::vector<Instruction>& queue = ctx_->program->queue(unit_);
  local_ = ctx_->start_fs;
  completed_ = local_;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    blocked_at_ = i;
    if (i + kPrefetchAhead < queue.size()) {
      // A long queue streams from memory: fetch an instruction a few ahead (both cache lines it
      // may span) so that its loads overlap the work on the ones before.
      const char* ahead = reinterpret_cast<const char*>(&queue[i + kPrefetchAhead]);
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + sizeof(Instruction) - 1);
    }
    const Instruction& inst = queue[i];
    if (inst.opcode == Opcode::kHalt) break;
    if (!execute(static_cast<std::uint32_t>(i), inst)) return;  // aborted
  }
  done_ = true;
}

}  // namespace lpusim
