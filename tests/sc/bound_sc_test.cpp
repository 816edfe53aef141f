// What bound a step, from hand-written programs run on the round-number chip (1 GHz, 100 GB/s,
// 100 ns memory latency, 2 x 64 x 64 MXM installing 1024 B per cycle): a resource bounds a step
// only when it was busy for at least 80% of it; a chain of dependent short instructions is bound
// by latency, and latency_s is the time nothing was busy and nothing was in flight.
#include <gtest/gtest.h>

#include "sim/llm/step_metrics.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr double kNsInS = 1e-9;

using testing::nop;
using testing::op;
using testing::sem_op;

StepMetrics metrics_of(const Program& program) {
  const HwConfig hw = testing::round_number_chip();
  return compute_step_metrics(testing::run_on_test_chip(program, hw), hw, StepWork{});
}

double busy_of(const StepMetrics& m, const std::string& unit) {
  for (const UnitMetrics& u : m.units) {
    if (u.name == unit) return u.busy_s;
  }
  return -1;
}

TEST(Bound, ALongTransfer_IsMemoryBound_WithNoLatencyTime) {
  constexpr std::uint64_t kBytes = 256'000;
  Program p;
  p.buffers = {{"b", kBytes}};
  p.regions = {{"r", kBytes}};
  Instruction load = op(Opcode::kLoad);
  load.dst = View{0, 0, 1, static_cast<std::int64_t>(kBytes)};
  load.a = View{0, 0, 1, static_cast<std::int64_t>(kBytes)};
  load.bytes = kBytes;
  p.queue(Unit::kMem) = {load};
  const StepMetrics m = metrics_of(p);
  // 256000 B at 100 B/ns: the channel is busy 2560 ns; the data lands 100 ns later, at 2660 ns.
  EXPECT_NEAR(m.seconds, 2660 * kNsInS, 1e-15);
  EXPECT_NEAR(m.memory_busy_s, 2560 * kNsInS, 1e-15);  // 96% of the step
  EXPECT_EQ(m.bound, "memory");
  // In flight for the whole step with both compute units idle: all bandwidth-bound, no latency.
  EXPECT_NEAR(m.bandwidth_bound_s, 2660 * kNsInS, 1e-15);
  EXPECT_EQ(m.latency_s, 0.0);
}

TEST(Bound, ALongMatmul_IsMxmBound_ItsPipelineTailIsLatency) {
  Program p;
  p.queue(Unit::kMxm) = {testing::matmul(ElemType::kI8, 2048, 64, 128)};
  const StepMetrics m = metrics_of(p);
  // 2 column tiles x 2048 rows over 2 planes stream in 2048 cycles (the 8192 B of weights
  // install in 8); the results leave the 64 + 64 cycle pipeline at 2176 ns.
  EXPECT_NEAR(m.seconds, 2176 * kNsInS, 1e-15);
  EXPECT_NEAR(busy_of(m, "mxm"), 2048 * kNsInS, 1e-15);  // 94% of the step
  EXPECT_EQ(m.bound, "mxm");
  EXPECT_NEAR(m.latency_s, 128 * kNsInS, 1e-15);  // the pipeline, nothing busy
}

TEST(Bound, AChainOfDependentShortInstructions_IsLatencyBound) {
  // VXM and MXM pass a token back and forth, one 1-cycle NOP per hop: each hop waits for a
  // NOTIFY to land and the WAIT to resume, so most of the step nothing is busy.
  Program p;
  p.semaphores = {{"to_mxm", 0}, {"to_vxm", 0}};
  const Instruction to_mxm = sem_op(Opcode::kNotify, 0);
  const Instruction to_vxm = sem_op(Opcode::kNotify, 1);
  const Instruction from_vxm = sem_op(Opcode::kWait, 0);
  const Instruction from_mxm = sem_op(Opcode::kWait, 1);
  p.queue(Unit::kVxm) = {nop(1), to_mxm, from_mxm, nop(1), to_mxm, from_mxm, nop(1)};
  p.queue(Unit::kMxm) = {from_vxm, nop(1), to_vxm, from_vxm, nop(1), to_vxm};
  const StepMetrics m = metrics_of(p);
  EXPECT_EQ(m.bound, "latency");
  for (const UnitMetrics& u : m.units) EXPECT_LT(u.busy_s, 0.8 * m.seconds) << u.name;
  EXPECT_GT(m.latency_s, 0.0);
  EXPECT_EQ(m.bandwidth_bound_s, 0.0);  // nothing was transferred
}

}  // namespace
}  // namespace lpusim
