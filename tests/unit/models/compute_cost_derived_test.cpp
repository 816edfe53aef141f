// The SRAM bytes and ALU operations behind the energy figure, and MXM passes on a non-square
// array, worked out by hand for single instructions (docs/ISA.md "Cost").
#include <gtest/gtest.h>

#include "models/compute_cost.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

Instruction vector_op(Opcode op, ElemType type, std::uint32_t rows, std::uint32_t cols) {
  Instruction inst;
  inst.opcode = op;
  inst.type = type;
  inst.n0 = rows;
  inst.n1 = cols;
  return inst;
}

UnitCost vxm_cost(const Instruction& inst) {
  const HwConfig hw = testing::round_number_chip();
  return VxmCost(hw.vxm, hw.sram).of(inst);
}

TEST(ComputeCostDerived, Mad_ReadsA_B_AndDst_ThenWritesDst) {
  // 64 f32 elements: a, b and the accumulator read (3 x 256 B), the result written (256 B)
  const UnitCost c = vxm_cost(vector_op(Opcode::kMad, ElemType::kF32, 1, 64));
  EXPECT_EQ(c.sram_bytes, 4u * 256u);
  EXPECT_EQ(c.alu_ops, 64u);
}

TEST(ComputeCostDerived, Add_ReadsTwoOperandsAndWritesOne) {
  const UnitCost c = vxm_cost(vector_op(Opcode::kAdd, ElemType::kI8, 2, 64));
  EXPECT_EQ(c.sram_bytes, 3u * 128u);  // 128 int8 elements, one byte each
  EXPECT_EQ(c.alu_ops, 128u);
}

TEST(ComputeCostDerived, AddImmediate_ReadsOnlyA) {
  Instruction inst = vector_op(Opcode::kAdd, ElemType::kF32, 1, 64);
  inst.b_is_imm = true;
  EXPECT_EQ(vxm_cost(inst).sram_bytes, 2u * 256u);
}

TEST(ComputeCostDerived, Reduction_WritesOneValuePerRow) {
  // RSUM of 4 rows of 64 f32: reads 1024 B, writes 4 x 4 B
  const UnitCost c = vxm_cost(vector_op(Opcode::kRsum, ElemType::kF32, 4, 64));
  EXPECT_EQ(c.sram_bytes, 1024u + 16u);
  EXPECT_EQ(c.alu_ops, 256u);
}

TEST(ComputeCostDerived, Convert_ReadsTheSourceTypeAndWritesTheDestinationType) {
  Instruction inst = vector_op(Opcode::kCvt, ElemType::kF32, 1, 64);
  inst.src_type = ElemType::kF16;
  EXPECT_EQ(vxm_cost(inst).sram_bytes, 64u * 2u + 64u * 4u);
}

TEST(ComputeCostDerived, Transcendental_CountsFourAluOpsPerElement) {
  const UnitCost c = vxm_cost(vector_op(Opcode::kExp, ElemType::kF32, 1, 64));
  EXPECT_EQ(c.alu_ops, 4u * 64u);
  EXPECT_EQ(c.occupancy_cycles, 4u);  // 4 x 64 / (16 lanes x 4 ALUs)
}

using testing::matmul;

TEST(ComputeCostDerived, NonSquareArray_PassDepthIsItsRows_TileWidthItsCols) {
  MxmConfig mxm = testing::round_number_chip().mxm;
  mxm.rows = 32;
  mxm.cols = 128;
  mxm.latency_cycles = 160;
  const MxmCost cost(mxm);
  // k 64 over 32 rows = 2 passes, n 128 in one column tile: 2 passes x 100 rows over 2 planes =
  // 100 cycles (install 64 x 128 B / 1024 = 8); results mxm.latency = 160 cycles later.
  const UnitCost c = cost.of(matmul(ElemType::kI8, 100, 64, 128));
  EXPECT_EQ(c.occupancy_cycles, 100u);
  EXPECT_EQ(c.latency_cycles, 160u);
  EXPECT_EQ(cost.peak_macs_per_cycle(), 2u * 32u * 128u);
}

TEST(ComputeCostDerived, MatmulSram_IsWeightsActivationsAndInt32PartialSums) {
  const MxmCost cost(testing::round_number_chip().mxm);
  // k 128 in groups of 32: 4 partial sums per output. Weights 128 x 64 B, activations 2 x 128 B,
  // outputs 2 x 4 x 64 x 4 B.
  const UnitCost c = cost.of(matmul(ElemType::kI8, 2, 128, 64, 32));
  EXPECT_EQ(c.sram_bytes, 128u * 64u + 2u * 128u + 2u * 4u * 64u * 4u);
  EXPECT_EQ(c.macs, 2u * 128u * 64u);
  // f16: two bytes per weight and activation
  const UnitCost h = cost.of(matmul(ElemType::kF16, 2, 128, 64));
  EXPECT_EQ(h.sram_bytes, 2u * 128u * 64u + 2u * 2u * 128u + 2u * 64u * 4u);
}

}  // namespace
}  // namespace lpusim
