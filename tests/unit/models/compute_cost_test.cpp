// Cycle costs of VXM and MXM instructions (docs/ISA.md "Cost"), exact where the model is exact.
#include "models/compute_cost.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

Instruction vector_op(Opcode op, ElemType type, std::uint64_t n) {
  Instruction inst;
  inst.opcode = op;
  inst.type = type;
  inst.n1 = n;
  return inst;
}

using testing::matmul;

VxmCost vxm() {
  const HwConfig hw = testing::round_number_chip();  // 16 lanes x 4 ALUs
  return VxmCost(hw.vxm, hw.sram);
}

TEST(VxmCost, OpOverLanesTimesAlusElements_TakesOneCycle) {
  EXPECT_EQ(vxm().of(vector_op(Opcode::kAdd, ElemType::kI8, 64)).occupancy_cycles, 1u);
}

TEST(VxmCost, OneElementMoreThanLanesTimesAlus_TakesTwoCycles) {
  EXPECT_EQ(vxm().of(vector_op(Opcode::kAdd, ElemType::kI8, 65)).occupancy_cycles, 2u);
}

TEST(VxmCost, NElements_CostCeilOfCeilNOverLanesOverAlus) {
  // ceil(640 / 16) = 40 ALU passes over 4 ALUs = 10 cycles.
  EXPECT_EQ(vxm().of(vector_op(Opcode::kShl, ElemType::kU8, 640)).occupancy_cycles, 10u);
  // 2-D shapes count all elements: 10 x 64 = 640.
  Instruction two_d = vector_op(Opcode::kShl, ElemType::kU8, 64);
  two_d.n0 = 10;
  EXPECT_EQ(vxm().of(two_d).occupancy_cycles, 10u);
}

TEST(VxmCost, Transcendental_CostsFourAluPassesPerElement) {
  EXPECT_EQ(vxm().of(vector_op(Opcode::kExp, ElemType::kF32, 64)).occupancy_cycles, 4u);
}

TEST(VxmCost, OpIsNeverFasterThanItsSramTraffic) {
  HwConfig hw = testing::round_number_chip();
  hw.sram.bytes_per_cycle = 64;
  const VxmCost cost(hw.vxm, hw.sram);
  // ADD.f32 over 6400 elements: 100 ALU cycles, but 3 x 6400 x 4 B = 76,800 B / 64 = 1200.
  const UnitCost c = cost.of(vector_op(Opcode::kAdd, ElemType::kF32, 6400));
  EXPECT_EQ(c.sram_bytes, 76'800u);
  EXPECT_EQ(c.occupancy_cycles, 1200u);
}

TEST(VxmCost, RepeatedOp_CostsItsRepetitionsEachAtLeastACycle) {
  // One repetition of 10 i8 elements takes one cycle; 7 of them take 7, not ceil(70 / 64) = 2:
  // a repeat shares the issue, not the ALU passes of its repetitions.
  Instruction inst = vector_op(Opcode::kAdd, ElemType::kI8, 10);
  const UnitCost one = vxm().of(inst);
  inst.rep = 7;
  const UnitCost seven = vxm().of(inst);
  EXPECT_EQ(one.occupancy_cycles, 1u);
  EXPECT_EQ(seven.occupancy_cycles, 7u);
  EXPECT_EQ(seven.sram_bytes, 7 * one.sram_bytes);
  EXPECT_EQ(seven.alu_ops, 70u);
}

TEST(VxmCost, RepeatedOp_IsNeverFasterThanItsRepetitionsSramTraffic) {
  HwConfig hw = testing::round_number_chip();
  hw.sram.bytes_per_cycle = 64;
  const VxmCost cost(hw.vxm, hw.sram);
  // 3 x ADD.f32 over 6400 elements: 3 x 76,800 B / 64 = 3600 cycles.
  Instruction inst = vector_op(Opcode::kAdd, ElemType::kF32, 6400);
  inst.rep = 3;
  EXPECT_EQ(cost.of(inst).occupancy_cycles, 3600u);
  EXPECT_EQ(cost.of(inst).sram_bytes, 230'400u);
}

TEST(MxmCost, Gemv_IsBoundByWeightInstall) {
  const MxmCost cost(testing::round_number_chip().mxm);
  // 128 x 64 int8 weights = 8192 B at 1024 B/cycle = 8 cycles; 2 passes on 2 planes = 1 cycle.
  const UnitCost c = cost.of(matmul(ElemType::kI8, 1, 128, 64, 0));
  EXPECT_EQ(c.occupancy_cycles, 8u);
  EXPECT_EQ(c.latency_cycles, 128u);  // the chip's mxm.latency
  EXPECT_EQ(c.macs, 8192u);
}

TEST(MxmCost, ManyRows_StreamOneRowPerCyclePerPass) {
  const MxmCost cost(testing::round_number_chip().mxm);
  EXPECT_EQ(cost.of(matmul(ElemType::kI8, 100, 128, 64, 0)).occupancy_cycles, 100u);
}

TEST(MxmCost, GroupsSmallerThanTheArray_NeedAPassEach) {
  const MxmCost cost(testing::round_number_chip().mxm);
  // kgroup 32: 4 groups -> 4 passes of depth 32 on 2 planes = 2 x 100 rows.
  EXPECT_EQ(cost.of(matmul(ElemType::kI8, 100, 128, 64, 32)).occupancy_cycles, 200u);
}

TEST(MxmCost, PassesNotAMultipleOfPlanes_HoldTheQueueForTheirShareAndDelayTheResult) {
  const MxmCost cost(testing::round_number_chip().mxm);
  // k 192 = 3 passes of 64 on 2 planes, 100 rows each: the queue is held 3 x 100 / 2 = 150
  // cycles; the plane with two passes finishes at 200, so results come 50 cycles after the fill.
  const UnitCost c = cost.of(matmul(ElemType::kI8, 100, 192, 64, 0));
  EXPECT_EQ(c.occupancy_cycles, 150u);
  EXPECT_EQ(c.latency_cycles, 128u + 50u);
}

TEST(MxmCost, F16_RunsAtAQuarterOfTheInt8Rate) {
  const MxmCost cost(testing::round_number_chip().mxm);
  EXPECT_EQ(cost.of(matmul(ElemType::kF16, 100, 128, 64, 0)).occupancy_cycles, 400u);
}

TEST(MxmCost, RandomShapes_AreNeverFasterThanMacsOverPeak) {
  const MxmCost cost(testing::round_number_chip().mxm);
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    const auto m = static_cast<std::uint32_t>(1 + rng() % 300);
    const auto k = static_cast<std::uint32_t>(1 + rng() % 1000);
    const auto n = static_cast<std::uint32_t>(1 + rng() % 1000);
    const auto g = static_cast<std::uint32_t>(rng() % 3 == 0 ? 0 : 1 + rng() % 256);
    const UnitCost c = cost.of(matmul(ElemType::kI8, m, k, n, g));
    EXPECT_GE(c.occupancy_cycles * cost.peak_macs_per_cycle(), c.macs)
        << "m=" << m << " k=" << k << " n=" << n << " kgroup=" << g;
  }
}

}  // namespace
}  // namespace lpusim
