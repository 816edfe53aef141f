// A repeated VXM op (docs/ISA.md "Repeat") gives the bytes of its repetitions written out as
// separate instructions, in order, in both the functional executor and the tests' reference
// interpreter.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/program.h"
#include "models/functional.h"
#include "tests/support/instructions.h"
#include "tests/unit/kernels/reference_executor.h"

namespace lpusim {
namespace {

constexpr std::uint64_t kBytes = 4096;

Program two_buffers() {
  Program p;
  p.buffers = {{"x", kBytes}, {"y", kBytes}};
  return p;
}

// The repetitions of `inst`, written out by hand (not through repetition()).
std::vector<Instruction> unrolled(const Instruction& inst) {
  std::vector<Instruction> out;
  for (std::uint32_t r = 0; r < inst.rep; ++r) {
    Instruction one = inst;
    one.rep = 1;
    one.rep_stride = {};
    one.dst.offset = inst.dst.offset + std::uint64_t{r} * inst.rep_stride[0];
    one.a.offset = inst.a.offset + std::uint64_t{r} * inst.rep_stride[1];
    one.b.offset = inst.b.offset + std::uint64_t{r} * inst.rep_stride[2];
    out.push_back(one);
  }
  return out;
}

std::vector<std::uint8_t> random_bytes(std::mt19937& rng) {
  // Small f32 values (bit patterns of floats in [-4, 4)) so every op stays finite.
  std::uniform_real_distribution<float> value(-4, 4);
  std::vector<std::uint8_t> bytes(kBytes);
  for (std::uint64_t i = 0; i < kBytes; i += 4) {
    const float f = value(rng);
    std::memcpy(bytes.data() + i, &f, 4);
  }
  return bytes;
}

// Runs `program` on the functional executor and on the reference interpreter, from the same
// random bytes; both must agree, and are returned (functional first).
std::vector<std::vector<std::uint8_t>> run_both(const Program& program, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<std::uint8_t> x = random_bytes(rng), y = random_bytes(rng);
  FunctionalState functional(program);
  testing::ReferenceMachine reference(program);
  functional.buffer(0) = reference.buffers[0] = x;
  functional.buffer(1) = reference.buffers[1] = y;
  for (const Instruction& inst : program.queue(Unit::kVxm)) {
    functional.execute(inst);
    reference.execute(inst);
  }
  EXPECT_EQ(functional.buffer(0), reference.buffers[0]);
  EXPECT_EQ(functional.buffer(1), reference.buffers[1]);
  return {functional.buffer(0), functional.buffer(1)};
}

using testing::vxm_op;

// Checks that `repeated` and its hand-unrolled repetitions give the same bytes.
void expect_same_as_unrolled(const Instruction& repeated, unsigned seed) {
  Program once = two_buffers(), spelled = two_buffers();
  once.queue(Unit::kVxm).push_back(repeated);
  spelled.queue(Unit::kVxm) = unrolled(repeated);
  validate_program(once);
  validate_program(spelled);
  EXPECT_EQ(run_both(once, seed), run_both(spelled, seed)) << instruction_name(repeated);
}

TEST(FunctionalRepeat, RepeatedOp_EqualsItsRepetitionsWrittenOut) {
  const ElemType f32 = ElemType::kF32;
  // MAD over 4 x 8 blocks, one per repetition; b steps by one element (a broadcast column).
  Instruction mad =
      vxm_op(Opcode::kMad, f32, View{1, 0, 4, 32}, View{0, 0, 4, 32}, View{0, 2048, 0, 4}, 4, 8);
  mad.rep = 6;
  mad.rep_stride = {128, 128, 4};
  expect_same_as_unrolled(mad, 1);
  // RSUM with a transposed source, repeated over rows of a [rep][n] destination.
  Instruction rsum =
      vxm_op(Opcode::kRsum, f32, View{1, 64, 4, 32}, View{0, 0, 32, 4}, View{}, 8, 3);
  rsum.rep = 5;
  rsum.rep_stride = {40, 96, 0};
  expect_same_as_unrolled(rsum, 2);
  // CVT f32 -> i8 (different element sizes on dst and a).
  Instruction cvt =
      vxm_op(Opcode::kCvt, ElemType::kI8, View{1, 0, 1, 16}, View{0, 0, 4, 64}, View{}, 2, 16);
  cvt.src_type = f32;
  cvt.rep = 9;
  cvt.rep_stride = {32, 128, 0};
  expect_same_as_unrolled(cvt, 3);
}

TEST(FunctionalRepeat, RepetitionsRunInOrder_EachSeeingTheWritesOfTheOnesBefore) {
  // dst and a do not move (repeat stride 0): y[0..8) accumulates x[0..8) + x[32..40) + ... in
  // order, one f32 rounding per repetition, as the epilogue's group sum does.
  const ElemType f32 = ElemType::kF32;
  Instruction add =
      vxm_op(Opcode::kAdd, f32, View{1, 0, 4, 32}, View{1, 0, 4, 32}, View{0, 0, 4, 32}, 1, 8);
  add.rep = 12;
  add.rep_stride = {0, 0, 32};
  expect_same_as_unrolled(add, 4);
  Program p = two_buffers();
  p.queue(Unit::kVxm).push_back(add);
  const auto out = run_both(p, 4);
  std::mt19937 rng(4);
  const std::vector<std::uint8_t> x = random_bytes(rng), y = random_bytes(rng);
  for (int j = 0; j < 8; ++j) {
    float acc = 0, v = 0, got = 0;
    std::memcpy(&acc, y.data() + 4 * j, 4);
    for (int r = 0; r < 12; ++r) {
      std::memcpy(&v, x.data() + 32 * r + 4 * j, 4);
      acc = acc + v;
    }
    std::memcpy(&got, out[1].data() + 4 * j, 4);
    EXPECT_EQ(got, acc) << "element " << j;
  }
}

TEST(FunctionalRepeat, Repetition_MovesEachViewByItsStrideAndDropsTheRepeat) {
  Instruction inst = vxm_op(Opcode::kAdd, ElemType::kI32, View{1, 8, 4, 16}, View{0, 4, 4, 16},
                            View{0, 100, 4, 16}, 2, 4);
  inst.rep = 3;
  inst.rep_stride = {32, 0, 12};
  const Instruction third = repetition(inst, 2);
  EXPECT_EQ(third.rep, 1u);
  EXPECT_EQ(third.rep_stride, (std::array<std::int32_t, kOperandCount>{}));
  EXPECT_EQ(third.dst.offset, 72u);
  EXPECT_EQ(third.a.offset, 4u);
  EXPECT_EQ(third.b.offset, 124u);
  EXPECT_EQ(third.dst.row_stride, 16);
}

}  // namespace
}  // namespace lpusim
