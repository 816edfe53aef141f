// `.lpuasm`: write then read gives the same program for generated kernels of every format; every
// kind of malformed line is reported with its file:line and what was expected.
#include "kernels/asm.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>
#include <string>

#include "kernels/error.h"
#include "kernels/gemm_kernel.h"

namespace lpusim {
namespace {

HwConfig test_hw(WeightPlacement weights) {
  HwConfig hw;
  hw.weights = weights;
  hw.sram = SramConfig{Bytes{220ull << 20}, 56320};
  hw.mxm = MxmConfig{4, 320, 320, 10240};
  hw.vxm = VxmConfig{320, 16};
  hw.dispatch = DispatchConfig{1};
  return hw;
}

GemmSpec spec_of(const std::string& format, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  GemmSpec s;
  s.name = "layer0.mlp.up";
  s.m = m;
  s.k = k;
  s.n = n;
  s.format = parse_format(format);
  s.group_size = 128;
  return s;
}

TEST(Asm, WriteThenRead_GivesTheSameProgram_GemmInEveryFormat) {
  for (const std::string& name : builtin_format_names()) {
    for (WeightPlacement p : {WeightPlacement::kStreamed, WeightPlacement::kResident}) {
      const Program program = build_gemm_program(spec_of(name, 3, 1024, 700), test_hw(p)).program;
      const std::string text = write_asm(program);
      const Program back = read_asm(text, "k.lpuasm");
      EXPECT_TRUE(back == program) << name;
      EXPECT_EQ(write_asm(back), text) << name;
    }
  }
  const Program pattern =
      build_gemm_program(spec_of("pattern:3,3,3", 1, 384, 50), test_hw(WeightPlacement::kStreamed))
          .program;
  EXPECT_TRUE(read_asm(write_asm(pattern), "p.lpuasm") == pattern);
}

// A buffer's live phases (`live=`, docs/ISA.md) round-trip, count in the SRAM the program needs,
// and a malformed or misplaced live= is an error at its line.
TEST(Asm, LivePhases_RoundTripAndShareSram) {
  const std::string text =
      ".buffer a bytes=100 live=1\n"
      ".buffer b bytes=70 live=2\n"
      ".buffer c bytes=10\n"
      ".queue mem\n"
      "  HALT\n";
  const Program p = read_asm(text, "live.lpuasm");
  ASSERT_EQ(p.buffers.size(), 3U);
  EXPECT_EQ(p.buffers[0].live, 1U);
  EXPECT_EQ(p.buffers[1].live, 2U);
  EXPECT_EQ(p.buffers[2].live, 0U);
  EXPECT_EQ(p.sram_bytes(), 110U);  // c everywhere, then a or b, never both
  EXPECT_EQ(p.sram_bytes_in(2), 80U);
  EXPECT_TRUE(read_asm(write_asm(p), "back.lpuasm") == p);
  for (const char* bad : {".buffer a bytes=100 live=x\n", ".buffer a bytes=100 live=1 live=2\n",
                          ".region r bytes=100 live=1\n"}) {
    try {
      read_asm(bad, "bad.lpuasm");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.lpuasm:1:"), std::string::npos) << e.what();
    }
  }
}

TEST(Asm, OnChipRegion_RoundTripsAndCountsInSram) {
  const std::string text =
      ".buffer a bytes=100\n"
      ".region cache bytes=40 place=sram\n"
      ".region far bytes=1000 place=memory\n"
      ".region table bytes=500\n"
      ".queue mem\n"
      "  HALT\n";
  const Program p = read_asm(text, "place.lpuasm");
  ASSERT_EQ(p.regions.size(), 3U);
  EXPECT_TRUE(p.regions[0].on_chip);
  EXPECT_FALSE(p.regions[1].on_chip);
  EXPECT_FALSE(p.regions[2].on_chip);
  EXPECT_EQ(p.sram_bytes(), 140U);  // the buffer and the on-chip region, never the others
  const std::string back = write_asm(p);
  EXPECT_NE(back.find(".region cache bytes=40 place=sram\n"), std::string::npos) << back;
  EXPECT_NE(back.find(".region far bytes=1000\n"), std::string::npos) << back;
  EXPECT_TRUE(read_asm(back, "back.lpuasm") == p);
  for (const char* bad :
       {".region r bytes=100 place=hbm\n", ".region r bytes=100 place=sram place=sram\n",
        ".buffer b bytes=100 place=sram\n"}) {
    try {
      read_asm(bad, "bad.lpuasm");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.lpuasm:1:"), std::string::npos) << e.what();
    }
  }
}

TEST(Asm, Read_AcceptsTheDocumentedExample) {
  const std::string text = R"(# comments run to the end of the line
.buffer  wq0  bytes=1146888          # on-chip SRAM buffer (static allocation)
.buffer  t bytes=8192
.buffer  acc bytes=81920
.buffer  part bytes=81920
.buffer  w8 bytes=2621440
.buffer  x8 bytes=8192
.region  layer0.q.qweight bytes=29360128   # off-chip memory region
.sem     wq0_full                     # counting semaphore, initial value 0
.sem     wq0_free init=1
.tag     layer0.attn.q                # optional: declares tag 1 (instructions refer by name)

.queue mem
  WAIT   sem=wq0_free
  LOAD   dst=wq0 a=layer0.q.qweight+0 bytes=3584 rows=320 tag=layer0.attn.q
  NOTIFY sem=wq0_full
.queue vxm
  WAIT   sem=wq0_full
  SHR.u16 dst=t+0:2 a=wq0+0:7 imm=0 n=4096
  CVT.f32.i32 dst=acc a=part n=64x320
.queue mxm
  MATMUL.i8 dst=part a=w8 b=x8 m=1 k=8192 n=320 kgroup=128
)";
  const Program p = read_asm(text, "example.lpuasm");
  ASSERT_EQ(p.queue(Unit::kMem).size(), 3u);
  const Instruction& load = p.queue(Unit::kMem)[1];
  EXPECT_EQ(load.opcode, Opcode::kLoad);
  EXPECT_EQ(load.n0, 320u);
  EXPECT_EQ(load.bytes, 3584u);
  EXPECT_EQ(load.a.row_stride, 3584);
  EXPECT_EQ(p.tags[load.tag], "layer0.attn.q");
  const Instruction& shr = p.queue(Unit::kVxm)[1];
  EXPECT_EQ(instruction_name(shr), "SHR.u16");
  EXPECT_EQ(shr.a.col_stride, 7);
  EXPECT_EQ(shr.a.row_stride, 7 * 4096);
  EXPECT_TRUE(shr.b_is_imm);
  EXPECT_EQ(p.queue(Unit::kMxm)[0].kgroup, 128u);
  EXPECT_EQ(p.semaphores[1].initial, 1u);
  EXPECT_TRUE(read_asm(write_asm(p), "again") == p);
}

TEST(Asm, Write_LeavesOutDefaultStridesAndWritesOthers) {
  const std::string text =
      ".buffer a bytes=64\n.buffer b bytes=64\n.queue vxm\n"
      "  ADD.f32 dst=a a=b:4 b=b+4:8:0 n=2x4\n";
  const Program p = read_asm(text, "t");
  const Instruction& add = p.queue(Unit::kVxm)[0];
  EXPECT_EQ(add.a.row_stride, 16);  // COL given, ROW = n1 x COL
  EXPECT_EQ(add.b.col_stride, 8);
  EXPECT_EQ(add.b.row_stride, 0);
  const std::string out = write_asm(p);
  EXPECT_NE(out.find("ADD.f32 dst=a a=b b=b+4:8:0 n=2x4"), std::string::npos) << out;
}

TEST(Asm, EveryOpcode_RoundTrips) {
  const std::string text = R"(.buffer a bytes=256
.buffer b bytes=256
.region r bytes=1024
.sem s init=3
.tag t
.queue mem
  NOP n=5
  LOAD dst=a a=r+8 bytes=16 rows=4 stride=64
  STORE dst=r+512 a=b bytes=128
  NOTIFY sem=s tag=t
  HALT
.queue vxm
  ADD.i32 dst=a a=b b=a n=4x8
  SUB.u16 dst=a a=b imm=65535 n=8
  ADD.u32 dst=a a=b imm=4294967295 n=8
  ADD.i32 dst=a a=b imm=-2147483648 n=8
  MUL.f16 dst=a a=b imm=0.5 n=8
  MAD.f32 dst=a a=b:0:4 b=a:4:0 n=4x4
  MIN.i8 dst=a a=b imm=-3 n=16
  MAX.u8 dst=a a=b imm=200 n=16
  AND.u32 dst=a a=b imm=255 n=4
  OR.i16 dst=a a=b b=a n=4
  XOR.i8 dst=a a=b imm=1 n=4
  SHL.u32 dst=a a=b imm=31 n=4
  SHR.u16 dst=a+1:7 a=b imm=3 n=2x3
  SAR.i32 dst=a a=b imm=0 n=4
  MOV.f32 dst=a a=b n=4
  ABS.i16 dst=a a=b n=4
  NEG.f16 dst=a a=b n=4
  CVT.f16.f32 dst=a a=b n=4
  EXP.f32 dst=a a=b n=4
  RSQRT.f16 dst=a a=b n=4
  RECIP.f32 dst=a a=b n=4
  RSUM.f32 dst=a a=b n=4x16
  RMAX.i8 dst=a:2 a=b n=8x16
  WAIT sem=s
.queue mxm
  MATMUL.f16 dst=a a=b b=b+32 m=2 k=8 n=4
  MATMUL.i8 dst=a a=b:1:16 b=b m=1 k=16 n=4 kgroup=8
)";
  const Program p = read_asm(text, "all.lpuasm");
  EXPECT_EQ(p.instruction_count(), 31u);
  std::set<Opcode> seen;
  for (const auto& q : p.queues) {
    for (const Instruction& inst : q) seen.insert(inst.opcode);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kOpcodeCount));
  EXPECT_TRUE(read_asm(write_asm(p), "again") == p);
}

TEST(Asm, Repeat_RoundTripsAndLeavesOutRepOneAndZeroStrides) {
  const std::string text =
      ".buffer a bytes=256\n.buffer b bytes=256\n.queue vxm\n"
      "  MAD.f32 dst=a a=b b=a:0:4 n=2x4 rep=4 dst.rs=32 a.rs=32 b.rs=4\n"
      "  ADD.f32 dst=a a=a b=b n=8 rep=3 b.rs=32\n"
      "  RSUM.f32 dst=a:4 a=b:16:4 n=4x2 rep=2 dst.rs=16 a.rs=64\n"
      "  MOV.f32 dst=a a=b n=8 rep=1\n";
  const Program p = read_asm(text, "rep.lpuasm");
  const Instruction& mad = p.queue(Unit::kVxm)[0];
  EXPECT_EQ(mad.rep, 4u);
  EXPECT_EQ(mad.repeat_stride(Operand::kDst), 32);
  EXPECT_EQ(mad.repeat_stride(Operand::kA), 32);
  EXPECT_EQ(mad.repeat_stride(Operand::kB), 4);
  const Instruction& add = p.queue(Unit::kVxm)[1];
  EXPECT_EQ(add.repeat_stride(Operand::kDst), 0);  // 0 stays on the same bytes (accumulates)
  const std::string out = write_asm(p);
  EXPECT_NE(out.find("MAD.f32 dst=a a=b b=a:0:4 n=2x4 rep=4 dst.rs=32 a.rs=32 b.rs=4\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ADD.f32 dst=a a=a b=b n=8 rep=3 b.rs=32\n"), std::string::npos) << out;
  EXPECT_NE(out.find("MOV.f32 dst=a a=b n=8\n"), std::string::npos) << out;
  EXPECT_TRUE(read_asm(out, "again") == p);
}

struct Malformed {
  const char* what;
  std::string text;
  int line;
  const char* message;  // a part of the message
};

TEST(Asm, MalformedLines_ReportFileLineAndWhatWasExpected) {
  const std::string head = ".buffer x bytes=64\n.buffer y bytes=64\n.region r bytes=256\n.sem s\n";
  const Malformed cases[] = {
      {"unknown mnemonic", head + ".queue vxm\n  SHLL.u8 dst=x a=y imm=1 n=4\n", 6,
       "expected an instruction mnemonic, got \"SHLL\" (did you mean SHL?)"},
      {"unknown mnemonic far off", head + ".queue vxm\n  FROB dst=x\n", 6, "known: NOP, NOTIFY"},
      {"unknown operand", head + ".queue vxm\n  SHL.u8 dst=x a=y imm=1 n=4 foo=3\n", 6,
       "SHL: expected operands dst= a= b= imm= n= tag= rep= dst.rs= a.rs= b.rs=, got \"foo=3\""},
      {"operand of another opcode", head + ".queue vxm\n  ABS.f32 dst=x a=y b=x n=4\n", 6,
       "got \"b=x\""},
      {"missing operand", head + ".queue vxm\n\n  SHL.u8 dst=x a=y imm=1\n", 7,
       "SHL: expected operand n="},
      {"b and imm", head + ".queue vxm\n  ADD.i8 dst=x a=y b=x imm=1 n=4\n", 6,
       "expected exactly one of b= and imm=, got both"},
      {"unknown buffer", head + ".queue vxm\n  MOV.i8 dst=z a=y n=4\n", 6,
       "dst: expected a declared buffer, got \"z\""},
      {"region used as buffer", head + ".queue vxm\n  MOV.i8 dst=r a=y n=4\n", 6,
       "dst: expected a declared buffer, got \"r\""},
      {"unknown semaphore", head + ".queue mxm\n  WAIT sem=t\n", 6,
       "sem: expected a declared semaphore, got \"t\""},
      {"unknown tag", head + ".queue mxm\n  WAIT sem=s tag=q\n", 6, "tag: expected a declared tag"},
      {"duplicate declaration", head + ".buffer x bytes=8\n", 5,
       ".buffer: expected a new name, got \"x\", already declared on line 1"},
      {"duplicate semaphore", head + ".sem s init=2\n", 5, "already declared on line 4"},
      {"bad number", head + ".queue mem\n  LOAD dst=x a=r bytes=12x\n", 6,
       "bytes: expected a non-negative integer, got \"12x\""},
      {"bad declaration size", ".buffer x bytes=-1\n", 1, "bytes: expected a non-negative integer"},
      {"bad immediate", head + ".queue vxm\n  MUL.f32 dst=x a=y imm=1..5 n=4\n", 6,
       "imm: expected a number, got \"1..5\""},
      {"bad shape", head + ".queue vxm\n  MOV.i8 dst=x a=y n=4y4\n", 6, "n: expected"},
      {"instruction before .queue", head + "  NOTIFY sem=s\n", 5,
       "expected a .queue directive before the first instruction, got \"NOTIFY\""},
      {"unknown queue", head + ".queue alu\n", 5, ".queue: expected mem, vxm or mxm, got \"alu\""},
      {"unknown directive", ".bufer x bytes=4\n", 1, "expected a directive"},
      {"view out of bounds", head + ".queue vxm\n  MOV.f32 dst=x a=y+8 n=2x8\n", 6,
       "past the end of buffer y (64 bytes)"},
      {"load past region", head + ".queue mem\n  LOAD dst=x a=r+250 bytes=8\n", 6,
       "past the end of region r (256 bytes)"},
      {"stride beyond 32 bits", head + ".queue vxm\n  MOV.i8 dst=x a=y:4611686018427387904 n=8\n",
       6, "a: expected a stride of -2147483648..2147483647 bytes, got 4611686018427387904"},
      {"huge stride", head + ".queue vxm\n  RMAX.i8 dst=x:0 a=y:1:2147483647 n=4294967295x8\n", 6,
       "past the end of buffer y"},
      {"count beyond 32 bits", head + ".queue vxm\n  MOV.i8 dst=x a=y n=4294967296\n", 6,
       "n: expected at most 4294967295, got 4294967296"},
      {"offset beyond 40 bits", head + ".queue vxm\n  MOV.i8 dst=x a=y+1099511627776 n=8\n", 6,
       "a: expected at most 1099511627775 bytes, got 1099511627776"},
      {"wrong queue", head + ".queue vxm\n  LOAD dst=x a=r bytes=8\n", 6,
       "LOAD runs on the mem queue, not on vxm"},
      {"bad type", head + ".queue vxm\n  MOV.i64 dst=x a=y n=4\n", 6,
       "MOV.i64: expected a type suffix"},
      {"float shift", head + ".queue vxm\n  SHL.f32 dst=x a=y imm=1 n=4\n", 6,
       "expected an integer type"},
      {"cvt with one type", head + ".queue vxm\n  CVT.f32 dst=x a=y n=4\n", 6,
       "expected two type suffixes"},
      {"matmul type", head + ".queue mxm\n  MATMUL.i16 dst=x a=y b=y m=1 k=2 n=2\n", 6,
       "expected .i8"},
      {"shift out of range", head + ".queue vxm\n  SAR.i8 dst=x a=y imm=8 n=4\n", 6,
       "expected a shift count in 0..7"},
      {"negative stride", head + ".queue vxm\n  MOV.i8 dst=x a=y+8:-1 n=4\n", 6,
       "negative strides are not allowed"},
      {"strides on a transfer", head + ".queue mem\n  LOAD dst=x a=r:2 bytes=8\n", 6,
       "a transfer's row stride is stride="},
      {"immediate not an integer", head + ".queue vxm\n  ADD.i8 dst=x a=y imm=-0.5 n=4\n", 6,
       "imm=-0.5: expected an integer for type i8"},
      {"immediate out of range", head + ".queue vxm\n  ADD.i8 dst=x a=y imm=256 n=4\n", 6,
       "imm=256: expected a 8-bit value in -128..255"},
      {"immediate below range", head + ".queue vxm\n  ADD.u32 dst=x a=y imm=-2147483649 n=4\n", 6,
       "expected a 32-bit value in -2147483648..4294967295"},
      {"huge immediate", head + ".queue vxm\n  ADD.i32 dst=x a=y imm=1e300 n=4\n", 6,
       "expected a 32-bit value"},
      {"rep on a matmul", head + ".queue mxm\n  MATMUL.i8 dst=x a=y b=y m=1 k=2 n=2 rep=2\n", 6,
       "MATMUL: expected operands dst= a= b= n= m= k= kgroup= tag=, got \"rep=2\""},
      {"rep on a load", head + ".queue mem\n  LOAD dst=x a=r bytes=8 rep=2\n", 6, "got \"rep=2\""},
      {"rep zero", head + ".queue vxm\n  MOV.i8 dst=x a=y n=4 rep=0\n", 6,
       "rep: expected at least 1 repetition"},
      {"repeat stride without rep", head + ".queue vxm\n  MOV.i8 dst=x a=y n=4 a.rs=4\n", 6,
       "a.rs=4: a repeat stride needs rep > 1"},
      {"repeat stride of an immediate",
       head + ".queue vxm\n  ADD.i8 dst=x a=y imm=1 n=4 rep=2 b.rs=4\n", 6,
       "b.rs=4: the instruction has no such view"},
      {"negative repeat stride", head + ".queue vxm\n  MOV.i8 dst=x+60 a=y n=4 rep=2 dst.rs=-4\n",
       6, "dst.rs=-4: negative strides are not allowed"},
      {"last repetition out of bounds",
       head + ".queue vxm\n  MOV.f32 dst=x a=y n=4 rep=5 a.rs=16\n", 6,
       "a=y+0:4:16 a.rs=16 covers 5 repetitions of 1x4 elements of 4 bytes up to byte 80, past the "
       "end of buffer y (64 bytes)"},
      {"repeat stride beyond 32 bits",
       head + ".queue vxm\n  MOV.i8 dst=x a=y n=4 rep=2 a.rs=4294967296\n", 6,
       "a.rs: expected a stride of -2147483648..2147483647 bytes"},
      {"repeats past 64 bits",
       head + ".queue vxm\n  MOV.i8 dst=x a=y n=4 rep=4294967295 a.rs=2147483647\n", 6,
       "past the end of buffer y"},
  };
  for (const Malformed& c : cases) {
    try {
      read_asm(c.text, "bad.lpuasm");
      ADD_FAILURE() << c.what << ": no error";
    } catch (const InputError& e) {
      const std::string what = e.what();
      const std::string where = "bad.lpuasm:" + std::to_string(c.line) + ": ";
      EXPECT_EQ(what.rfind(where, 0), 0u) << c.what << ": " << what;
      EXPECT_NE(what.find(c.message), std::string::npos) << c.what << ": " << what;
      EXPECT_EQ(e.where().line, c.line) << c.what;
    }
  }
}

TEST(Asm, MillionInstructionProgram_RoundTrips) {
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("layer.scratch.x", 1 << 16);
  const std::uint32_t y = b.add_buffer("layer.scratch.y", 1 << 16);
  const std::uint32_t sem = b.add_semaphore("layer.ring.full0");
  b.set_tag(b.intern_tag("layer79.mlp.down"));
  for (int i = 0; i < 250000; ++i) {
    b.vector_imm(Opcode::kShr, ElemType::kU16, View{x, 0, 2, 640}, View{y, 3, 7, 3584}, 3,
                 Shape{8, 320});
    b.vector(Opcode::kMad, ElemType::kF32, View{x, 0, 4, 1280}, View{y, 0, 256, 4},
             View{y, 64, 0, 4}, Shape{16, 16});
    b.notify(Unit::kVxm, sem);
    b.wait(Unit::kMxm, sem);
  }
  const Program p = b.finish();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string text = write_asm(p);
  const auto t1 = std::chrono::steady_clock::now();
  const Program back = read_asm(text, "big.lpuasm");
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_TRUE(back == p);
  using ms = std::chrono::milliseconds;
  std::cout << "[ timing ] " << p.instruction_count() << " instructions, " << text.size()
            << " bytes: write " << std::chrono::duration_cast<ms>(t1 - t0).count() << " ms, read "
            << std::chrono::duration_cast<ms>(t2 - t1).count() << " ms\n";
}

}  // namespace
}  // namespace lpusim
