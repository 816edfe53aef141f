// The GEMM generator: programs validate, fit SRAM (or say why not), balance their semaphores, stay
// small in instructions, and - run by the reference interpreter under several interleavings -
// produce exactly the float result of the documented op sequence.
#include "kernels/gemm_kernel.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "kernels/quantizer.h"
#include "reference_executor.h"

namespace lpusim {
namespace {

using testing::ReferenceMachine;
using testing::Schedule;

constexpr std::uint64_t kMiB = 1ull << 20;

HwConfig test_hw(std::uint64_t sram_bytes = 220 * kMiB, int cols = 320,
                 WeightPlacement weights = WeightPlacement::kStreamed) {
  HwConfig hw;
  hw.name = "test";
  hw.clock = Hertz{900e6};
  hw.weights = weights;
  hw.memory = MemoryConfig{BytesPerSecond{80e9}, Seconds{100e-9}, Bytes{64}, 8};
  hw.sram = SramConfig{Bytes{sram_bytes}, 56320};
  hw.mxm = MxmConfig{4, 320, cols, 10240};
  hw.vxm = VxmConfig{320, 16};
  hw.dispatch = DispatchConfig{1};
  return hw;
}

GemmSpec spec_of(const std::string& format, std::uint64_t m, std::uint64_t k, std::uint64_t n,
                 int group = 64) {
  GemmSpec s;
  s.name = "g";
  s.m = m;
  s.k = k;
  s.n = n;
  s.format = parse_format(format);
  s.group_size = group;
  return s;
}

std::vector<float> random_floats(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename T>
void put(std::vector<std::uint8_t>& mem, const std::vector<T>& values) {
  ASSERT_EQ(mem.size(), values.size() * sizeof(T));
  std::memcpy(mem.data(), values.data(), mem.size());
}

std::vector<float> floats_of(const std::vector<std::uint8_t>& mem) {
  std::vector<float> v(mem.size() / 4);
  std::memcpy(v.data(), mem.data(), v.size() * 4);
  return v;
}

// ---- the documented op sequence (docs/ISA.md "Kernels") in plain C++ ----

struct QuantizedX {
  std::vector<std::int8_t> xq;
  std::vector<float> scale;
  std::vector<float> group_sum;  // [m][groups]
};

QuantizedX quantize_activations(const std::vector<float>& x, std::size_t m, std::size_t k,
                                std::size_t group, std::size_t groups) {
  QuantizedX q;
  q.xq.resize(m * k);
  for (std::size_t i = 0; i < m; ++i) {
    const float* row = x.data() + i * k;
    for (std::size_t g = 0; g < groups; ++g) {
      float sum = row[g * group];
      for (std::size_t j = g * group + 1; j < std::min(k, (g + 1) * group); ++j) sum = sum + row[j];
      q.group_sum.push_back(sum);
    }
    float amax = std::fabs(row[0]);
    for (std::size_t j = 1; j < k; ++j) amax = std::max(amax, std::fabs(row[j]));
    float scale = amax * static_cast<float>(1.0 / 127.0);
    scale = std::max(scale, FLT_MIN);
    q.scale.push_back(scale);
    const float inv = 1.0f / scale;
    for (std::size_t j = 0; j < k; ++j) {
      const double r = std::round(static_cast<double>(row[j] * inv));
      q.xq[i * k + j] = static_cast<std::int8_t>(std::clamp(r, -128.0, 127.0));
    }
  }
  return q;
}

std::vector<float> reference_integer_y(const QuantizedMatrix& w, const std::vector<float>& x,
                                       std::size_t m, std::size_t k_chunk) {
  const std::size_t n = w.rows, k = w.cols, groups = w.groups_per_row();
  const std::size_t group =
      w.group_size == kPerChannel ? k : static_cast<std::size_t>(w.group_size);
  const QuantizedX q = quantize_activations(x, m, k, group, groups);
  const std::vector<std::int8_t> codes = unpack_codes(w);
  std::vector<float> y(m * n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      float total = 0;
      for (std::size_t k0 = 0; k0 < k; k0 += k_chunk) {
        float chunk = 0;
        for (std::size_t g = k0 / group; g * group < std::min(k, k0 + k_chunk); ++g) {
          std::int64_t p = 0;
          for (std::size_t kk = g * group; kk < std::min(k, (g + 1) * group); ++kk) {
            p += static_cast<std::int64_t>(q.xq[i * k + kk]) * codes[j * k + kk];
          }
          float t = static_cast<float>(static_cast<std::int32_t>(p));
          t = t * fp16_to_float(w.scales[j * groups + g]);
          t = t * q.scale[i];
          const float o = fp16_to_float(w.offsets[j * groups + g]) * q.group_sum[i * groups + g];
          t = o + t;
          chunk = g * group == k0 ? t : chunk + t;
        }
        total = k0 == 0 ? chunk : total + chunk;
      }
      y[i * n + j] = total;
    }
  }
  return y;
}

std::vector<float> reference_fp16_y(const QuantizedMatrix& w, const std::vector<float>& x,
                                    std::size_t m, std::size_t k_chunk) {
  const std::size_t n = w.rows, k = w.cols;
  std::vector<float> y(m * n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      float total = 0;
      for (std::size_t k0 = 0; k0 < k; k0 += k_chunk) {
        float acc = 0;
        for (std::size_t kk = k0; kk < std::min(k, k0 + k_chunk); ++kk) {
          std::uint16_t wh;
          std::memcpy(&wh, w.qweight.data() + 2 * (j * k + kk), 2);
          const float product = fp16_to_float(float_to_fp16(x[i * k + kk])) * fp16_to_float(wh);
          acc = acc + product;
        }
        total = k0 == 0 ? acc : total + acc;
      }
      y[i * n + j] = total;
    }
  }
  return y;
}

std::vector<float> reference_y(const QuantizedMatrix& w, const std::vector<float>& x, std::size_t m,
                               std::size_t k_chunk) {
  return w.format.is_float() ? reference_fp16_y(w, x, m, k_chunk)
                             : reference_integer_y(w, x, m, k_chunk);
}

// ---- running programs ----

// NOTIFY and WAIT counts per semaphore: with every free slot handed back, they match.
void expect_balanced(const Program& p) {
  std::map<std::uint32_t, std::pair<int, int>> counts;
  for (const auto& queue : p.queues) {
    for (const Instruction& inst : queue) {
      if (inst.opcode == Opcode::kNotify) ++counts[inst.sem].first;
      if (inst.opcode == Opcode::kWait) ++counts[inst.sem].second;
    }
  }
  for (const auto& [sem, c] : counts) {
    EXPECT_EQ(c.first, c.second) << "semaphore " << p.semaphores[sem].name;
  }
}

void place_weights(ReferenceMachine& machine, const GemmWeights& ids, const QuantizedMatrix& q) {
  auto& space = ids.resident ? machine.buffers : machine.regions;
  put(space[ids.qweight], q.qweight);
  if (ids.scales) put(space[*ids.scales], q.scales);
  if (ids.offsets) put(space[*ids.offsets], q.offsets);
}

struct Case {
  std::string format;
  std::uint64_t m, k, n;
  int group;
  std::uint64_t sram = 220 * kMiB;
  WeightPlacement weights = WeightPlacement::kStreamed;
};

std::string describe(const Case& c) {
  return c.format + " m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) +
         " n=" + std::to_string(c.n) + " g=" + std::to_string(c.group) +
         (c.weights == WeightPlacement::kResident ? " resident" : "");
}

// Builds the standalone kernel with strips of `strip_target` packed bytes, runs it under every
// schedule and compares Y bit for bit.
GemmPlan check_strips(const Case& c, std::uint64_t strip_target) {
  const HwConfig hw = test_hw(c.sram, 32, c.weights);
  GemmSpec spec = spec_of(c.format, c.m, c.k, c.n, c.group);
  spec.strip_target_bytes = strip_target;
  const GemmKernel kernel = build_gemm_program(spec, hw);
  validate_program(kernel.program);
  expect_balanced(kernel.program);
  const std::vector<float> w = random_floats(c.n * c.k, 11);
  const std::vector<float> x = random_floats(c.m * c.k, 12);
  const QuantizedMatrix q = quantize(spec.format, w.data(), c.n, c.k, c.group);
  const std::vector<float> expected = reference_y(q, x, c.m, kernel.gemm.plan.k_chunk);
  const std::pair<Schedule, unsigned> schedules[] = {{Schedule::kMemFirst, 0},
                                                     {Schedule::kMxmFirst, 0},
                                                     {Schedule::kRandom, 1},
                                                     {Schedule::kRandom, 2}};
  for (const auto& [schedule, seed] : schedules) {
    ReferenceMachine machine(kernel.program);
    put(machine.regions[kernel.x_region], x);
    place_weights(machine, kernel.gemm.weights, q);
    EXPECT_EQ(testing::run_program(kernel.program, machine, schedule, seed), "") << describe(c);
    EXPECT_EQ(floats_of(machine.regions[kernel.y_region]), expected)
        << describe(c) << " schedule " << static_cast<int>(schedule) << " seed " << seed;
  }
  return kernel.gemm.plan;
}

// check_strips with one-tile strips, strips of two 32-row tiles (a wide body and a one-tile
// last strip when n > 64) and the default width; returns the default plan.
GemmPlan check_case(const Case& c) {
  const std::uint64_t tile_bytes = 32 * parse_format(c.format).row_bytes(c.k);
  check_strips(c, 0);
  check_strips(c, 2 * tile_bytes);
  return check_strips(c, kDefaultStripTargetBytes);
}

TEST(GemmKernel, FunctionalRun_MatchesDocumentedSequenceBitForBit_EveryFormat) {
  for (const std::string format :
       {"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5", "fp16", "pattern:5,3", "pattern:8,8"}) {
    check_case({format, 1, 256, 70, 64});
    check_case({format, 3, 192, 32, 64});
  }
}

TEST(GemmKernel, FunctionalRun_OddShapesAndGroups) {
  check_case({"pattern:3,3,3", 2, 201, 45, 64});  // k not a multiple of the group
  check_case({"q3.5", 1, 200, 33, 64});           // last group 8 wide, last strip 1 row
  check_case({"int4", 2, 96, 5, kPerChannel});    // one group per row, n below the strip
  check_case({"q2.5", 1, 48, 40, 128});           // group larger than k
  check_case({"q3.5", 6, 150, 40, 64});           // more rows than whole groups: sums per group
}

TEST(GemmKernel, FunctionalRun_ResidentWeights) {
  for (const std::string format : {"int8", "int4", "q3.5", "fp16"}) {
    const Case c{format, 2, 128, 40, 64, 220 * kMiB, WeightPlacement::kResident};
    check_case(c);
    const GemmKernel kernel = build_gemm_program(
        spec_of(format, 2, 128, 40), test_hw(220 * kMiB, 32, WeightPlacement::kResident));
    for (const Instruction& inst : kernel.program.queue(Unit::kMem)) {
      EXPECT_TRUE(inst.opcode != Opcode::kLoad || inst.a.space == kernel.x_region)
          << "resident weights are not loaded";
    }
  }
}

TEST(GemmKernel, KChunking_KicksInWhenAFullKStripDoesNotFit_ResultStillExact) {
  // 32-row strips of k = 1024 q3.5 need ~100 KB of ring; 80 KB forces chunks.
  const GemmPlan plan = check_case({"q3.5", 2, 1024, 70, 64, 80 * 1024});
  EXPECT_GT(plan.k_chunks, 1u);
  EXPECT_EQ(plan.k_chunk % 64, 0u);
  const GemmPlan fp16_plan = check_case({"fp16", 1, 1024, 40, 64, 100 * 1024});
  EXPECT_GT(fp16_plan.k_chunks, 1u);
}

TEST(GemmKernel, MBlocking_SplitsActivationRowsWhenPartialsDoNotFit_ResultStillExact) {
  const GemmPlan plan = check_case({"int4", 64, 512, 40, 32, 320 * 1024});
  EXPECT_GT(plan.m_blocks, 1u);
}

TEST(GemmKernel, EpilogueLoopsOverGroups_WhenATileHasFewerGroupsThanRows_ResultStillExact) {
  check_case({"q3.5", 5, 128, 40, 64});  // 2 groups, 5 rows
  const GemmPlan plan = check_case({"int4", 6, 512, 40, 64, 48 * 1024});
  EXPECT_GT(plan.k_chunks, 1u);
  EXPECT_LT(plan.k_chunk / 64, 6u);
}

TEST(GemmKernel, SramCapacityExceeded_ThrowsSimulationErrorWithNeededAndAvailableBytes) {
  const GemmSpec spec = spec_of("q3.5", 1, 8192, 8192, 128);
  try {
    build_gemm_program(spec, test_hw(64 * 1024));
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("needs"), std::string::npos) << what;
    EXPECT_NE(what.find("holds 65536 bytes"), std::string::npos) << what;
  }
}

TEST(GemmKernel, ShapesNotMultipleOfTheTile_CoverEveryOutputRowOnce) {
  GemmSpec spec = spec_of("q3.5", 1, 640, 700);
  spec.strip_target_bytes = 0;  // one column tile per strip
  const GemmKernel narrow = build_gemm_program(spec, test_hw());
  std::uint64_t rows = 0;
  for (const Instruction& inst : narrow.program.queue(Unit::kMxm)) {
    if (inst.opcode == Opcode::kMatmul) rows += inst.n;
  }
  EXPECT_EQ(rows, 700u);  // 320 + 320 + 60
  EXPECT_EQ(narrow.gemm.plan.strips, 3u);
  // By default all three tiles (700 x 280 packed bytes) fit one strip: one MATMUL of n = 700.
  const GemmKernel wide = build_gemm_program(spec_of("q3.5", 1, 640, 700), test_hw());
  EXPECT_EQ(wide.gemm.plan.strips, 1u);
  EXPECT_EQ(wide.gemm.plan.strip_rows, 700u);
}

TEST(GemmKernel, WideStrips_AreWholeColumnTilesWithAOneTileLastStrip) {
  // q3.5 k = 8192: 3584 bytes a row, 1.09 MiB a 320-row tile; 4 MiB strips take 4 tiles.
  GemmSpec spec = spec_of("q3.5", 1, 8192, 8192, 128);
  spec.strip_target_bytes = 4 * kMiB;
  const GemmKernel k = build_gemm_program(spec, test_hw());
  const GemmPlan& p = k.gemm.plan;
  ASSERT_EQ(p.strip_begin.size(), p.strips + 1);
  EXPECT_EQ(p.strip_rows, 4u * 320);
  EXPECT_EQ(p.strips, 8u);  // 25 full tiles + 192 rows: 7 strips of 3-4 tiles, then 192 rows
  EXPECT_EQ(p.strip_begin.back(), 8192u);
  for (std::uint64_t s = 0; s + 1 < p.strips; ++s) {
    EXPECT_EQ(p.strip_row_count(s) % 320, 0u) << s;
    EXPECT_LE(p.strip_row_count(s), p.strip_rows) << s;
  }
  EXPECT_EQ(p.strip_row_count(p.strips - 1), 192u);
  std::uint64_t matmuls = 0;
  for (const Instruction& inst : k.program.queue(Unit::kMxm)) {
    matmuls += inst.opcode == Opcode::kMatmul ? 1 : 0;
  }
  EXPECT_EQ(matmuls, p.strips);
}

TEST(GemmKernel, WideStrips_NarrowWhenSramIsShort_ResultStillExact) {
  // 2 MiB of SRAM cannot hold two 4 MiB packed slots: strips narrow to what fits.
  GemmSpec spec = spec_of("int4", 2, 4096, 2048, 128);
  const GemmKernel roomy = build_gemm_program(spec, test_hw(220 * kMiB));
  const GemmKernel tight = build_gemm_program(spec, test_hw(6 * kMiB));
  EXPECT_GT(roomy.gemm.plan.strip_rows, tight.gemm.plan.strip_rows);
  EXPECT_LE(tight.program.sram_bytes(), 6 * kMiB);
  EXPECT_EQ(tight.gemm.plan.strip_rows % 320, 0u);
}

TEST(GemmKernel, EpilogueInstructions_AreConstantPerMatmul_RepeatsCoverRowsOrGroups) {
  // Per tile the epilogue is CVT, MUL (scales), MUL (x scale), then a MAD and a group sum that
  // repeat over min(m rows, groups of the tile): 64 groups at k = 8192, G = 128. The
  // repetitions are what the ops of an unrepeated epilogue would be; the issued instructions
  // stay constant.
  const HwConfig hw = test_hw();
  struct PerMatmul {
    std::uint64_t issued = 0, repetitions = 0;
  };
  auto per_matmul = [&](std::uint64_t m) {
    const Program p = build_gemm_program(spec_of("q3.5", m, 8192, 1280, 128), hw).program;
    std::uint64_t matmuls = 0;
    PerMatmul c;
    for (const Instruction& inst : p.queue(Unit::kMxm)) matmuls += inst.opcode == Opcode::kMatmul;
    for (const Instruction& inst : p.queue(Unit::kVxm)) {
      const bool sum = inst.opcode == Opcode::kRsum && inst.n1 == 64;  // per-row group sum
      const bool add = inst.opcode == Opcode::kAdd || inst.opcode == Opcode::kMov;
      if (inst.opcode == Opcode::kMad || sum || add) {
        ++c.issued;
        c.repetitions += inst.rep;
      }
    }
    return PerMatmul{c.issued / matmuls, c.repetitions / matmuls};
  };
  const PerMatmul one = per_matmul(1), sixteen = per_matmul(16);
  const PerMatmul many = per_matmul(128), more = per_matmul(512);
  EXPECT_EQ(one.issued, 2u);  // one MAD, one RSUM
  EXPECT_EQ(one.repetitions, 2u);
  EXPECT_EQ(sixteen.issued, 2u);  // per row: MAD and RSUM, 16 repetitions each
  EXPECT_EQ(sixteen.repetitions, 32u);
  EXPECT_EQ(many.issued, 3u);  // per group: MAD x 64, one MOV, ADD x 63
  EXPECT_EQ(many.repetitions, 128u);
  EXPECT_EQ(more.issued, 3u);
  EXPECT_EQ(more.repetitions, 128u);
}

TEST(GemmKernel, PrologueGroupSums_AreOneRepeatedRsum_WhenXIsNotContiguous) {
  // X with a padded row stride cannot be one RSUM over (row, group): one RSUM repeats over the
  // rows (fewer rows than groups) or over the groups, plus one for a short last group.
  const HwConfig hw = test_hw();
  for (const std::uint64_t m : {2u, 40u}) {
    ProgramBuilder b;
    const std::uint64_t k = 640, n = 64, pad = 16;
    const std::uint32_t x = b.add_buffer("x", m * (k + pad) * 4);
    const std::uint32_t y = b.add_buffer("y", m * n * 4);
    GemmIo io;
    io.x = View{x, 0, 4, static_cast<std::int64_t>(k + pad) * 4};
    io.y = View{y, 0, 4, static_cast<std::int64_t>(n) * 4};
    emit_gemm(b, spec_of("q3.5", m, k, n, 128), hw, io);
    const Program p = b.finish();
    std::uint64_t rsums = 0, repetitions = 0;
    for (const Instruction& inst : p.queue(Unit::kVxm)) {
      if (inst.opcode != Opcode::kRsum || inst.n1 != 128) continue;
      ++rsums;
      repetitions += inst.rep;
    }
    EXPECT_EQ(rsums, 1u) << "m=" << m;
    EXPECT_EQ(repetitions, std::min<std::uint64_t>(m, k / 128)) << "m=" << m;
  }
}

TEST(GemmKernel, InstructionCounts_StayIndependentOfTheStripWidth) {
  const HwConfig hw = test_hw();
  const GemmKernel q35 = build_gemm_program(spec_of("q3.5", 1, 8192, 8192, 128), hw);
  EXPECT_LT(q35.program.instruction_count(), 5000u);
  for (const std::string format : {"int4", "q3.5"}) {
    for (std::uint64_t n : {8192u, 28672u}) {
      const GemmKernel k = build_gemm_program(spec_of(format, 1, 8192, n, 128), hw);
      std::cout << "[ counts ] " << format << " 1x8192x" << n << ": "
                << k.program.instruction_count() << " instructions (mem "
                << k.program.queue(Unit::kMem).size() << ", vxm "
                << k.program.queue(Unit::kVxm).size() << ", mxm "
                << k.program.queue(Unit::kMxm).size() << "), SRAM " << k.program.sram_bytes()
                << " B\n";
      EXPECT_EQ(k.gemm.plan.k_chunks, 1u);
      expect_balanced(k.program);
    }
  }
}

TEST(GemmKernel, Semaphores_BalancedInEveryFormatAndPlacement) {
  for (const std::string& name : builtin_format_names()) {
    for (WeightPlacement p : {WeightPlacement::kStreamed, WeightPlacement::kResident}) {
      const GemmKernel k =
          build_gemm_program(spec_of(name, 2, 512, 700), test_hw(220 * kMiB, 320, p));
      expect_balanced(k.program);
    }
  }
}

TEST(GemmKernel, KNotAMultipleOfThePattern_IsAnInputError) {
  EXPECT_THROW(build_gemm_program(spec_of("q3.5", 1, 255, 64), test_hw()), InputError);
  EXPECT_THROW(build_gemm_program(spec_of("int4", 0, 256, 64), test_hw()), InputError);
}

// m x k x 4 bytes of 2^31-scale dimensions is past 2^64: refused before any byte count is formed
// (it used to wrap and quote a byte count near 2^64).
TEST(GemmKernel, OperandBytesPastTheViewRange_AreAnInputErrorNotAWrappedCount) {
  try {
    build_gemm_program(spec_of("int4", 2147483647, 2147483640, 2147483647), test_hw());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("X (m x k = 2147483647 x 2147483640) needs more than 1099511627775 bytes"),
              std::string::npos)
        << what;
  }
  EXPECT_THROW(build_gemm_program(spec_of("int4", 1, 256, 1ull << 31), test_hw()), InputError);
}

// Several GEMMs in one program: the ring and semaphores continue across them, Y of one feeds X
// of a later one after flush(), and every result is exact.
TEST(GemmKernel, ConsecutiveGemms_ShareTheRingAndPipelineAcrossOps) {
  const HwConfig hw = test_hw(220 * kMiB, 32);
  const std::uint64_t m = 2, k = 128, n = 64;
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", m * k * 4);
  const std::uint32_t y0 = b.add_buffer("y0", m * n * 4);
  const std::uint32_t y1 = b.add_buffer("y1", m * n * 4);
  const std::uint32_t y2 = b.add_buffer("y2", m * n * 4);
  const std::uint32_t y3 = b.add_buffer("y3", m * n * 4);
  const auto io = [&](std::uint32_t in, std::uint64_t in_k, std::uint32_t out) {
    GemmIo g;
    g.x = View{in, 0, 4, static_cast<std::int64_t>(in_k) * 4};
    g.y = View{out, 0, 4, static_cast<std::int64_t>(n) * 4};
    return g;
  };
  GemmSpec s0 = spec_of("q3.5", m, k, n), s1 = spec_of("int4", m, k, n);
  GemmSpec s2 = spec_of("int8", m, n, n, 32), s3 = spec_of("fp16", m, n, n);
  s0.name = "a";
  s1.name = "b";
  s2.name = "c";
  s3.name = "d";
  const GemmEmitted e0 = emit_gemm(b, s0, hw, io(x, k, y0));
  GemmIo reuse = io(x, k, y1);
  reuse.reuse_quantized_x = true;
  const GemmEmitted e1 = emit_gemm(b, s1, hw, reuse);
  b.flush();  // y0 and y1 complete before they are read as X
  const GemmEmitted e2 = emit_gemm(b, s2, hw, io(y0, n, y2));
  const GemmEmitted e3 = emit_gemm(b, s3, hw, io(y1, n, y3));
  const Program p = b.finish();
  expect_balanced(p);

  const std::vector<float> xv = random_floats(m * k, 5);
  const QuantizedMatrix q0 = quantize(s0.format, random_floats(n * k, 6).data(), n, k, 64);
  const QuantizedMatrix q1 = quantize(s1.format, random_floats(n * k, 7).data(), n, k, 64);
  const QuantizedMatrix q2 = quantize(s2.format, random_floats(n * n, 8).data(), n, n, 32);
  const QuantizedMatrix q3 = quantize(s3.format, random_floats(n * n, 9).data(), n, n, 64);
  const std::vector<float> r0 = reference_y(q0, xv, m, k), r1 = reference_y(q1, xv, m, k);
  const std::vector<float> r2 = reference_y(q2, r0, m, n), r3 = reference_y(q3, r1, m, n);
  for (Schedule schedule : {Schedule::kMemFirst, Schedule::kMxmFirst, Schedule::kRandom}) {
    ReferenceMachine machine(p);
    put(machine.buffers[x], xv);
    place_weights(machine, e0.weights, q0);
    place_weights(machine, e1.weights, q1);
    place_weights(machine, e2.weights, q2);
    place_weights(machine, e3.weights, q3);
    ASSERT_EQ(testing::run_program(p, machine, schedule, 3), "");
    EXPECT_EQ(floats_of(machine.buffers[y0]), r0);
    EXPECT_EQ(floats_of(machine.buffers[y1]), r1);
    EXPECT_EQ(floats_of(machine.buffers[y2]), r2);
    EXPECT_EQ(floats_of(machine.buffers[y3]), r3);
  }
}

// The MEM queue of the second GEMM starts loading before the VXM has finished the first: its
// first loads only wait on ring slots, never on the previous GEMM's epilogue.
TEST(GemmKernel, ConsecutiveGemms_VxmUnpacksNextOpBeforeFinishingPrevious) {
  const HwConfig hw = test_hw(220 * kMiB, 32);
  ProgramBuilder b;
  const std::uint32_t x = b.add_buffer("x", 1 * 256 * 4);
  const std::uint32_t y = b.add_buffer("y", 1 * 64 * 4);
  GemmIo io;
  io.x = View{x, 0, 4, 256 * 4};
  io.y = View{y, 0, 4, 64 * 4};
  GemmSpec s = spec_of("q3.5", 1, 256, 64);
  s.name = "first";
  emit_gemm(b, s, hw, io);
  s.name = "second";
  emit_gemm(b, s, hw, io);
  const Program p = b.finish();
  const auto& vxm = p.queue(Unit::kVxm);
  const std::uint32_t second = 2;  // tags: "", "first", "second"
  ASSERT_EQ(p.tags[second], "second");
  std::size_t first_second_unpack = vxm.size(), last_first = 0;
  for (std::size_t i = 0; i < vxm.size(); ++i) {
    if (vxm[i].tag == second && vxm[i].opcode == Opcode::kSar &&
        first_second_unpack == vxm.size()) {
      first_second_unpack = i;
    }
    if (vxm[i].tag == 1) last_first = i;
  }
  EXPECT_LT(first_second_unpack, last_first);
}

TEST(GemmKernel, MetadataRegionsAreNamedAndSizedByTheFormatsMetadataFields) {
  // int4 k = 256, G = 64: 4 groups a row, n = 64 rows. With the format's fp16 fields each region
  // holds 64 * 4 * 2 bytes; a format whose scale is f32 gets a region of 64 * 4 * 4 bytes and a
  // CONVERT from f32, without any change to the kernel.
  GemmSpec spec = spec_of("int4", 1, 256, 64);
  spec.format.metadata[0].type = ElemType::kF32;
  const GemmKernel k = build_gemm_program(spec, test_hw());
  std::map<std::string, std::uint64_t> bytes;
  for (const RegionDecl& r : k.program.regions) bytes[r.name] = r.bytes;
  EXPECT_EQ(bytes.at("g.scales"), 64u * 4 * 4);
  EXPECT_EQ(bytes.at("g.offsets"), 64u * 4 * 2);
  int from_f32 = 0, from_f16 = 0;
  for (const Instruction& inst : k.program.queue(Unit::kVxm)) {
    if (inst.opcode != Opcode::kCvt || inst.type != ElemType::kF32) continue;
    from_f32 += inst.src_type == ElemType::kF32 && inst.a.col_stride == 4 ? 1 : 0;
    from_f16 += inst.src_type == ElemType::kF16 && inst.a.col_stride == 2 ? 1 : 0;
  }
  EXPECT_EQ(from_f32, 1);  // the scales of the one tile
  EXPECT_EQ(from_f16, 1);  // its offsets
}

TEST(GemmKernel, AFormatWithMetadataOtherThanScaleAndOffset_IsAnInputError) {
  GemmSpec spec = spec_of("int4", 1, 256, 64);
  spec.format.metadata = {MetadataField{"lut", ElemType::kF16}};
  try {
    build_gemm_program(spec, test_hw());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot decode"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lpusim
