// ProgramBuilder and validate_program: unique declarations with ids, canonical transfers, shared
// scratch buffers sized for the largest user, and validation errors naming queue and index.
#include "kernels/program_builder.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "kernels/error.h"

namespace lpusim {
namespace {

TEST(ProgramBuilder, Declarations_ReturnIdsAndAreFoundByName) {
  ProgramBuilder b;
  EXPECT_EQ(b.add_buffer("a", 16), 0u);
  EXPECT_EQ(b.add_buffer("b", 32), 1u);
  EXPECT_EQ(b.add_region("a", 64), 0u);  // regions are a namespace of their own
  EXPECT_EQ(b.add_semaphore("s", 2), 0u);
  EXPECT_EQ(b.intern_tag("layer0.mlp.up"), 1u);
  EXPECT_EQ(b.intern_tag("layer0.mlp.up"), 1u);
  EXPECT_EQ(b.intern_tag(""), 0u);
  EXPECT_EQ(b.find_buffer("b"), 1u);
  EXPECT_FALSE(b.find_buffer("c").has_value());
  EXPECT_EQ(b.find_region("a"), 0u);
  EXPECT_EQ(b.find_semaphore("s"), 0u);
  EXPECT_EQ(b.find_tag("layer0.mlp.up"), 1u);
  EXPECT_EQ(b.program().semaphores[0].initial, 2u);
  EXPECT_EQ(b.program().sram_bytes(), 48u);
}

TEST(ProgramBuilder, DuplicateOrBadName_IsAnInputError) {
  ProgramBuilder b;
  b.add_buffer("a", 16);
  EXPECT_THROW(b.add_buffer("a", 8), InputError);
  EXPECT_THROW(b.add_region("has space", 8), InputError);
  EXPECT_THROW(b.add_semaphore("x+1"), InputError);
  EXPECT_THROW(b.add_buffer("", 8), InputError);
}

TEST(ProgramBuilder, ScratchBuffer_GrowsToTheLargestRequest) {
  ProgramBuilder b;
  const std::uint32_t id = b.scratch_buffer("tmp", 100);
  EXPECT_EQ(b.scratch_buffer("tmp", 50), id);
  EXPECT_EQ(b.scratch_buffer("tmp", 300), id);
  EXPECT_EQ(b.program().buffers[id].bytes, 300u);
}

TEST(ProgramBuilder, Load_MergesContiguousRowsAndKeepsStridedOnes) {
  ProgramBuilder b;
  const std::uint32_t buf = b.add_buffer("buf", 4096);
  const std::uint32_t reg = b.add_region("reg", 1 << 20);
  b.load(buf, 0, reg, 0, 100, 10, 100);   // contiguous: one row of 1000 bytes
  b.load(buf, 0, reg, 64, 100, 10, 512);  // strided
  const auto& mem = b.program().queue(Unit::kMem);
  EXPECT_EQ(mem[0].bytes, 1000u);
  EXPECT_EQ(mem[0].n0, 1u);
  EXPECT_EQ(mem[1].bytes, 100u);
  EXPECT_EQ(mem[1].n0, 10u);
  EXPECT_EQ(mem[1].a.row_stride, 512);
  EXPECT_EQ(mem[1].dst.row_stride, 100);  // SRAM side contiguous
}

TEST(ProgramBuilder, Load_KeepsRowsWhenOneMergedRowWouldPassA32BitStride) {
  ProgramBuilder b;
  const std::uint64_t gib = 1ull << 30;
  const std::uint32_t buf = b.add_buffer("buf", 4 * gib);
  const std::uint32_t reg = b.add_region("reg", 4 * gib);
  b.load(buf, 0, reg, 0, gib, 4, gib);  // 4 GiB contiguous: stays 4 rows of 1 GiB
  const Instruction& load = b.program().queue(Unit::kMem)[0];
  EXPECT_EQ(load.bytes, gib);
  EXPECT_EQ(load.n0, 4u);
  EXPECT_EQ(load.transfer_bytes(), 4 * gib);
}

TEST(ProgramBuilder, ValuesBeyondTheInstructionFields_AreInputErrors) {
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", 64);
  EXPECT_THROW(b.nop(Unit::kVxm, 1ull << 32), InputError);
  EXPECT_THROW(b.unary(Opcode::kMov, ElemType::kI8, View{x, 0, 1, 8}, View{x, 0, 1, 8},
                       Shape{1ull << 32, 1}),
               InputError);
  EXPECT_THROW(View(x, 0, 1, 1ll << 31), InputError);   // strides are 32-bit
  EXPECT_THROW(View(x, 1ull << 40, 1, 8), InputError);  // offsets are 40-bit
  EXPECT_THROW(View(1ull << 24, 0, 1, 8), InputError);  // 2^24 buffers or regions
  EXPECT_THROW(b.add_region("huge", 1ull << 40), InputError);
  EXPECT_NO_THROW(View(x, (1ull << 40) - 1, -(1ll << 31), (1ll << 31) - 1));
}

TEST(ProgramBuilder, Repeat_SetsCountAndStrides_CountOneDropsTheStrides) {
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", 1024);
  const ElemType f32 = ElemType::kF32;
  b.vector(Opcode::kAdd, f32, View{x, 0, 4, 16}, View{x, 0, 4, 16}, View{x, 64, 4, 16}, Shape{1, 4},
           Repeat{8, 0, 0, 16});
  b.unary(Opcode::kMov, f32, View{x, 0, 4, 16}, View{x, 64, 4, 16}, Shape{1, 4},
          Repeat{1, 16, 16, 0});
  const Instruction& add = b.program().queue(Unit::kVxm)[0];
  EXPECT_EQ(add.rep, 8u);
  EXPECT_EQ(add.rep_stride, (std::array<std::int32_t, kOperandCount>{0, 0, 16}));
  const Instruction& mov = b.program().queue(Unit::kVxm)[1];
  EXPECT_EQ(mov.rep, 1u);
  EXPECT_EQ(mov.rep_stride, (std::array<std::int32_t, kOperandCount>{}));
  EXPECT_NO_THROW(b.finish());
  ProgramBuilder c;
  const std::uint32_t y = c.add_buffer("y", 1024);
  EXPECT_THROW(c.unary(Opcode::kMov, f32, View{y, 0, 4, 16}, View{y, 0, 4, 16}, Shape{1, 4},
                       Repeat{2, 1ll << 31, 0, 0}),
               InputError);
  EXPECT_THROW(c.unary(Opcode::kMov, f32, View{y, 0, 4, 16}, View{y, 0, 4, 16}, Shape{1, 4},
                       Repeat{1ull << 32, 0, 0, 0}),
               InputError);
}

TEST(Instruction, Elements_CountEveryRepetition_SaturatingAt64Bits) {
  Instruction inst;
  inst.n0 = 3;
  inst.n1 = 5;
  inst.rep = 7;
  EXPECT_EQ(inst.repetition_elements(), 15u);
  EXPECT_EQ(inst.elements(), 105u);
  inst.n0 = UINT32_MAX;
  inst.n1 = UINT32_MAX;
  inst.rep = UINT32_MAX;
  EXPECT_EQ(inst.elements(), UINT64_MAX);
}

TEST(Instruction, Is112BytesAndViewsAre16) {
  EXPECT_EQ(sizeof(Instruction), 112u);
  EXPECT_EQ(sizeof(View), 16u);
  const View v(7, (1ull << 40) - 1, -4, 123456);
  EXPECT_EQ(v.space, 7u);
  EXPECT_EQ(v.offset, (1ull << 40) - 1);
  EXPECT_EQ(v.col_stride, -4);
  EXPECT_EQ(v.row_stride, 123456);
}

// The views an instruction has, and where they live (what the builder's live-range check reads).
TEST(Instruction, OperandSpace_NamesBuffersRegionsAndAbsentViews) {
  using S = OperandSpace;
  const auto spaces = [](Opcode op, bool imm) {
    Instruction inst;
    inst.opcode = op;
    inst.b_is_imm = imm;
    const OpcodeInfo& info = opcode_info(op);
    return std::array<S, 3>{operand_space(inst, info, Operand::kDst),
                            operand_space(inst, info, Operand::kA),
                            operand_space(inst, info, Operand::kB)};
  };
  EXPECT_EQ(spaces(Opcode::kLoad, false), (std::array<S, 3>{S::kBuffer, S::kRegion, S::kNone}));
  EXPECT_EQ(spaces(Opcode::kStore, false), (std::array<S, 3>{S::kRegion, S::kBuffer, S::kNone}));
  EXPECT_EQ(spaces(Opcode::kAdd, false), (std::array<S, 3>{S::kBuffer, S::kBuffer, S::kBuffer}));
  EXPECT_EQ(spaces(Opcode::kAdd, true), (std::array<S, 3>{S::kBuffer, S::kBuffer, S::kNone}));
  EXPECT_EQ(spaces(Opcode::kExp, false), (std::array<S, 3>{S::kBuffer, S::kBuffer, S::kNone}));
  EXPECT_EQ(spaces(Opcode::kMatmul, false), (std::array<S, 3>{S::kBuffer, S::kBuffer, S::kBuffer}));
  EXPECT_EQ(spaces(Opcode::kWait, false), (std::array<S, 3>{S::kNone, S::kNone, S::kNone}));
}

TEST(ProgramBuilder, Tag_IsStampedOnEveryInstruction) {
  ProgramBuilder b;
  const std::uint32_t s = b.add_semaphore("s");
  b.set_tag(b.intern_tag("attn"));
  b.notify(Unit::kVxm, s);
  b.set_tag(0);
  b.wait(Unit::kMxm, s);
  const Program p = b.finish();
  EXPECT_EQ(p.queue(Unit::kVxm)[0].tag, 1u);
  EXPECT_EQ(p.queue(Unit::kMxm)[0].tag, 0u);
}

TEST(ValidateProgram, ViewPastItsBuffer_NamesQueueIndexAndBytes) {
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", 64);
  b.unary(Opcode::kMov, ElemType::kF32, contiguous_view(x, 0, ElemType::kF32, 8),
          contiguous_view(x, 0, ElemType::kF32, 8), Shape{2, 8});
  b.unary(Opcode::kMov, ElemType::kF32, contiguous_view(x, 4, ElemType::kF32, 8),
          contiguous_view(x, 0, ElemType::kF32, 8), Shape{2, 8});
  try {
    b.finish();
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("queue vxm, instruction 1 (MOV.f32): dst=x+4:4:32 covers 2x8 elements "
                        "of 4 bytes up to byte 68, past the end of buffer x (64 bytes)"),
              std::string::npos)
        << what;
  }
}

TEST(ValidateProgram, OpcodeOnTheWrongQueueOrUndeclaredSemaphore_IsAnInputError) {
  Program p;
  Instruction load;
  load.opcode = Opcode::kLoad;
  p.queue(Unit::kVxm).push_back(load);
  EXPECT_THROW(validate_program(p), InputError);
  Program q;
  Instruction wait;
  wait.opcode = Opcode::kWait;
  wait.sem = 3;
  q.queue(Unit::kMxm).push_back(wait);
  try {
    validate_program(q);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("queue mxm, instruction 0 (WAIT): sem: semaphore #3 is "
                                         "not declared"),
              std::string::npos)
        << e.what();
  }
}

TEST(ValidateProgram, TypesAndImmediates_FollowTheOpcode) {
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", 64);
  const View v = contiguous_view(x, 0, ElemType::kI8, 8);
  const auto check = [&](Opcode op, ElemType t, double imm) {
    Instruction inst;
    inst.opcode = op;
    inst.type = t;
    inst.dst = v;
    inst.a = v;
    inst.b_is_imm = true;
    inst.imm = imm;
    inst.n1 = 8;
    return check_instruction(b.program(), Unit::kVxm, inst);
  };
  EXPECT_EQ(check(Opcode::kSar, ElemType::kI8, 7), "");
  EXPECT_NE(check(Opcode::kSar, ElemType::kI8, 8), "");
  EXPECT_NE(check(Opcode::kAnd, ElemType::kF32, 1), "");
  EXPECT_EQ(check(Opcode::kAnd, ElemType::kI8, -128), "");
  EXPECT_EQ(check(Opcode::kAnd, ElemType::kI8, 255), "");
  EXPECT_NE(check(Opcode::kAnd, ElemType::kI8, 256), "");
  EXPECT_NE(check(Opcode::kAdd, ElemType::kI8, 0.5), "");
  EXPECT_EQ(check(Opcode::kMul, ElemType::kF16, 0.5), "");
}

}  // namespace
}  // namespace lpusim
