// The generated unpack op sequence, run by the reference interpreter on rows packed by pack_row,
// must reproduce unpack_row bit for bit for every format, k and row count.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/format.h"
#include "kernels/unpack_kernel.h"
#include "reference_executor.h"

namespace lpusim {
namespace {

// Random codes representable in each slot: c = v << (bmax - b).
std::vector<std::int8_t> random_codes(const WeightFormat& f, std::size_t rows, std::size_t k,
                                      std::mt19937& rng) {
  std::vector<std::int8_t> codes(rows * k);
  const auto len = static_cast<std::size_t>(f.pattern_length());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const int slot = static_cast<int>((i % k) % len);
    const int b = f.slot_bits[static_cast<std::size_t>(slot)];
    std::uniform_int_distribution<int> dist(-(1 << (b - 1)), (1 << (b - 1)) - 1);
    codes[i] = static_cast<std::int8_t>(dist(rng) * (1 << f.slot_shift(slot)));
  }
  return codes;
}

struct UnpackRun {
  Program program;
  std::vector<std::int8_t> produced;
};

// Packs rows x k random codes, emits the unpack into exactly sized buffers, runs it.
UnpackRun run_unpack(const WeightFormat& f, std::size_t rows, std::size_t k,
                     std::vector<std::int8_t>& expected, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<std::int8_t> codes = random_codes(f, rows, k, rng);
  const std::size_t row_bytes = f.row_bytes(k);
  std::vector<std::uint8_t> packed(rows * row_bytes);
  expected.assign(rows * k, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    pack_row(f, codes.data() + r * k, k, packed.data() + r * row_bytes);
    unpack_row(f, packed.data() + r * row_bytes, k, expected.data() + r * k);
  }
  EXPECT_EQ(expected, codes);

  ProgramBuilder b;
  UnpackOperands o;
  o.packed_buffer = b.add_buffer("packed", packed.size());
  o.packed_row_stride = row_bytes;
  o.codes_buffer = b.add_buffer("codes", rows * k);
  o.codes_row_stride = k;
  o.scratch_buffer =
      b.add_buffer("scratch", std::max<std::uint64_t>(1, unpack_scratch_bytes(f, rows, k)));
  emit_unpack(b, f, rows, k, o);
  UnpackRun run;
  run.program = b.finish();  // validates: every view inside its exactly sized buffer
  testing::ReferenceMachine machine(run.program);
  machine.buffers[o.packed_buffer].assign(packed.begin(), packed.end());
  std::fill(machine.buffers[o.codes_buffer].begin(), machine.buffers[o.codes_buffer].end(), 0x5A);
  std::fill(machine.buffers[o.scratch_buffer].begin(), machine.buffers[o.scratch_buffer].end(),
            0xA5);
  for (const Instruction& inst : run.program.queue(Unit::kVxm)) machine.execute(inst);
  const auto& out = machine.buffers[o.codes_buffer];
  run.produced.assign(out.begin(), out.end());
  return run;
}

std::vector<WeightFormat> all_formats() {
  std::vector<WeightFormat> formats;
  for (const std::string& name : builtin_format_names()) {
    if (name != "fp16") formats.push_back(parse_format(name));
  }
  for (const char* p : {"pattern:5", "pattern:6,2", "pattern:8,4", "pattern:1", "pattern:2",
                        "pattern:7,7,7", "pattern:3,3,3", "pattern:2,5,8,1", "pattern:8,8",
                        "pattern:1,2,3,4,5,6,7,8,7,6,5,4,3,2,1,8"}) {
    formats.push_back(parse_format(p));
  }
  WeightFormat padded = parse_format("pattern:5,4");  // 9 bits stored in 16
  padded.pad_pattern_to_byte = true;
  padded.name = "pattern:5,4 padded";
  formats.push_back(padded);
  return formats;
}

TEST(UnpackSequence, ReproducesUnpackRowBitForBit_EveryFormatKAndRowCount) {
  unsigned seed = 1;
  for (const WeightFormat& f : all_formats()) {
    const std::size_t len = static_cast<std::size_t>(f.pattern_length());
    const std::size_t block = static_cast<std::size_t>(unpack_block(f).weights_per_block);
    for (std::size_t k :
         {len, 2 * len, block, block + len, 3 * block - len, 5 * block, 7 * block + 3 * len}) {
      for (std::size_t rows : {1u, 3u, 7u}) {
        std::vector<std::int8_t> expected;
        const UnpackRun run = run_unpack(f, rows, k, expected, seed++);
        ASSERT_EQ(run.produced, expected) << f.name << " k=" << k << " rows=" << rows;
      }
    }
  }
}

TEST(UnpackSequence, InstructionCountIsUnpackCost_IndependentOfRowsAndK) {
  for (const WeightFormat& f : all_formats()) {
    if (!needs_unpack(f)) continue;
    const std::size_t block = static_cast<std::size_t>(unpack_block(f).weights_per_block);
    for (std::size_t blocks : {1u, 4u, 64u}) {
      std::vector<std::int8_t> expected;
      const UnpackRun run = run_unpack(f, 5, blocks * block, expected, 7);
      EXPECT_EQ(run.program.queue(Unit::kVxm).size(),
                static_cast<std::size_t>(unpack_cost(f).instructions))
          << f.name;
    }
  }
}

TEST(UnpackSequence, AluOpsPerWeight_MatchTheDocumentedTable) {
  EXPECT_DOUBLE_EQ(unpack_cost(parse_format("int4")).alu_ops_per_weight(), 1.5);
  EXPECT_DOUBLE_EQ(unpack_cost(parse_format("q3.5-b8")).alu_ops_per_weight(), 2.0);
  EXPECT_DOUBLE_EQ(unpack_cost(parse_format("q3.5")).alu_ops_per_weight(), 37.0 / 16);
  EXPECT_DOUBLE_EQ(unpack_cost(parse_format("q3")).alu_ops_per_weight(), 15.0 / 8);
  EXPECT_DOUBLE_EQ(unpack_cost(parse_format("q2.5")).alu_ops_per_weight(), 37.0 / 16);
  EXPECT_EQ(unpack_cost(parse_format("int8")).instructions, 0);
  EXPECT_FALSE(needs_unpack(parse_format("int8")));
}

TEST(UnpackSequence, Int4_IsShlSarForEvenAndOneSarForOddWeights) {
  std::vector<std::int8_t> expected;
  const UnpackRun run = run_unpack(parse_format("int4"), 2, 64, expected, 3);
  const auto& q = run.program.queue(Unit::kVxm);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(instruction_name(q[0]), "SHL.u8");
  EXPECT_EQ(instruction_name(q[1]), "SAR.i8");
  EXPECT_EQ(instruction_name(q[2]), "SAR.i8");
  EXPECT_EQ(q[0].dst.col_stride, 2);  // even weights
  EXPECT_EQ(q[2].dst.offset, 1u);     // odd weights
  EXPECT_EQ(q[0].n0, 2u);
  EXPECT_EQ(q[0].n1, 32u);  // one element per byte of the row
}

TEST(UnpackSequence, Q35_ReadsU16WhereACodeCrossesAByte) {
  std::vector<std::int8_t> expected;
  const UnpackRun run = run_unpack(parse_format("q3.5"), 3, 160, expected, 4);
  int u16_reads = 0;
  for (const Instruction& inst : run.program.queue(Unit::kVxm)) {
    if (inst.type == ElemType::kU16) {
      ++u16_reads;
      EXPECT_EQ(inst.a.col_stride, 7);  // one 7-byte block per element
      EXPECT_EQ(inst.n1, 10u);          // 160 weights = 10 blocks
    }
  }
  EXPECT_GT(u16_reads, 0);
}

}  // namespace
}  // namespace lpusim
