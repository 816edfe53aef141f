// The LLaMA step ops: run by the reference interpreter under several interleavings they match a
// plain C++ forward (RMSNorm, RoPE, attention over an fp16 / int8 KV cache, causal prefill,
// SwiGLU, residual, embedding gather), append to the KV cache, and compose with emit_gemm.
#include "kernels/llm_ops.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "kernels/gemm_kernel.h"
#include "kernels/int_math.h"
#include "reference_executor.h"

namespace lpusim {
namespace {

using testing::ReferenceMachine;
using testing::run_program;
using testing::Schedule;
using Bytes8 = std::vector<std::uint8_t>;

constexpr Schedule kSchedules[] = {Schedule::kMemFirst, Schedule::kMxmFirst, Schedule::kRandom};
constexpr double kRopeTheta = 10000.0;

LlmStep small_step(std::uint64_t tokens, std::uint64_t past,
                   KvCacheFormat kv = KvCacheFormat::kFp16) {
  LlmStep s;
  s.hidden = 32;
  s.ffn = 48;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 8;
  s.vocab = 50;
  s.batch = 2;
  s.tokens = tokens;
  s.past = past;
  s.kv = kv;
  return s;
}

// A small chip: 16x16 MXM planes so GEMMs of the small step take several strips.
HwConfig tiny_hw() {
  HwConfig hw;
  hw.name = "tiny";
  hw.clock = Hertz{1e9};
  hw.memory = MemoryConfig{BytesPerSecond{100e9}, Seconds{100e-9}, Bytes{64}, 4};
  hw.sram = SramConfig{Bytes{16ull << 20}, 4096};
  hw.mxm = MxmConfig{2, 16, 16, 1024};
  hw.vxm = VxmConfig{16, 4};
  hw.dispatch = DispatchConfig{1};
  return hw;
}

float f16r(double x) { return fp16_to_float(double_to_fp16(x)); }

std::uint32_t buffer_id(const Program& p, std::string_view name) {
  for (std::size_t i = 0; i < p.buffers.size(); ++i) {
    if (p.buffers[i].name == name) return static_cast<std::uint32_t>(i);
  }
  throw std::runtime_error("no buffer " + std::string(name));
}
std::uint32_t region_id(const Program& p, std::string_view name) {
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    if (p.regions[i].name == name) return static_cast<std::uint32_t>(i);
  }
  throw std::runtime_error("no region " + std::string(name));
}

float get_f32(const Bytes8& mem, std::uint64_t i) {
  float v = 0;
  std::memcpy(&v, mem.data() + 4 * i, 4);
  return v;
}
void put_f32(Bytes8& mem, std::uint64_t i, float v) { std::memcpy(mem.data() + 4 * i, &v, 4); }
float get_f16(const Bytes8& mem, std::uint64_t i) {
  std::uint16_t h = 0;
  std::memcpy(&h, mem.data() + 2 * i, 2);
  return fp16_to_float(h);
}
void put_f16(Bytes8& mem, std::uint64_t i, double v) {
  const std::uint16_t h = double_to_fp16(v);
  std::memcpy(mem.data() + 2 * i, &h, 2);
}

// Fills all of `mem` with normal f32 (or fp16) values of the given spread.
void fill_f32(Bytes8& mem, unsigned seed, double spread = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, spread);
  for (std::uint64_t i = 0; i < mem.size() / 4; ++i) put_f32(mem, i, static_cast<float>(dist(rng)));
}
void fill_f16(Bytes8& mem, unsigned seed, double mean, double spread) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, spread);
  for (std::uint64_t i = 0; i < mem.size() / 2; ++i) put_f16(mem, i, dist(rng));
}

// RoPE tables: row p holds cos / sin of p * theta^(-2i/d) for the pair i.
void fill_rope_tables(ReferenceMachine& m, const Program& p, const LlmStep& s) {
  Bytes8& cos = m.regions[region_id(p, "rope.cos")];
  Bytes8& sin = m.regions[region_id(p, "rope.sin")];
  const std::uint64_t half = s.head_dim / 2;
  for (std::uint64_t pos = 0; pos < s.keys(); ++pos) {
    for (std::uint64_t i = 0; i < half; ++i) {
      const double angle =
          static_cast<double>(pos) *
          std::pow(kRopeTheta, -2.0 * static_cast<double>(i) / static_cast<double>(s.head_dim));
      put_f32(cos, pos * half + i, static_cast<float>(std::cos(angle)));
      put_f32(sin, pos * half + i, static_cast<float>(std::sin(angle)));
    }
  }
}

// The causal mask of a prompt: 0 where key j is visible to token t (j <= past + t), else -inf.
void fill_causal_mask(ReferenceMachine& m, const Program& p, const LlmStep& s) {
  if (s.tokens == 1) return;
  Bytes8& mask = m.regions[region_id(p, "attn.causal_mask")];
  for (std::uint64_t t = 0; t < s.tokens; ++t) {
    for (std::uint64_t j = 0; j < s.keys(); ++j) {
      put_f32(mask, t * s.keys() + j,
              j <= s.past + t ? 0.0f : -std::numeric_limits<float>::infinity());
    }
  }
}

using Fill = std::function<void(ReferenceMachine&)>;

// Runs `program` under every schedule (and a few random seeds), each on a fresh machine.
std::vector<ReferenceMachine> run_everywhere(const Program& program, const Fill& setup) {
  std::vector<ReferenceMachine> machines;
  for (const Schedule schedule : kSchedules) {
    for (unsigned seed = 1; seed <= (schedule == Schedule::kRandom ? 3u : 1u); ++seed) {
      ReferenceMachine m(program);
      setup(m);
      EXPECT_EQ(run_program(program, m, schedule, seed), "");
      machines.push_back(std::move(m));
    }
  }
  return machines;
}

// ---- attention ---------------------------------------------------------------------------------

Program attention_program(const LlmStep& s) {
  ProgramBuilder b;
  declare_llm_ops(b, s);
  emit_step_tables(b, s);
  emit_attention(b, s, "layer0");
  return b.finish();
}

// Key / value element d of cache position j of block (sequence, KV head) as the MXM sees it.
float cached(const ReferenceMachine& m, const Program& p, const LlmStep& s, bool value,
             std::uint64_t block, std::uint64_t j, std::uint64_t d) {
  const std::string which = value ? "layer0.v_cache" : "layer0.k_cache";
  const Bytes8& codes = m.regions[region_id(p, which)];
  const std::uint64_t at = (block * s.keys() + j) * s.head_dim + d;
  if (s.kv == KvCacheFormat::kFp16) return get_f16(codes, at);
  const Bytes8& scales = m.regions[region_id(p, value ? "layer0.v_scales" : "layer0.k_scales")];
  const auto code = static_cast<std::int8_t>(codes[at]);
  return f16r(static_cast<float>(code) * get_f16(scales, block * s.keys() + j));
}

// softmax(q K^T / sqrt(d) + causal mask) V per (sequence, head, token), with the f16 roundings of
// the kernel's operands (q, new k and v, P).
std::vector<double> reference_attention(const ReferenceMachine& before, const Program& p,
                                        const LlmStep& s) {
  const std::uint64_t d = s.head_dim, width = s.heads * d, kv_width = s.kv_heads * d;
  const Bytes8& qr = before.buffers[buffer_id(p, "act.qr")];
  const Bytes8& kr = before.buffers[buffer_id(p, "act.kr")];
  const Bytes8& vn = before.buffers[buffer_id(p, "act.v")];
  std::vector<double> out(s.rows() * width, 0.0);
  for (std::uint64_t seq = 0; seq < s.batch; ++seq) {
    for (std::uint64_t h = 0; h < s.heads; ++h) {
      const std::uint64_t g = h / s.group(), block = seq * s.kv_heads + g;
      auto key = [&](bool value, std::uint64_t j, std::uint64_t e) -> double {
        if (j < s.past) return cached(before, p, s, value, block, j, e);
        const std::uint64_t row = seq * s.tokens + (j - s.past);
        return f16r(get_f32(value ? vn : kr, row * kv_width + g * d + e));
      };
      for (std::uint64_t t = 0; t < s.tokens; ++t) {
        const std::uint64_t row = seq * s.tokens + t;
        const std::uint64_t visible = s.past + t + 1;
        std::vector<double> score(visible);
        double top = -1e300;
        for (std::uint64_t j = 0; j < visible; ++j) {
          double acc = 0;
          for (std::uint64_t e = 0; e < d; ++e) {
            acc += f16r(get_f32(qr, row * width + h * d + e)) * key(false, j, e);
          }
          score[j] = acc / std::sqrt(static_cast<double>(d));
          top = std::max(top, score[j]);
        }
        double sum = 0;
        for (double& v : score) sum += (v = std::exp(v - top));
        for (std::uint64_t e = 0; e < d; ++e) {
          double acc = 0;
          for (std::uint64_t j = 0; j < visible; ++j) acc += f16r(score[j] / sum) * key(true, j, e);
          out[row * width + h * d + e] = acc;
        }
      }
    }
  }
  return out;
}

// Random queries, new keys / values and cache contents (fp16 values, or int8 codes + scales).
Fill attention_inputs(const Program& p, const LlmStep& s) {
  return [&p, s](ReferenceMachine& m) {
    fill_f32(m.buffers[buffer_id(p, "act.qr")], 1);
    fill_f32(m.buffers[buffer_id(p, "act.kr")], 2);
    fill_f32(m.buffers[buffer_id(p, "act.v")], 3);
    fill_causal_mask(m, p, s);
    if (s.kv == KvCacheFormat::kFp16) {
      fill_f16(m.regions[region_id(p, "layer0.k_cache")], 4, 0.0, 1.0);
      fill_f16(m.regions[region_id(p, "layer0.v_cache")], 5, 0.0, 1.0);
      return;
    }
    std::mt19937 rng(6);
    std::uniform_int_distribution<int> code(-127, 127);
    for (const char* name : {"layer0.k_cache", "layer0.v_cache"}) {
      for (std::uint8_t& c : m.regions[region_id(p, name)])
        c = static_cast<std::uint8_t>(code(rng));
    }
    fill_f16(m.regions[region_id(p, "layer0.k_scales")], 7, 0.008, 0.002);
    fill_f16(m.regions[region_id(p, "layer0.v_scales")], 8, 0.008, 0.002);
  };
}

void expect_attention_matches(const LlmStep& s) {
  const Program p = attention_program(s);
  const Fill setup = attention_inputs(p, s);
  ReferenceMachine before(p);
  setup(before);
  const std::vector<double> want = reference_attention(before, p, s);
  for (const ReferenceMachine& m : run_everywhere(p, setup)) {
    const Bytes8& got = m.buffers[buffer_id(p, "act.attn")];
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(get_f32(got, i), want[i], 4e-3 + 4e-3 * std::fabs(want[i])) << "element " << i;
    }
  }
}

TEST(Attention, DecodeOverFp16Cache_MatchesSoftmaxQKtV) {
  expect_attention_matches(small_step(1, 5));
}

TEST(Attention, DecodeOverInt8Cache_MatchesSoftmaxQKtVOfDequantizedCache) {
  expect_attention_matches(small_step(1, 5, KvCacheFormat::kInt8));
}

TEST(Attention, PrefillIsCausal_MatchesMaskedSoftmax) {
  expect_attention_matches(small_step(3, 0));
}

TEST(Attention, PrefillWithInt8Cache_AttendsOverFreshValues) {
  expect_attention_matches(small_step(3, 0, KvCacheFormat::kInt8));
}

TEST(Attention, DecodeWithEmptyCache_AttendsToItself) {
  expect_attention_matches(small_step(1, 0));
}

TEST(Attention, NewKeysAndValues_AreAppendedAtPositionPast) {
  for (const LlmStep& s : {small_step(1, 5), small_step(3, 0)}) {
    const Program p = attention_program(s);
    const Fill setup = attention_inputs(p, s);
    ReferenceMachine before(p);
    setup(before);
    const std::uint64_t d = s.head_dim, width = s.kv_heads * d;
    for (const ReferenceMachine& m : run_everywhere(p, setup)) {
      for (const auto& [cache, act] :
           {std::pair{"layer0.k_cache", "act.kr"}, std::pair{"layer0.v_cache", "act.v"}}) {
        const Bytes8& region = m.regions[region_id(p, cache)];
        const Bytes8& src = before.buffers[buffer_id(p, act)];
        for (std::uint64_t block = 0; block < s.kv_groups(); ++block) {
          const std::uint64_t seq = block / s.kv_heads, g = block % s.kv_heads;
          for (std::uint64_t t = 0; t < s.tokens; ++t) {
            for (std::uint64_t e = 0; e < d; ++e) {
              const float want = f16r(get_f32(src, (seq * s.tokens + t) * width + g * d + e));
              EXPECT_EQ(get_f16(region, (block * s.keys() + s.past + t) * d + e), want);
            }
          }
        }
      }
    }
  }
}

TEST(Attention, Int8Append_StoresCodesAndScalesWithinHalfAStep) {
  const LlmStep s = small_step(1, 5, KvCacheFormat::kInt8);
  const Program p = attention_program(s);
  const Fill setup = attention_inputs(p, s);
  ReferenceMachine before(p);
  setup(before);
  ReferenceMachine m(p);
  setup(m);
  ASSERT_EQ(run_program(p, m, Schedule::kRandom, 9), "");
  const std::uint64_t d = s.head_dim;
  const Bytes8& kr = before.buffers[buffer_id(p, "act.kr")];
  for (std::uint64_t block = 0; block < s.kv_groups(); ++block) {
    const float scale =
        get_f16(m.regions[region_id(p, "layer0.k_scales")], block * s.keys() + s.past);
    for (std::uint64_t e = 0; e < d; ++e) {
      const auto code = static_cast<std::int8_t>(
          m.regions[region_id(p, "layer0.k_cache")][(block * s.keys() + s.past) * d + e]);
      const float x = get_f32(kr, block * d + e);
      EXPECT_NEAR(code * scale, x, 0.51 * scale + 2e-3 * std::fabs(x));
    }
  }
}

std::uint64_t load_bytes_from(const Program& p, std::string_view region) {
  std::uint64_t bytes = 0;
  const std::uint32_t id = region_id(p, region);
  for (const Instruction& inst : p.queue(Unit::kMem)) {
    if (inst.opcode == Opcode::kLoad && inst.a.space == id) bytes += inst.transfer_bytes();
  }
  return bytes;
}

TEST(Attention, Decode_LoadsEveryCachedTokenOnce) {
  for (const KvCacheFormat kv : {KvCacheFormat::kFp16, KvCacheFormat::kInt8}) {
    const LlmStep s = small_step(1, 7, kv);
    const Program p = attention_program(s);
    const std::uint64_t codes = s.kv_groups() * s.past * s.head_dim * s.kv_elem_bytes();
    EXPECT_EQ(load_bytes_from(p, "layer0.k_cache"), codes);
    EXPECT_EQ(load_bytes_from(p, "layer0.v_cache"), codes);
    if (kv == KvCacheFormat::kInt8) {
      EXPECT_EQ(load_bytes_from(p, "layer0.k_scales"), s.kv_groups() * s.past * 2);
      EXPECT_EQ(load_bytes_from(p, "layer0.v_scales"), s.kv_groups() * s.past * 2);
    }
  }
}

TEST(Attention, Prefill_ReadsNoCache) {
  const Program p = attention_program(small_step(3, 0));
  EXPECT_EQ(load_bytes_from(p, "layer0.k_cache"), 0u);
  EXPECT_EQ(load_bytes_from(p, "layer0.v_cache"), 0u);
}

// Instructions per queue carrying each tag, with the "layerN." prefix dropped.
std::map<std::string, std::array<std::uint64_t, kUnitCount>> counts_by_tag(const Program& p,
                                                                           std::string_view layer) {
  std::map<std::string, std::array<std::uint64_t, kUnitCount>> counts;
  for (int q = 0; q < kUnitCount; ++q) {
    for (const Instruction& inst : p.queues[q]) {
      const std::string& tag = p.tags[inst.tag];
      if (tag.rfind(layer, 0) == 0) ++counts[tag.substr(layer.size())][q];
    }
  }
  return counts;
}

TEST(Attention, EveryLayer_EmitsTheSameStream) {
  const LlmStep s = small_step(1, 9);
  ProgramBuilder b;
  declare_llm_ops(b, s);
  for (const char* layer : {"layer0", "layer1", "layer2"}) {
    emit_rope(b, s, layer);
    emit_attention(b, s, layer);
  }
  const Program p = b.finish();
  const auto first = counts_by_tag(p, "layer0.");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(counts_by_tag(p, "layer1."), first);
  EXPECT_EQ(counts_by_tag(p, "layer2."), first);
  ReferenceMachine m(p);
  EXPECT_EQ(run_program(p, m, Schedule::kRandom, 3), "");
}

TEST(Attention, PerBlockMatmuls_HaveGroupByKeysShapes) {
  const LlmStep s = small_step(3, 0);
  const Program p = attention_program(s);
  std::uint64_t scores = 0, pv = 0;
  for (const Instruction& inst : p.queue(Unit::kMxm)) {
    if (inst.opcode != Opcode::kMatmul) continue;
    EXPECT_EQ(inst.type, ElemType::kF16);
    EXPECT_EQ(inst.m, s.group() * s.tokens);
    if (inst.k == s.head_dim) {
      EXPECT_EQ(inst.n, s.keys());
      ++scores;
    } else {
      EXPECT_EQ(inst.k, s.keys());
      EXPECT_EQ(inst.n, s.head_dim);
      ++pv;
    }
  }
  EXPECT_EQ(scores, s.kv_groups());
  EXPECT_EQ(pv, s.kv_groups());
}

// ---- attention: ring depths and key tiles
// --------------------------------------------------------

// The SRAM the step declares besides the attention rings.
std::uint64_t sram_besides_rings(const LlmStep& s) {
  ProgramBuilder b;
  declare_llm_ops(b, s);
  const AttentionPlan& plan = attention_plan(b, s);
  return b.program().sram_bytes() - attention_sram_bytes(s, plan.key_tile, plan.depth, plan.blocks);
}

// `s` on a chip whose SRAM leaves the rings exactly `ring_bytes` (their share of what is left).
LlmStep with_ring_budget(LlmStep s, std::uint64_t ring_bytes) {
  s.sram_capacity = sram_besides_rings(s) + attention_sram_share(s) * ring_bytes;
  return s;
}

// `s` with rings of `depth` slots of `blocks` blocks of `tile` keys (`tile` divides the keys
// evenly): the tile and the depth capped, SRAM for the deeper of `depth` and four slots.
LlmStep with_plan(LlmStep s, std::uint64_t tile, int depth, std::uint64_t blocks = 1) {
  if (tile < s.keys()) s.max_key_tile = tile;
  s.max_attention_depth = depth;
  s = with_ring_budget(
      s, attention_sram_bytes(s, tile, std::max(depth, kTiledAttentionDepth), blocks));
  ProgramBuilder b;
  declare_llm_ops(b, s);
  const AttentionPlan& plan = attention_plan(b, s);
  EXPECT_EQ(plan.key_tile, tile);
  EXPECT_EQ(plan.depth, depth);
  EXPECT_EQ(plan.blocks, blocks);
  return s;
}

LlmStep batch_of(LlmStep s, std::uint64_t batch) {
  s.batch = batch;
  return s;
}

// Multiply-accumulates of every MATMUL of a program.
std::uint64_t matmul_macs(const Program& p) {
  std::uint64_t macs = 0;
  for (const Instruction& inst : p.queue(Unit::kMxm)) {
    if (inst.opcode == Opcode::kMatmul) macs += std::uint64_t{inst.m} * inst.k * inst.n;
  }
  return macs;
}

TEST(AttentionPlan, RingBytes_AreTheDeclaredBuffers) {
  for (const LlmStep& base :
       {small_step(1, 5), small_step(1, 5, KvCacheFormat::kInt8), small_step(3, 0),
        small_step(3, 4, KvCacheFormat::kInt8), batch_of(small_step(1, 5), 8),
        batch_of(small_step(1, 5, KvCacheFormat::kInt8), 8)}) {
    for (const std::uint64_t tile : {base.keys(), std::uint64_t{2}}) {
      LlmStep s = base;
      if (tile < s.keys()) s.max_key_tile = tile;
      ProgramBuilder b;
      declare_llm_ops(b, s);
      const AttentionPlan plan = attention_plan(b, s);
      std::uint64_t ring = 0;
      for (const BufferDecl& buf : b.program().buffers) {
        if (buf.name.rfind("attn.", 0) == 0 && buf.name != "attn.mask") ring += buf.bytes;
      }
      EXPECT_EQ(ring, attention_sram_bytes(s, plan.key_tile, plan.depth, plan.blocks))
          << "past " << s.past << " tokens " << s.tokens << " tile " << tile;
    }
  }
}

TEST(AttentionPlan, EverythingFits_OneTileAndTheDeepestRing) {
  const LlmStep s = small_step(1, 5);
  const AttentionPlan plan = plan_attention(s, 1u << 20);
  EXPECT_EQ(plan.tiles, 1u);
  EXPECT_EQ(plan.key_tile, s.keys());
  EXPECT_EQ(plan.blocks, 1u);  // a layer keeps kTiledAttentionDepth jobs
  EXPECT_EQ(plan.depth, static_cast<int>(s.kv_groups()));  // no deeper than one layer's jobs
  const AttentionPlan four = plan_attention(batch_of(s, 8), 1u << 20);
  EXPECT_EQ(four.blocks, 4u);
  EXPECT_EQ(four.depth, 4);
  const AttentionPlan deep = plan_attention(batch_of(s, 64), 1u << 24);
  EXPECT_EQ(deep.blocks, kMaxAttentionBlocks);
  EXPECT_EQ(deep.depth, kMaxAttentionDepth);
  EXPECT_EQ(deep.lookahead, kMaxAttentionDepth / 2);
}

TEST(AttentionPlan, ShortOfSramForFourWholeSlots_CutsTheKeysForFourSlots) {
  const LlmStep s = small_step(1, 63);
  const std::uint64_t budget = attention_sram_bytes(s, s.keys(), kTiledAttentionDepth) - 1;
  const AttentionPlan plan = plan_attention(s, budget);
  ASSERT_GT(plan.tiles, 1u);
  EXPECT_LE(attention_sram_bytes(s, plan.key_tile, kTiledAttentionDepth), budget);
  EXPECT_GE(plan.depth, kTiledAttentionDepth);
  EXPECT_LE(attention_sram_bytes(s, plan.key_tile, plan.depth), budget);
  // One key more per tile would not fit four slots (before the tiles are evened out).
  const std::uint64_t widest = ceil_div(s.keys(), plan.tiles - 1);
  EXPECT_GT(attention_sram_bytes(s, widest, kTiledAttentionDepth), budget);
}

TEST(Attention, EveryRingDepth_MatchesSoftmaxQKtVUnderEveryInterleaving) {
  // Batch 3: six blocks, one per job; depth 8 needs more jobs than blocks, so it cuts the keys.
  for (const int depth : {2, 3, 5, 8}) {
    SCOPED_TRACE(depth);
    const std::uint64_t cut = depth > 6 ? 2 : 1;
    expect_attention_matches(with_plan(batch_of(small_step(1, 5), 3), 6 / cut, depth));
    expect_attention_matches(
        with_plan(batch_of(small_step(1, 5, KvCacheFormat::kInt8), 3), 6 / cut, depth));
    expect_attention_matches(with_plan(batch_of(small_step(3, 0), 3), 3, std::min(depth, 6)));
  }
}

TEST(Attention, SeveralDecodeBlocksPerJob_MatchSoftmaxQKtV) {
  expect_attention_matches(with_plan(batch_of(small_step(1, 5), 8), 6, 4, 4));
  expect_attention_matches(with_plan(batch_of(small_step(1, 0), 8), 1, 4, 4));  // empty cache
  // 14 blocks in jobs of 3 and 2: the last job holds fewer blocks.
  expect_attention_matches(with_plan(batch_of(small_step(1, 5, KvCacheFormat::kInt8), 7), 6, 4, 3));
  expect_attention_matches(with_plan(batch_of(small_step(1, 5), 7), 6, 4, 2));
}

// Instructions of `opcode` on `queue` in a program.
std::uint64_t count_of(const Program& p, Unit queue, Opcode opcode) {
  std::uint64_t n = 0;
  for (const Instruction& inst : p.queue(queue)) n += inst.opcode == opcode ? 1 : 0;
  return n;
}

TEST(Attention, SeveralDecodeBlocksPerJob_ShareOneSoftmaxAndOneLoadPerTensor) {
  const LlmStep one = with_plan(batch_of(small_step(1, 5, KvCacheFormat::kInt8), 8), 6, 2);
  const LlmStep four = with_plan(batch_of(small_step(1, 5, KvCacheFormat::kInt8), 8), 6, 4, 4);
  const Program a = attention_program(one);
  const Program b = attention_program(four);
  const std::uint64_t blocks = one.kv_groups();
  EXPECT_EQ(count_of(a, Unit::kVxm, Opcode::kExp), blocks);
  EXPECT_EQ(count_of(b, Unit::kVxm, Opcode::kExp), blocks / 4);
  const std::uint64_t tables = 2;  // RoPE cos and sin
  EXPECT_EQ(count_of(a, Unit::kMem, Opcode::kLoad) - tables, 4 * blocks);
  EXPECT_EQ(count_of(b, Unit::kMem, Opcode::kLoad) - tables, blocks);  // 4 tensors, 4 blocks
  EXPECT_EQ(count_of(b, Unit::kMxm, Opcode::kMatmul), 2 * blocks);     // one K and V install each
  EXPECT_EQ(matmul_macs(b), matmul_macs(a));
}

TEST(Attention, DecodeInKeyTiles_MatchesOneSoftmaxOverAllKeys) {
  for (const KvCacheFormat kv : {KvCacheFormat::kFp16, KvCacheFormat::kInt8}) {
    for (const int depth : {2, 4}) {
      SCOPED_TRACE(depth);
      const LlmStep s = with_plan(small_step(1, 8, kv), 3, depth);  // 9 keys, 3 tiles
      expect_attention_matches(s);
      ProgramBuilder b;
      declare_llm_ops(b, s);
      EXPECT_EQ(attention_plan(b, s).tiles, 3u);
    }
  }
}

TEST(Attention, PrefillInKeyTiles_MatchesMaskedSoftmax) {
  for (const KvCacheFormat kv : {KvCacheFormat::kFp16, KvCacheFormat::kInt8}) {
    expect_attention_matches(with_plan(small_step(6, 0, kv), 2, 3));  // tiles wholly masked
    expect_attention_matches(with_plan(small_step(3, 4, kv), 1, 2));  // a chunk after a past
    expect_attention_matches(with_plan(small_step(3, 5, kv), 4, 4));  // a tile of past and new
  }
}

TEST(Attention, SmallSram_CutsKeysIntoTilesThatMatch) {
  const LlmStep base = small_step(1, 11, KvCacheFormat::kInt8);
  const LlmStep s =
      with_ring_budget(base, attention_sram_bytes(base, base.keys(), kTiledAttentionDepth) - 1);
  ProgramBuilder b;
  declare_llm_ops(b, s);
  EXPECT_GT(attention_plan(b, s).tiles, 1u);
  expect_attention_matches(s);
}

TEST(Attention, KeyTiles_LoadEveryCachedTokenOnceAndDoTheSameMacs) {
  for (const LlmStep& base : {small_step(1, 8), small_step(3, 5, KvCacheFormat::kInt8)}) {
    const LlmStep tiled = with_plan(base, 3, 2);
    const Program one = attention_program(base);
    const Program cut = attention_program(tiled);
    EXPECT_EQ(matmul_macs(cut), matmul_macs(one));
    for (const char* region : {"layer0.k_cache", "layer0.v_cache"}) {
      EXPECT_EQ(load_bytes_from(cut, region), load_bytes_from(one, region));
    }
  }
}

// ---- RMSNorm, RoPE, SwiGLU, residual, embedding ------------------------------------------------

TEST(RmsNorm, StreamedAndResident_MatchReference) {
  for (const bool resident : {false, true}) {
    LlmStep s = small_step(3, 0);
    s.resident_norms = resident;
    ProgramBuilder b;
    const LlmActivations a = declare_llm_ops(b, s);
    emit_rms_norm(
        b, s,
        NormIo{"layer0.attn_norm", f32_rows(a.x, s.hidden), f32_rows(a.h, s.hidden), s.rows()});
    const Program p = b.finish();
    const Fill setup = [&](ReferenceMachine& m) {
      fill_f32(m.buffers[a.x], 11);
      Bytes8& w = resident ? m.buffers[buffer_id(p, "layer0.attn_norm")]
                           : m.regions[region_id(p, "layer0.attn_norm")];
      fill_f16(w, 12, 1.0, 0.2);
    };
    ReferenceMachine before(p);
    setup(before);
    const Bytes8& w = resident ? before.buffers[buffer_id(p, "layer0.attn_norm")]
                               : before.regions[region_id(p, "layer0.attn_norm")];
    for (const ReferenceMachine& m : run_everywhere(p, setup)) {
      for (std::uint64_t r = 0; r < s.rows(); ++r) {
        double ss = 0;
        for (std::uint64_t i = 0; i < s.hidden; ++i) {
          ss += std::pow(get_f32(before.buffers[a.x], r * s.hidden + i), 2);
        }
        const double inv = 1.0 / std::sqrt(ss / static_cast<double>(s.hidden) + kRmsNormEps);
        for (std::uint64_t i = 0; i < s.hidden; ++i) {
          const double want = get_f32(before.buffers[a.x], r * s.hidden + i) * inv * get_f16(w, i);
          ASSERT_NEAR(get_f32(m.buffers[a.h], r * s.hidden + i), want,
                      1e-5 + 1e-5 * std::fabs(want));
        }
      }
    }
  }
}

TEST(RmsNorm, ResidentWeights_AreNotLoaded) {
  LlmStep s = small_step(1, 4);
  s.resident_norms = true;
  ProgramBuilder b;
  const LlmActivations a = declare_llm_ops(b, s);
  emit_rms_norm(b, s, NormIo{"final_norm", f32_rows(a.x, s.hidden), f32_rows(a.h, s.hidden), 2});
  const Program p = b.finish();
  for (const RegionDecl& r : p.regions) EXPECT_NE(r.name, "final_norm");
  EXPECT_NO_THROW(buffer_id(p, "final_norm"));
}

// Interleaved-pair rotation of tensor `act` ([rows][heads*d]) at position past + token.
void expect_rotated(const Bytes8& in, const Bytes8& out, const LlmStep& s, std::uint64_t heads) {
  const std::uint64_t d = s.head_dim, width = heads * d;
  for (std::uint64_t r = 0; r < s.rows(); ++r) {
    const double pos = static_cast<double>(s.past + r % s.tokens);
    for (std::uint64_t h = 0; h < heads; ++h) {
      for (std::uint64_t i = 0; i < d / 2; ++i) {
        const double angle =
            pos * std::pow(kRopeTheta, -2.0 * static_cast<double>(i) / static_cast<double>(d));
        const std::uint64_t at = r * width + h * d + 2 * i;
        const double xe = get_f32(in, at), xo = get_f32(in, at + 1);
        EXPECT_NEAR(get_f32(out, at), xe * std::cos(angle) - xo * std::sin(angle), 1e-5);
        EXPECT_NEAR(get_f32(out, at + 1), xe * std::sin(angle) + xo * std::cos(angle), 1e-5);
      }
    }
  }
}

TEST(Rope, DecodeAndPrefill_RotatePairsAtTheTokensPositions) {
  for (const LlmStep& s : {small_step(1, 7), small_step(3, 0), small_step(2, 4)}) {
    ProgramBuilder b;
    const LlmActivations a = declare_llm_ops(b, s);
    emit_step_tables(b, s);
    emit_rope(b, s, "layer0");
    const Program p = b.finish();
    const Fill setup = [&](ReferenceMachine& m) {
      fill_rope_tables(m, p, s);
      fill_f32(m.buffers[a.q], 21);
      fill_f32(m.buffers[a.k], 22);
    };
    ReferenceMachine before(p);
    setup(before);
    for (const ReferenceMachine& m : run_everywhere(p, setup)) {
      expect_rotated(before.buffers[a.q], m.buffers[a.qr], s, s.heads);
      expect_rotated(before.buffers[a.k], m.buffers[a.kr], s, s.kv_heads);
    }
  }
}

TEST(ElementwiseOps, EmbeddingSwigluResidual_MatchReference) {
  const LlmStep s = small_step(3, 0);
  ProgramBuilder b;
  const LlmActivations a = declare_llm_ops(b, s);
  emit_embedding(b, s);
  emit_swiglu(b, s, "layer0.mlp.silu");
  emit_residual_add(b, s, "layer0.residual");
  const Program p = b.finish();
  const Fill setup = [&](ReferenceMachine& m) {
    fill_f16(m.regions[region_id(p, "embed_tokens")], 31, 0.0, 1.0);
    fill_f32(m.buffers[a.gate], 32, 2.0);
    fill_f32(m.buffers[a.up], 33);
    fill_f32(m.buffers[a.y], 34);
  };
  ReferenceMachine before(p);
  setup(before);
  const Bytes8& table = before.regions[region_id(p, "embed_tokens")];
  for (const ReferenceMachine& m : run_everywhere(p, setup)) {
    for (std::uint64_t r = 0; r < s.rows(); ++r) {
      const std::uint64_t token = r * 7919 % s.vocab;
      for (std::uint64_t i = 0; i < s.hidden; ++i) {
        const double want =
            get_f16(table, token * s.hidden + i) + get_f32(before.buffers[a.y], r * s.hidden + i);
        ASSERT_NEAR(get_f32(m.buffers[a.x], r * s.hidden + i), want, 1e-6 + 1e-6 * std::fabs(want));
      }
      for (std::uint64_t i = 0; i < s.ffn; ++i) {
        const double g = get_f32(before.buffers[a.gate], r * s.ffn + i);
        const double want = g / (1.0 + std::exp(-g)) * get_f32(before.buffers[a.up], r * s.ffn + i);
        ASSERT_NEAR(get_f32(m.buffers[a.gate], r * s.ffn + i), want, 1e-5 + 1e-5 * std::fabs(want));
      }
    }
  }
}

// ---- composition with emit_gemm ----------------------------------------------------------------

void emit_block_gemm(ProgramBuilder& b, const HwConfig& hw, const std::string& name, View x,
                     std::uint32_t y, std::uint64_t m, std::uint64_t k, std::uint64_t n,
                     bool reuse) {
  GemmSpec g;
  g.name = name;
  g.m = m;
  g.k = k;
  g.n = n;
  g.format = parse_format("int4");
  g.group_size = 16;
  GemmIo io;
  io.x = x;
  io.y = f32_rows(y, n);
  io.reuse_quantized_x = reuse;
  emit_gemm(b, g, hw, io);
}

// One whole decoder block: norm, q/k/v, RoPE, attention, o, residual, norm, gate/up, SiLU, down,
// residual; int4 weights through the GEMM ring.
Program decoder_block(const LlmStep& s, const HwConfig& hw) {
  ProgramBuilder b;
  const LlmActivations a = declare_llm_ops(b, s);
  const std::uint64_t r = s.rows(), d = s.hidden, qw = s.heads * s.head_dim;
  const View h = f32_rows(a.h, d);
  emit_step_tables(b, s);
  emit_embedding(b, s);
  emit_rms_norm(b, s, NormIo{"layer0.attn_norm", f32_rows(a.x, d), h, r});
  emit_block_gemm(b, hw, "layer0.attn.q", h, a.q, r, d, qw, false);
  emit_block_gemm(b, hw, "layer0.attn.k", h, a.k, r, d, s.kv_heads * s.head_dim, true);
  emit_block_gemm(b, hw, "layer0.attn.v", h, a.v, r, d, s.kv_heads * s.head_dim, true);
  emit_rope(b, s, "layer0");
  emit_attention(b, s, "layer0");
  emit_block_gemm(b, hw, "layer0.attn.o", f32_rows(a.attn, qw), a.y, r, qw, d, false);
  emit_residual_add(b, s, "layer0.residual");
  emit_rms_norm(b, s, NormIo{"layer0.mlp_norm", f32_rows(a.x, d), h, r});
  emit_block_gemm(b, hw, "layer0.mlp.gate", h, a.gate, r, d, s.ffn, false);
  emit_block_gemm(b, hw, "layer0.mlp.up", h, a.up, r, d, s.ffn, true);
  emit_swiglu(b, s, "layer0.mlp.silu");
  emit_block_gemm(b, hw, "layer0.mlp.down", f32_rows(a.gate, s.ffn), a.y, r, s.ffn, d, false);
  emit_residual_add(b, s, "layer0.residual");
  emit_rms_norm(b, s, NormIo{"final_norm", f32_rows(a.x, d), h, s.batch});
  emit_block_gemm(b, hw, "lm_head", h, a.logits, s.batch, d, s.vocab, false);
  emit_logits_store(b, s);
  return b.finish();
}

// The same block with SRAM planned by live phases (each op in its StepPhase, as emit_layer puts
// it) and, with s.spill_residual, the residual stream stored off chip between its uses.
Program phased_decoder_block(const LlmStep& s, const HwConfig& hw) {
  ProgramBuilder b;
  const LlmActivations a = declare_llm_ops(b, s);
  const std::uint64_t r = s.rows(), d = s.hidden, qw = s.heads * s.head_dim;
  const View h = f32_rows(a.h, d);
  const auto phase = [&b](StepPhase p) { b.set_phase(phase_id(p)); };
  phase(StepPhase::kEmbed);
  emit_step_tables(b, s);
  emit_embedding(b, s);
  phase(StepPhase::kAttnNorm);
  emit_residual_spill(b, s, "layer0.residual.spill");
  emit_rms_norm(b, s, NormIo{"layer0.attn_norm", f32_rows(a.x, d), h, r});
  phase(StepPhase::kQkv);
  emit_block_gemm(b, hw, "layer0.attn.q", h, a.q, r, d, qw, false);
  emit_block_gemm(b, hw, "layer0.attn.k", h, a.k, r, d, s.kv_heads * s.head_dim, true);
  emit_block_gemm(b, hw, "layer0.attn.v", h, a.v, r, d, s.kv_heads * s.head_dim, true);
  phase(StepPhase::kRope);
  emit_rope(b, s, "layer0");
  phase(StepPhase::kAttention);
  emit_attention(b, s, "layer0");
  phase(StepPhase::kOProj);
  emit_block_gemm(b, hw, "layer0.attn.o", f32_rows(a.attn, qw), a.y, r, qw, d, false);
  phase(StepPhase::kAttnResidual);
  emit_residual_add(b, s, "layer0.residual");
  phase(StepPhase::kMlpNorm);
  emit_residual_spill(b, s, "layer0.residual.spill");
  emit_rms_norm(b, s, NormIo{"layer0.mlp_norm", f32_rows(a.x, d), h, r});
  phase(StepPhase::kGateUp);
  emit_block_gemm(b, hw, "layer0.mlp.gate", h, a.gate, r, d, s.ffn, false);
  emit_block_gemm(b, hw, "layer0.mlp.up", h, a.up, r, d, s.ffn, true);
  phase(StepPhase::kSwiglu);
  emit_swiglu(b, s, "layer0.mlp.silu");
  phase(StepPhase::kDown);
  emit_block_gemm(b, hw, "layer0.mlp.down", f32_rows(a.gate, s.ffn), a.y, r, s.ffn, d, false);
  phase(StepPhase::kMlpResidual);
  emit_residual_add(b, s, "layer0.residual");
  phase(StepPhase::kFinalNorm);
  emit_rms_norm(b, s, NormIo{"final_norm", f32_rows(a.x, d), h, s.batch});
  phase(StepPhase::kHead);
  if (s.logits_slice == 0) {
    emit_block_gemm(b, hw, "lm_head", h, a.logits, s.batch, d, s.vocab, false);
    emit_logits_store(b, s);
    return b.finish();
  }
  const std::uint64_t slices = (s.vocab + s.logits_slice - 1) / s.logits_slice;
  for (std::uint64_t i = 0; i < slices; ++i) {
    const std::uint64_t n = std::min(s.logits_slice, s.vocab - i * s.logits_slice);
    emit_logits_slice_wait(b, s, i);
    emit_block_gemm(b, hw, "lm_head.s" + std::to_string(i), h, a.logits_buffer(i), s.batch, d, n,
                    i > 0);
    emit_logits_slice_done(b, s, i);
    if (i > 0) emit_logits_slice_store(b, s, i - 1, (i - 1) * s.logits_slice, s.logits_slice);
  }
  emit_logits_slice_store(b, s, slices - 1, (slices - 1) * s.logits_slice,
                          s.vocab - (slices - 1) * s.logits_slice);
  return b.finish();
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A seed from a region's name (FNV-1a), so that a region holds the same data in programs that
// declare other regions besides (a spill region) or in another order.
unsigned name_seed(const std::string& name) {
  std::uint32_t h = 2166136261U;
  for (const char c : name) h = (h ^ static_cast<std::uint8_t>(c)) * 16777619U;
  return h;
}

// Where a region's data comes from: the region itself, or for a slice of a sliced LM head
// (lm_head.sI.qweight, ...) its rows of the whole tensor (lm_head.qweight, ...), so that a sliced
// head multiplies exactly the weights of the whole one.
struct DataSource {
  std::string name;
  std::uint64_t offset = 0;  // of the region's first byte in the whole tensor
  std::uint64_t bytes = 0;   // of the whole tensor
};
DataSource data_source(const Program& p, const std::string& name) {
  const std::string prefix = "lm_head.s";
  const auto is_slice = [&](const std::string& n) {
    return n.rfind(prefix, 0) == 0 && n.size() > prefix.size() &&
           std::isdigit(static_cast<unsigned char>(n[prefix.size()])) != 0;
  };
  if (!is_slice(name)) return {name, 0, 0};
  const std::string suffix = name.substr(name.find('.', prefix.size()));  // ".qweight"
  DataSource src{"lm_head" + suffix, 0, 0};
  bool before = true;
  for (const RegionDecl& r : p.regions) {
    if (!is_slice(r.name) || !ends_with(r.name, suffix)) continue;
    if (r.name == name) before = false;
    if (before) src.offset += r.bytes;
    src.bytes += r.bytes;
  }
  return src;
}

void fill_block_regions(ReferenceMachine& m, const Program& p, const LlmStep& s) {
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    const DataSource src = data_source(p, p.regions[i].name);
    const std::string& name = src.name;
    Bytes8 whole(src.bytes);
    Bytes8& mem = src.bytes == 0 ? m.regions[i] : whole;
    const unsigned seed = name_seed(name);
    std::mt19937 rng(seed);
    if (ends_with(name, ".qweight")) {
      for (std::uint8_t& byte : mem) byte = static_cast<std::uint8_t>(rng());
    } else if (ends_with(name, ".scales")) {
      fill_f16(mem, seed, 0.02, 0.002);
    } else if (ends_with(name, ".offsets")) {
      fill_f16(mem, seed, 0.0, 0.01);
    } else if (name.find("norm") != std::string::npos) {
      fill_f16(mem, seed, 1.0, 0.1);
    } else if (name.find("cache") != std::string::npos || name == "embed_tokens") {
      fill_f16(mem, seed, 0.0, 1.0);
    }
    if (src.bytes != 0) {
      std::copy_n(whole.begin() + static_cast<std::ptrdiff_t>(src.offset), m.regions[i].size(),
                  m.regions[i].begin());
    }
  }
  fill_rope_tables(m, p, s);
  fill_causal_mask(m, p, s);
}

TEST(DecoderBlock, WithGemmRing_SameFiniteLogitsUnderEveryInterleaving) {
  for (const LlmStep& s : {small_step(1, 6), small_step(3, 0)}) {
    const Program p = decoder_block(s, tiny_hw());
    const Fill setup = [&](ReferenceMachine& m) { fill_block_regions(m, p, s); };
    const std::vector<ReferenceMachine> runs = run_everywhere(p, setup);
    const Bytes8& logits = runs.front().regions[region_id(p, "logits")];
    for (std::uint64_t i = 0; i < s.batch * s.vocab; ++i) {
      ASSERT_TRUE(std::isfinite(get_f32(logits, i))) << i;
    }
    bool nonzero = false;
    for (std::uint64_t i = 0; i < s.batch * s.vocab; ++i) nonzero |= get_f32(logits, i) != 0.0f;
    EXPECT_TRUE(nonzero);
    for (const ReferenceMachine& m : runs) {
      EXPECT_EQ(m.regions[region_id(p, "logits")], logits);
      EXPECT_EQ(m.regions[region_id(p, "layer0.k_cache")],
                runs.front().regions[region_id(p, "layer0.k_cache")]);
    }
  }
}

// Planning SRAM by live phases and spilling the residual stream move where values sit, never
// what is computed: the logits and the appended KV cache are the same bits as the unplanned
// block's under every interleaving the reference machine tries.
TEST(DecoderBlock, PlannedAndSpilled_SameLogitsAndCacheBitForBit) {
  for (const LlmStep& base : {small_step(1, 6), small_step(3, 0)}) {
    const Program plain = decoder_block(base, tiny_hw());
    const std::vector<ReferenceMachine> want =
        run_everywhere(plain, [&](ReferenceMachine& m) { fill_block_regions(m, plain, base); });
    for (const auto& [spill, slice] :
         {std::pair{false, 0}, std::pair{true, 0}, std::pair{false, 16}, std::pair{true, 16}}) {
      LlmStep s = base;
      s.plan_sram = true;
      s.spill_residual = spill;
      s.logits_slice = static_cast<std::uint64_t>(slice);  // 50 = 16 + 16 + 16 + 2 columns
      const Program p = phased_decoder_block(s, tiny_hw());
      EXPECT_LT(p.sram_bytes(), plain.sram_bytes());
      const std::vector<ReferenceMachine> runs =
          run_everywhere(p, [&](ReferenceMachine& m) { fill_block_regions(m, p, s); });
      for (const ReferenceMachine& m : runs) {
        EXPECT_EQ(m.regions[region_id(p, "logits")],
                  want.front().regions[region_id(plain, "logits")])
            << "spill " << spill;
        EXPECT_EQ(m.regions[region_id(p, "layer0.k_cache")],
                  want.front().regions[region_id(plain, "layer0.k_cache")]);
        EXPECT_EQ(m.regions[region_id(p, "layer0.v_cache")],
                  want.front().regions[region_id(plain, "layer0.v_cache")]);
      }
      // The spill region; each slice's qweight, scales and offsets instead of the whole head's.
      EXPECT_EQ(p.regions.size() - plain.regions.size(), (spill ? 1U : 0U) + (slice ? 9U : 0U));
    }
  }
}

// A KV cache kept in SRAM changes where the cache lives, never what is computed: the same logits
// and appended cache bits under every interleaving, and the cache's bytes count in the SRAM the
// program needs.
TEST(DecoderBlock, KvOnChip_SameLogitsAndCacheBitForBit) {
  for (const LlmStep& base :
       {small_step(1, 6), small_step(3, 0), small_step(2, 5, KvCacheFormat::kInt8)}) {
    const Program plain = decoder_block(base, tiny_hw());
    const std::vector<ReferenceMachine> want =
        run_everywhere(plain, [&](ReferenceMachine& m) { fill_block_regions(m, plain, base); });
    LlmStep s = base;
    s.kv_on_chip = true;
    const Program p = decoder_block(s, tiny_hw());
    std::uint64_t cache_bytes = 0;
    for (const RegionDecl& r : p.regions) {
      bool kv = false;
      for (const std::string_view suffix : {".k_cache", ".v_cache", ".k_scales", ".v_scales"}) {
        kv = kv || (r.name.size() > suffix.size() &&
                    r.name.compare(r.name.size() - suffix.size(), suffix.size(), suffix) == 0);
      }
      EXPECT_EQ(r.on_chip, kv) << r.name;
      cache_bytes += r.on_chip ? r.bytes : 0;
    }
    EXPECT_GT(cache_bytes, 0U);
    EXPECT_EQ(p.sram_bytes(), plain.sram_bytes() + cache_bytes);
    const std::vector<ReferenceMachine> runs =
        run_everywhere(p, [&](ReferenceMachine& m) { fill_block_regions(m, p, s); });
    for (const ReferenceMachine& m : runs) {
      EXPECT_EQ(m.regions[region_id(p, "logits")],
                want.front().regions[region_id(plain, "logits")]);
      EXPECT_EQ(m.regions[region_id(p, "layer0.k_cache")],
                want.front().regions[region_id(plain, "layer0.k_cache")]);
      EXPECT_EQ(m.regions[region_id(p, "layer0.v_cache")],
                want.front().regions[region_id(plain, "layer0.v_cache")]);
    }
  }
}

// An instruction that touches a buffer outside the phases the plan gave it is refused: the
// builder checks the plan against every instruction.
TEST(DecoderBlock, OpOutsideItsPhase_IsRefused) {
  LlmStep s = small_step(1, 6);
  s.plan_sram = true;
  ProgramBuilder b;
  declare_llm_ops(b, s);
  b.set_phase(phase_id(StepPhase::kAttention));  // act.gate is dead there
  EXPECT_THROW(emit_swiglu(b, s, "layer0.mlp.silu"), SimulationError);
  b.set_phase(-1);  // no phase at all
  EXPECT_THROW(emit_swiglu(b, s, "layer0.mlp.silu"), SimulationError);
}

TEST(StepLiveness, ValuesLiveFromTheirWriteToTheirLastRead) {
  const ActivationLiveness l = plan_step_liveness(false);
  const auto phases = [](std::initializer_list<StepPhase> ps) {
    std::uint64_t m = 0;
    for (const StepPhase p : ps) m |= phase_bit(p);
    return m;
  };
  using P = StepPhase;
  EXPECT_EQ(l.gate, phases({P::kGateUp, P::kSwiglu, P::kDown}));
  EXPECT_EQ(l.up, phases({P::kGateUp, P::kSwiglu}));
  EXPECT_EQ(l.q, phases({P::kQkv, P::kRope}));
  EXPECT_EQ(l.v, phases({P::kQkv, P::kRope, P::kAttention}));
  EXPECT_EQ(l.attn, phases({P::kAttention, P::kOProj}));
  EXPECT_EQ(l.y, phases({P::kOProj, P::kAttnResidual, P::kDown, P::kMlpResidual}));
  EXPECT_EQ(l.h, phases({P::kAttnNorm, P::kQkv, P::kMlpNorm, P::kGateUp, P::kFinalNorm, P::kHead}));
  EXPECT_EQ(l.logits, phases({P::kHead}));
  // The residual stream lives through every phase but the LM head, unless it spills: then only
  // where it is read or written.
  EXPECT_EQ(l.x, phases({P::kEmbed, P::kAttnNorm, P::kQkv, P::kRope, P::kAttention, P::kOProj,
                         P::kAttnResidual, P::kMlpNorm, P::kGateUp, P::kSwiglu, P::kDown,
                         P::kMlpResidual, P::kFinalNorm}));
  EXPECT_EQ(plan_step_liveness(true).x, phases({P::kEmbed, P::kAttnNorm, P::kAttnResidual,
                                                P::kMlpNorm, P::kMlpResidual, P::kFinalNorm}));
  EXPECT_EQ(plan_step_liveness(true).gate, l.gate);
}

TEST(DecoderBlock, BuildTwice_IdenticalProgram) {
  EXPECT_EQ(decoder_block(small_step(1, 6), tiny_hw()), decoder_block(small_step(1, 6), tiny_hw()));
}

// ---- errors ------------------------------------------------------------------------------------

TEST(LlmStep, OddHeadDim_IsInputError) {
  LlmStep s = small_step(1, 2);
  s.head_dim = 7;
  s.hidden = 28;
  ProgramBuilder b;
  EXPECT_THROW(declare_llm_ops(b, s), InputError);
}

TEST(LlmStep, KvHeadsNotDividingHeads_IsInputError) {
  LlmStep s = small_step(1, 2);
  s.kv_heads = 3;
  ProgramBuilder b;
  EXPECT_THROW(declare_llm_ops(b, s), InputError);
}

TEST(LlmStep, SecondShapeOnOneBuilder_IsInputError) {
  ProgramBuilder b;
  declare_llm_ops(b, small_step(1, 2));
  EXPECT_THROW(emit_rope(b, small_step(1, 3), "layer0"), InputError);
}

}  // namespace
}  // namespace lpusim
