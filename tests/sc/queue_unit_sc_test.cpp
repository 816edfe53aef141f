// One queue alone, bound to a scripted dispatch and memory channel: instruction times follow the
// queue's own clock (NOP cycles, a LOAD busy for one dispatch slot from the channel's issue slot,
// a NOTIFY landing once earlier results complete, a WAIT resuming when the dispatch says), and
// every executed instruction is one event carrying those times.
#include "models/queue_unit.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/sc/module_harness.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

// Records posts; a WAIT resumes at a scripted time.
class ScriptedDispatch : public sc_core::sc_module, public DispatchIf {
 public:
  explicit ScriptedDispatch(const sc_core::sc_module_name& name) : sc_module(name) {}
  void post(std::uint32_t sem, Femtoseconds land_fs) override { posts.emplace_back(sem, land_fs); }
  std::optional<Femtoseconds> take(std::uint32_t, Femtoseconds) override { return resume_at; }
  std::vector<std::pair<std::uint32_t, Femtoseconds>> posts;
  Femtoseconds resume_at = 0;
};

// Every transfer issues at `slot` and has `timing`.
class ScriptedChannel : public sc_core::sc_module, public MemoryChannelIf {
 public:
  explicit ScriptedChannel(const sc_core::sc_module_name& name) : sc_module(name) {}
  Femtoseconds issue_slot(Femtoseconds) const override { return slot; }
  TransferTiming transfer(Femtoseconds, std::uint64_t, std::uint64_t) override { return timing; }
  Femtoseconds slot = 0;
  TransferTiming timing;
};

class EventLog : public ChipEventSink {
 public:
  void on_instruction(const InstructionEvent& e) override { events.push_back(e); }
  std::vector<InstructionEvent> events;
};

struct Harness {
  Harness()
      : dispatch((testing::set_up_kernel(), "dispatch")),
        channel("memory_channel"),
        queue("mem", Unit::kMem),
        threads("threads") {
    queue.dispatch.bind(dispatch);
    queue.memory.bind(channel);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  // Runs `program`'s MEM queue from time 0 of the run on the round-number chip.
  std::vector<InstructionEvent> run(const Program& program) {
    const HwConfig hw = testing::round_number_chip();
    EventLog log;
    sinks = ChipEventSinks{};
    sinks.add(&log);
    ctx = RunContext{};
    ctx.program = &program;
    ctx.sinks = &sinks;
    ctx.clock = Clock(hw.clock);
    ctx.start_fs = now_fs();
    ctx.issue_fs = ctx.clock.period_fs();
    ctx.vxm.emplace(hw.vxm, hw.sram);
    ctx.mxm.emplace(hw.mxm);
    ctx.sram_copy.emplace(hw.sram);
    queue.start(ctx);
    sc_core::sc_start();
    return log.events;
  }
  ScriptedDispatch dispatch;
  ScriptedChannel channel;
  QueueUnit queue;
  testing::DriverThreads threads;
  ChipEventSinks sinks;
  RunContext ctx;
};

Harness& harness() {
  static Harness h;
  return h;
}

TEST(QueueUnit, Nops_RunBackToBackAndEachIsOneEvent) {
  Program p;
  p.queue(Unit::kMem) = {testing::nop(3), testing::nop(4)};
  const std::vector<InstructionEvent> e = harness().run(p);
  ASSERT_EQ(e.size(), 2u);
  // 3 cycles, then 4: [0, 3) and [3, 7).
  EXPECT_EQ(e[0].issue_fs, 0u);
  EXPECT_EQ(e[0].end_fs, 3 * kCycle);
  EXPECT_EQ(e[1].index, 1u);
  EXPECT_EQ(e[1].start_fs, 3 * kCycle);
  EXPECT_EQ(e[1].end_fs, 7 * kCycle);
  EXPECT_TRUE(harness().queue.done());
}

TEST(QueueUnit, Load_IsBusyOneDispatchSlotFromTheIssueSlotAndCarriesItsTransfer) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.channel.slot = start + 5 * kCycle;
  h.channel.timing = {start + 6 * kCycle, start + 9 * kCycle, start + 109 * kCycle};
  Program p;
  Instruction load = testing::op(Opcode::kLoad);
  load.bytes = 300;
  p.queue(Unit::kMem) = {load};
  const std::vector<InstructionEvent> e = h.run(p);
  ASSERT_EQ(e.size(), 1u);
  // Reached at 0, issued at the channel's slot (cycle 5) for one cycle; data usable at 109.
  EXPECT_EQ(e[0].issue_fs, 0u);
  EXPECT_EQ(e[0].start_fs, 5 * kCycle);
  EXPECT_EQ(e[0].end_fs, 6 * kCycle);
  EXPECT_EQ(e[0].transfer.start, 6 * kCycle);
  EXPECT_EQ(e[0].transfer.last_byte, 9 * kCycle);
  EXPECT_EQ(e[0].transfer.complete, 109 * kCycle);
  EXPECT_EQ(e[0].complete_fs, 109 * kCycle);
}

// A LOAD and a STORE of a region in SRAM never touch the channel: each occupies the queue for
// its bytes read and written at sram.bytes_per_cycle (4096 B on the round-number chip).
TEST(QueueUnit, OnChipRegion_LoadAndStoreAreCopiesWithinSram) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.channel.slot = start + 50 * kCycle;  // would show if the channel were asked
  h.channel.timing = {start + 60 * kCycle, start + 90 * kCycle, start + 190 * kCycle};
  Program p;
  p.regions = {{"cache", 1U << 20, true}};
  Instruction load = testing::op(Opcode::kLoad);
  load.bytes = 8192;  // 2 x 8192 B / 4096 B per cycle: 4 cycles
  Instruction store = testing::op(Opcode::kStore);
  store.bytes = 100;  // at least one cycle
  p.queue(Unit::kMem) = {load, store};
  const std::vector<InstructionEvent> e = h.run(p);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_FALSE(e[0].on_channel);
  EXPECT_EQ(e[0].start_fs, 0u);
  EXPECT_EQ(e[0].end_fs, 4 * kCycle);
  EXPECT_EQ(e[0].complete_fs, 4 * kCycle);
  EXPECT_EQ(e[0].cost.sram_bytes, 2u * 8192);
  EXPECT_FALSE(e[1].on_channel);
  EXPECT_EQ(e[1].end_fs, 5 * kCycle);
  p.regions[0].on_chip = false;  // the same program off chip takes the channel's times
  const Femtoseconds again = now_fs();
  h.channel.slot = again + 50 * kCycle;
  h.channel.timing = {again + 60 * kCycle, again + 90 * kCycle, again + 190 * kCycle};
  const std::vector<InstructionEvent> far = h.run(p);
  EXPECT_TRUE(far[0].on_channel);
  EXPECT_EQ(far[0].start_fs, 50 * kCycle);
}

TEST(QueueUnit, NotifyAfterALoad_LandsWhenTheLoadCompletes) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.channel.slot = start;
  h.channel.timing = {start, start + 64 * kCycle, start + 164 * kCycle};
  h.dispatch.posts.clear();
  Program p;
  Instruction load = testing::op(Opcode::kLoad);
  load.bytes = 6400;
  p.semaphores = {{"full", 0}};
  p.queue(Unit::kMem) = {load, testing::sem_op(Opcode::kNotify, 0)};
  const std::vector<InstructionEvent> e = h.run(p);
  ASSERT_EQ(e.size(), 2u);
  // The LOAD issues in cycle 0; the NOTIFY issues in cycle 1 and lands with the data at 164.
  EXPECT_EQ(e[1].end_fs, 2 * kCycle);
  EXPECT_EQ(e[1].lands_fs, 164 * kCycle);
  ASSERT_EQ(h.dispatch.posts.size(), 1u);
  EXPECT_EQ(h.dispatch.posts[0].second, start + 164 * kCycle);
}

TEST(QueueUnit, Wait_ResumesWhenTheDispatchSaysAndReportsTheTimeWaited) {
  Harness& h = harness();
  const Femtoseconds start = now_fs();
  h.dispatch.resume_at = start + 12 * kCycle;
  Program p;
  p.semaphores = {{"s", 0}};
  p.queue(Unit::kMem) = {testing::nop(2), testing::sem_op(Opcode::kWait, 0)};
  const std::vector<InstructionEvent> e = h.run(p);
  ASSERT_EQ(e.size(), 2u);
  // Reached at 2, taken at 11 (a cycle before it resumes at 12): 9 cycles waited.
  EXPECT_EQ(e[1].issue_fs, 2 * kCycle);
  EXPECT_EQ(e[1].start_fs, 11 * kCycle);
  EXPECT_EQ(e[1].waited_fs, 9 * kCycle);
  EXPECT_EQ(e[1].end_fs, 12 * kCycle);
}

}  // namespace
}  // namespace lpusim
