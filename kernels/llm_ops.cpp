// LLaMA decoder-step ops as instruction streams: declarations sized for the step, then per op the
// MEM transfers, VXM element-wise/reduction sequences and MXM f16 matmuls docs/WORKLOAD.md lists.
#include "kernels/llm_ops.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <optional>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"

namespace lpusim {
namespace {

constexpr int kSlots = 2;                               // double buffering
constexpr double kInt8Max = 127.0;                      // int8 KV: scale = max|x| / 127
constexpr double kScaleFloor = 1.1754943508222875e-38;  // FLT_MIN: no zero scales
constexpr std::uint64_t kTokenStride = 7919;            // placeholder token ids (a prime)

using Slots = std::array<std::uint32_t, kSlots>;
const ElemType kFloat32 = ElemType::kF32;
const ElemType kHalf = ElemType::kF16;

// The attention ring: per slot the K and V^T operands of the MXM, the load targets and the
// semaphores between MEM (or VXM when nothing is cached), VXM and MXM.
struct KvRing {
  Slots k{}, v{}, vt{}, k8{}, v8{}, ks{}, vs{}, out{};
  Slots full{}, free{}, out_full{}, out_free{};
};

class LlmState : public BuilderExtension {
 public:
  void flush(ProgramBuilder& /*builder*/) override {}

  bool declared = false;
  LlmStep step;
  LlmActivations act;
  std::uint32_t norm_ss = 0, norm_w32 = 0;
  Slots norm_w{}, norm_full{}, norm_free{};
  std::uint32_t embed_rows = 0, embed_ready = 0;
  std::uint32_t rope_cos = 0, rope_sin = 0, rope_nsin = 0, rope_ready = 0, mask = 0;
  std::uint32_t cos_region = 0, sin_region = 0, mask_region = 0, logits_region = 0;
  std::uint32_t perm_k = 0, perm_v = 0;
  std::uint32_t stage_k = 0, stage_v = 0, stage_ks = 0, stage_vs = 0;
  std::uint32_t quant_tmp = 0, quant_scale = 0, quant_inv = 0;
  std::uint32_t stage_full = 0, stage_free = 0;
  KvRing ring;
  std::uint32_t qg = 0, scores = 0, probs = 0, row_max = 0, row_sum = 0;
  std::uint32_t qk_ready = 0, scores_full = 0, p_ready = 0, logits_ready = 0;
  std::uint64_t norms = 0;   // norm weight loads so far (ring position)
  std::uint64_t groups = 0;  // attention groups so far (ring position)
};

std::int64_t s64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
int slot_of(std::uint64_t position) { return static_cast<int>(position % kSlots); }
std::string slot_name(std::string_view base, int slot) { return fmt::format("{}{}", base, slot); }

// A view whose every row reads the same row (row stride 0) of elem_bytes elements.
View same_row(std::uint32_t space, std::uint64_t offset, std::int64_t elem) {
  return View{space, offset, elem, 0};
}
// A view whose row i reads one element (col stride 0): a per-row scalar broadcast along the row.
View per_row(std::uint32_t space, std::uint64_t offset, std::int64_t elem) {
  return View{space, offset, 0, elem};
}
// A strided column: element i of a [1][n] shape, `elem` bytes apart.
View column(std::uint32_t space, std::uint64_t offset, std::int64_t elem) {
  return View{space, offset, elem, 0};
}

// ---- declarations ------------------------------------------------------------------------

void check_step(const LlmStep& s) {
  const bool positive = s.hidden > 0 && s.ffn > 0 && s.heads > 0 && s.kv_heads > 0 &&
                        s.head_dim > 0 && s.vocab > 0 && s.batch > 0 && s.tokens > 0;
  if (!positive) {
    throw InputError(
        "LLM step: hidden, ffn, heads, kv_heads, head_dim, vocab, batch and tokens must be >= 1");
  }
  if (s.heads % s.kv_heads != 0) {
    throw InputError(
        fmt::format("LLM step: kv_heads = {} does not divide heads = {}", s.kv_heads, s.heads));
  }
  if (s.head_dim % 2 != 0) {
    throw InputError(
        fmt::format("LLM step: head_dim = {} must be even (RoPE rotates pairs)", s.head_dim));
  }
  if (s.keys() > UINT32_MAX || s.group() * s.tokens > UINT32_MAX) {
    throw InputError("LLM step: attention shapes must stay below 2^32");
  }
}

bool same_step(const LlmStep& a, const LlmStep& b) {
  return a.hidden == b.hidden && a.ffn == b.ffn && a.heads == b.heads && a.kv_heads == b.kv_heads &&
         a.head_dim == b.head_dim && a.vocab == b.vocab && a.batch == b.batch &&
         a.tokens == b.tokens && a.past == b.past && a.kv == b.kv &&
         a.resident_norms == b.resident_norms && a.embedding_region == b.embedding_region;
}

void declare_activations(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  const std::uint64_t r = s.rows() * kF32Bytes;
  LlmActivations& a = st.act;
  a.x = b.add_buffer("act.x", r * s.hidden);
  a.h = b.add_buffer("act.h", r * s.hidden);
  a.q = b.add_buffer("act.q", r * s.heads * s.head_dim);
  a.k = b.add_buffer("act.k", r * s.kv_heads * s.head_dim);
  a.v = b.add_buffer("act.v", r * s.kv_heads * s.head_dim);
  a.qr = b.add_buffer("act.qr", r * s.heads * s.head_dim);
  a.kr = b.add_buffer("act.kr", r * s.kv_heads * s.head_dim);
  a.attn = b.add_buffer("act.attn", r * s.heads * s.head_dim);
  a.y = b.add_buffer("act.y", r * s.hidden);
  a.gate = b.add_buffer("act.gate", r * s.ffn);
  a.up = b.add_buffer("act.up", r * s.ffn);
  a.logits = b.add_buffer("act.logits", s.batch * s.vocab * kF32Bytes);
}

void declare_norm_and_tables(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  st.norm_ss = b.add_buffer("norm.ss", s.rows() * kF32Bytes);
  st.norm_w32 = b.add_buffer("norm.w32", s.hidden * kF32Bytes);
  if (!s.resident_norms) {
    for (int i = 0; i < kSlots; ++i) {
      st.norm_w[i] = b.add_buffer(slot_name("norm.w", i), s.hidden * kFp16Bytes);
      st.norm_full[i] = b.add_semaphore(slot_name("norm.full", i), 0);
      st.norm_free[i] = b.add_semaphore(slot_name("norm.free", i), 1);
    }
  }
  st.embed_rows = b.add_buffer("embed.rows", s.rows() * s.hidden * kFp16Bytes);
  st.embed_ready = b.add_semaphore("embed.ready");
  const std::uint64_t table_row = s.head_dim / 2 * kF32Bytes;
  st.rope_cos = b.add_buffer("rope.cos", s.tokens * table_row);
  st.rope_sin = b.add_buffer("rope.sin", s.tokens * table_row);
  st.rope_nsin = b.add_buffer("rope.nsin", s.tokens * table_row);
  st.cos_region = b.add_region("rope.cos", s.keys() * table_row);
  st.sin_region = b.add_region("rope.sin", s.keys() * table_row);
  st.rope_ready = b.add_semaphore("rope.ready");
  if (s.tokens > 1) {
    st.mask = b.add_buffer("attn.mask", s.tokens * s.keys() * kF32Bytes);
    st.mask_region = b.add_region("attn.causal_mask", s.tokens * s.keys() * kF32Bytes);
  }
  st.logits_region = b.add_region("logits", s.batch * s.vocab * kF32Bytes);
  st.logits_ready = b.add_semaphore("logits.ready");
}

void declare_kv_stage(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  const std::uint64_t n = s.kv_groups() * s.tokens;  // (sequence, KV head, token) rows
  if (s.tokens > 1) {
    st.perm_k = b.add_buffer("kv.perm_k", n * s.head_dim * kF32Bytes);
    st.perm_v = b.add_buffer("kv.perm_v", n * s.head_dim * kF32Bytes);
  }
  st.stage_k = b.add_buffer("kv.stage_k", n * s.head_dim * s.kv_elem_bytes());
  st.stage_v = b.add_buffer("kv.stage_v", n * s.head_dim * s.kv_elem_bytes());
  if (s.kv == KvCacheFormat::kInt8) {
    st.stage_ks = b.add_buffer("kv.stage_ks", n * kFp16Bytes);
    st.stage_vs = b.add_buffer("kv.stage_vs", n * kFp16Bytes);
    st.quant_tmp = b.add_buffer("kv.quant_tmp", n * s.head_dim * kF32Bytes);
    st.quant_scale = b.add_buffer("kv.quant_scale", n * kF32Bytes);
    st.quant_inv = b.add_buffer("kv.quant_inv", n * kF32Bytes);
  }
  st.stage_full = b.add_semaphore("kv.stage_full", 0);
  st.stage_free = b.add_semaphore("kv.stage_free", 1);
}

void declare_ring(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  const std::uint64_t keys = s.keys();
  const std::uint64_t d = s.head_dim;
  const std::uint64_t m = s.group() * s.tokens;
  const bool int8 = s.kv == KvCacheFormat::kInt8;
  KvRing& r = st.ring;
  for (int i = 0; i < kSlots; ++i) {
    r.k[i] = b.add_buffer(slot_name("attn.k", i), keys * d * kFp16Bytes);
    r.vt[i] = b.add_buffer(slot_name("attn.vt", i), d * keys * kFp16Bytes);
    if (s.past > 0) r.v[i] = b.add_buffer(slot_name("attn.v", i), s.past * d * kFp16Bytes);
    if (s.past > 0 && int8) {
      r.k8[i] = b.add_buffer(slot_name("attn.k8_", i), s.past * d);
      r.v8[i] = b.add_buffer(slot_name("attn.v8_", i), s.past * d);
      r.ks[i] = b.add_buffer(slot_name("attn.ks", i), s.past * kFp16Bytes);
      r.vs[i] = b.add_buffer(slot_name("attn.vs", i), s.past * kFp16Bytes);
    }
    r.out[i] = b.add_buffer(slot_name("attn.out", i), m * d * kF32Bytes);
    r.full[i] = b.add_semaphore(slot_name("attn.kv_full", i), 0);
    r.free[i] = b.add_semaphore(slot_name("attn.kv_free", i), 1);
    r.out_full[i] = b.add_semaphore(slot_name("attn.out_full", i), 0);
    r.out_free[i] = b.add_semaphore(slot_name("attn.out_free", i), 1);
  }
  st.qg = b.add_buffer("attn.qg", m * d * kFp16Bytes);
  st.scores = b.add_buffer("attn.scores", m * keys * kF32Bytes);
  st.probs = b.add_buffer("attn.probs", m * keys * kFp16Bytes);
  st.row_max = b.add_buffer("attn.max", m * kF32Bytes);
  st.row_sum = b.add_buffer("attn.sum", m * kF32Bytes);
  st.qk_ready = b.add_semaphore("attn.qk_ready");
  st.scores_full = b.add_semaphore("attn.scores_full");
  st.p_ready = b.add_semaphore("attn.p_ready");
}

LlmState& state(ProgramBuilder& b, const LlmStep& step) {
  LlmState& st = b.extension<LlmState>();
  if (st.declared) {
    if (!same_step(st.step, step)) {
      throw InputError("LLM ops: this builder was declared for a different step shape");
    }
    return st;
  }
  check_step(step);
  declare_activations(b, st, step);
  declare_norm_and_tables(b, st, step);
  declare_kv_stage(b, st, step);
  declare_ring(b, st, step);
  st.step = step;
  st.declared = true;
  return st;
}

std::uint32_t region_named(ProgramBuilder& b, const std::string& name, std::uint64_t bytes) {
  if (const auto id = b.find_region(name)) {
    if (b.program().regions[*id].bytes != bytes) {
      throw InputError(fmt::format("region {} is declared with {} bytes; expected {}", name,
                                   b.program().regions[*id].bytes, bytes));
    }
    return *id;
  }
  return b.add_region(name, bytes);
}

// ---- RMSNorm ---------------------------------------------------------------------------------

// Converts the norm weight to f32 in norm.w32: from its resident buffer, or loaded into a ring
// slot by the MEM queue (released again once converted).
void emit_norm_weight(ProgramBuilder& b, LlmState& st, const LlmStep& s, const std::string& name) {
  const std::uint64_t bytes = s.hidden * kFp16Bytes;
  const Shape shape{1, s.hidden};
  const View w32 = contiguous_view(st.norm_w32, 0, kFloat32, s.hidden);
  if (s.resident_norms) {
    std::uint32_t id = 0;
    if (const auto found = b.find_buffer(name)) {
      id = *found;
    } else {
      id = b.add_buffer(name, bytes);
    }
    b.convert(kFloat32, kHalf, w32, contiguous_view(id, 0, kHalf, s.hidden), shape);
    return;
  }
  const int slot = slot_of(st.norms++);
  const std::uint32_t region = region_named(b, name, bytes);
  b.wait(Unit::kMem, st.norm_free[slot]);
  b.load(st.norm_w[slot], 0, region, 0, bytes);
  b.notify(Unit::kMem, st.norm_full[slot]);
  b.wait(Unit::kVxm, st.norm_full[slot]);
  b.convert(kFloat32, kHalf, w32, contiguous_view(st.norm_w[slot], 0, kHalf, s.hidden), shape);
  b.notify(Unit::kVxm, st.norm_free[slot]);
}

// ---- RoPE ------------------------------------------------------------------------------------

// y_even = x_even cos - x_odd sin, y_odd = x_even sin + x_odd cos over rows x head_dim/2 pairs
// starting at byte `base` of src/dst; the tables advance table_stride bytes per row.
void emit_rotation(ProgramBuilder& b, const LlmState& st, std::uint32_t src, std::uint32_t dst,
                   std::uint64_t base, Shape shape, std::int64_t row_stride,
                   std::int64_t table_stride) {
  const View xe{src, base, 2 * kF32Bytes, row_stride};
  const View xo{src, base + kF32Bytes, 2 * kF32Bytes, row_stride};
  const View ye{dst, base, 2 * kF32Bytes, row_stride};
  const View yo{dst, base + kF32Bytes, 2 * kF32Bytes, row_stride};
  const View cos{st.rope_cos, 0, kF32Bytes, table_stride};
  const View sin{st.rope_sin, 0, kF32Bytes, table_stride};
  const View nsin{st.rope_nsin, 0, kF32Bytes, table_stride};
  b.vector(Opcode::kMul, kFloat32, ye, xo, nsin, shape);
  b.vector(Opcode::kMad, kFloat32, ye, xe, cos, shape);
  b.vector(Opcode::kMul, kFloat32, yo, xe, sin, shape);
  b.vector(Opcode::kMad, kFloat32, yo, xo, cos, shape);
}

// One token per sequence: every (sequence, head) row shares the position, so one op set covers
// the tensor. A prompt: one op set per (sequence, head) over its tokens' table rows.
void emit_rope_tensor(ProgramBuilder& b, const LlmState& st, const LlmStep& s, std::uint32_t src,
                      std::uint32_t dst, std::uint64_t heads) {
  const std::uint64_t d = s.head_dim;
  const std::uint64_t width = heads * d;
  if (s.tokens == 1) {
    emit_rotation(b, st, src, dst, 0, Shape{s.batch * heads, d / 2}, s64(d * kF32Bytes), 0);
    return;
  }
  for (std::uint64_t seq = 0; seq < s.batch; ++seq) {
    for (std::uint64_t h = 0; h < heads; ++h) {
      const std::uint64_t base = (seq * s.tokens * width + h * d) * kF32Bytes;
      emit_rotation(b, st, src, dst, base, Shape{s.tokens, d / 2}, s64(width * kF32Bytes),
                    s64(d / 2 * kF32Bytes));
    }
  }
}

// ---- attention: KV append --------------------------------------------------------------------

struct KvRegions {
  std::uint32_t k = 0, v = 0, ks = 0, vs = 0;
};

KvRegions declare_kv_regions(ProgramBuilder& b, const LlmStep& s, std::string_view layer) {
  const std::uint64_t slots = s.kv_groups() * s.keys();
  KvRegions r;
  r.k = b.add_region(fmt::format("{}.k_cache", layer), slots * s.head_dim * s.kv_elem_bytes());
  r.v = b.add_region(fmt::format("{}.v_cache", layer), slots * s.head_dim * s.kv_elem_bytes());
  if (s.kv == KvCacheFormat::kInt8) {
    r.ks = b.add_region(fmt::format("{}.k_scales", layer), slots * kFp16Bytes);
    r.vs = b.add_region(fmt::format("{}.v_scales", layer), slots * kFp16Bytes);
  }
  return r;
}

// The new tokens' k (after RoPE) and v as [sequence][KV head][token][head_dim] f32: act.kr and
// act.v already are for one token per sequence; a prompt is permuted with one MOV per block.
struct KvSource {
  std::uint32_t k = 0, v = 0;
};

KvSource permute_new_kv(ProgramBuilder& b, const LlmState& st, const LlmStep& s) {
  if (s.tokens == 1) return KvSource{st.act.kr, st.act.v};
  const std::uint64_t d = s.head_dim;
  const std::uint64_t width = s.kv_heads * d;
  const Shape block{s.tokens, d};
  for (std::uint64_t i = 0; i < s.kv_groups(); ++i) {
    const std::uint64_t seq = i / s.kv_heads;
    const std::uint64_t g = i % s.kv_heads;
    const std::uint64_t from = (seq * s.tokens * width + g * d) * kF32Bytes;
    const std::int64_t stride = s64(width * kF32Bytes);
    b.unary(Opcode::kMov, kFloat32, f32_rows(st.perm_k, d, i * s.tokens),
            View{st.act.kr, from, kF32Bytes, stride}, block);
    b.unary(Opcode::kMov, kFloat32, f32_rows(st.perm_v, d, i * s.tokens),
            View{st.act.v, from, kF32Bytes, stride}, block);
  }
  return KvSource{st.perm_k, st.perm_v};
}

// int8 per (token, head) row: scale = max(max|x| / 127, FLT_MIN), codes = cvt.i8(x / scale).
void emit_quantize_rows(ProgramBuilder& b, const LlmState& st, std::uint32_t src,
                        std::uint32_t codes, std::uint32_t scales, std::uint64_t n,
                        std::uint64_t d) {
  const Shape rows{n, d};
  const Shape one{1, n};
  const View tmp = f32_rows(st.quant_tmp, d);
  const View scale = contiguous_view(st.quant_scale, 0, kFloat32, n);
  const View inv = contiguous_view(st.quant_inv, 0, kFloat32, n);
  b.unary(Opcode::kAbs, kFloat32, tmp, f32_rows(src, d), rows);
  b.reduce(Opcode::kRmax, kFloat32, column(st.quant_scale, 0, kF32Bytes), tmp, rows);
  b.vector_imm(Opcode::kMul, kFloat32, scale, scale, 1.0 / kInt8Max, one);
  b.vector_imm(Opcode::kMax, kFloat32, scale, scale, kScaleFloor, one);
  b.unary(Opcode::kRecip, kFloat32, inv, scale, one);
  b.vector(Opcode::kMul, kFloat32, tmp, f32_rows(src, d), per_row(st.quant_inv, 0, kF32Bytes),
           rows);
  b.convert(ElemType::kI8, kFloat32, View{codes, 0, 1, s64(d)}, tmp, rows);
  b.convert(kHalf, kFloat32, contiguous_view(scales, 0, kHalf, n), scale, one);
}

// VXM: the new k and v in the cache's element format, in the stage buffers the MEM stores.
void emit_kv_stage(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvSource& src) {
  const std::uint64_t n = s.kv_groups() * s.tokens;
  const std::uint64_t d = s.head_dim;
  b.wait(Unit::kVxm, st.stage_free);
  if (s.kv == KvCacheFormat::kInt8) {
    emit_quantize_rows(b, st, src.k, st.stage_k, st.stage_ks, n, d);
    emit_quantize_rows(b, st, src.v, st.stage_v, st.stage_vs, n, d);
  } else {
    b.convert(kHalf, kFloat32, contiguous_view(st.stage_k, 0, kHalf, d), f32_rows(src.k, d),
              Shape{n, d});
    b.convert(kHalf, kFloat32, contiguous_view(st.stage_v, 0, kHalf, d), f32_rows(src.v, d),
              Shape{n, d});
  }
  b.notify(Unit::kVxm, st.stage_full);
}

// MEM: one strided STORE per tensor appends the tokens at positions past.. of every block.
void emit_kv_store(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvRegions& r) {
  const std::uint64_t row = s.head_dim * s.kv_elem_bytes();
  const std::uint64_t blocks = s.kv_groups();
  b.wait(Unit::kMem, st.stage_full);
  b.store(r.k, s.past * row, st.stage_k, 0, s.tokens * row, blocks, s.keys() * row);
  b.store(r.v, s.past * row, st.stage_v, 0, s.tokens * row, blocks, s.keys() * row);
  if (s.kv == KvCacheFormat::kInt8) {
    b.store(r.ks, s.past * kFp16Bytes, st.stage_ks, 0, s.tokens * kFp16Bytes, blocks,
            s.keys() * kFp16Bytes);
    b.store(r.vs, s.past * kFp16Bytes, st.stage_vs, 0, s.tokens * kFp16Bytes, blocks,
            s.keys() * kFp16Bytes);
  }
  b.notify(Unit::kMem, st.stage_free);
}

// ---- attention: per (sequence, KV head) ------------------------------------------------------

// MEM: the cached keys and values of block i (positions 0..past-1, one contiguous run each).
void emit_kv_loads(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvRegions& r,
                   std::uint64_t i, int slot) {
  const KvRing& ring = st.ring;
  const std::uint64_t row = s.head_dim * s.kv_elem_bytes();
  const std::uint64_t at = i * s.keys() * row;
  b.wait(Unit::kMem, ring.free[slot]);
  if (s.kv == KvCacheFormat::kInt8) {
    const std::uint64_t scales_at = i * s.keys() * kFp16Bytes;
    b.load(ring.k8[slot], 0, r.k, at, s.past * row);
    b.load(ring.ks[slot], 0, r.ks, scales_at, s.past * kFp16Bytes);
    b.load(ring.v8[slot], 0, r.v, at, s.past * row);
    b.load(ring.vs[slot], 0, r.vs, scales_at, s.past * kFp16Bytes);
  } else {
    b.load(ring.k[slot], 0, r.k, at, s.past * row);
    b.load(ring.v[slot], 0, r.v, at, s.past * row);
  }
  b.notify(Unit::kMem, ring.full[slot]);
}

// V^T [head_dim][keys] (the PV matmul's W, contiguous along keys) from V rows [past][head_dim].
View transposed(std::uint32_t vt, const LlmStep& s, std::uint64_t first_key) {
  return View{vt, first_key * kFp16Bytes, s64(s.keys() * kFp16Bytes), kFp16Bytes};
}

// VXM: the cached keys / values into the MXM's f16 operands (int8: CVT and scale).
void emit_cached_operands(ProgramBuilder& b, const LlmState& st, const LlmStep& s, int slot) {
  const KvRing& r = st.ring;
  const std::uint64_t d = s.head_dim;
  const Shape rows{s.past, d};
  const View k16 = contiguous_view(r.k[slot], 0, kHalf, d);
  const View v16 = contiguous_view(r.v[slot], 0, kHalf, d);
  if (s.kv == KvCacheFormat::kInt8) {
    b.convert(kHalf, ElemType::kI8, k16, View{r.k8[slot], 0, 1, s64(d)}, rows);
    b.vector(Opcode::kMul, kHalf, k16, k16, per_row(r.ks[slot], 0, kFp16Bytes), rows);
    b.convert(kHalf, ElemType::kI8, v16, View{r.v8[slot], 0, 1, s64(d)}, rows);
    b.vector(Opcode::kMul, kHalf, transposed(r.vt[slot], s, 0), v16,
             per_row(r.vs[slot], 0, kFp16Bytes), rows);
  } else {
    b.unary(Opcode::kMov, kHalf, transposed(r.vt[slot], s, 0), v16, rows);
  }
}

// VXM: the new tokens' keys (rows past..) and values (columns past.. of V^T), then the group's
// queries as f16 rows ordered (head, token).
void emit_new_operands(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvSource& src,
                       std::uint64_t i, int slot) {
  const std::uint64_t d = s.head_dim;
  const Shape rows{s.tokens, d};
  const View k_new = f32_rows(src.k, d, i * s.tokens);
  const View v_new = f32_rows(src.v, d, i * s.tokens);
  b.convert(kHalf, kFloat32,
            View{st.ring.k[slot], s.past * d * kFp16Bytes, kFp16Bytes, s64(d * kFp16Bytes)}, k_new,
            rows);
  b.convert(kHalf, kFloat32, transposed(st.ring.vt[slot], s, s.past), v_new, rows);
  const std::uint64_t seq = i / s.kv_heads;
  const std::uint64_t head0 = i % s.kv_heads * s.group();
  const std::uint64_t width = s.heads * d;
  if (s.tokens == 1) {
    b.convert(kHalf, kFloat32, contiguous_view(st.qg, 0, kHalf, d),
              f32_rows(st.act.qr, d, seq * s.heads + head0), Shape{s.group(), d});
    return;
  }
  for (std::uint64_t h = 0; h < s.group(); ++h) {
    const std::uint64_t from = (seq * s.tokens * width + (head0 + h) * d) * kF32Bytes;
    b.convert(kHalf, kFloat32,
              View{st.qg, h * s.tokens * d * kFp16Bytes, kFp16Bytes, s64(d * kFp16Bytes)},
              View{st.act.qr, from, kF32Bytes, s64(width * kF32Bytes)}, rows);
  }
}

// VXM: P = softmax(S / sqrt(d) + mask) row by row, as f16 for the PV matmul.
void emit_softmax(ProgramBuilder& b, const LlmState& st, const LlmStep& s) {
  const std::uint64_t m = s.group() * s.tokens;
  const std::uint64_t keys = s.keys();
  const Shape shape{m, keys};
  const View scores = f32_rows(st.scores, keys);
  b.vector_imm(Opcode::kMul, kFloat32, scores, scores,
               1.0 / std::sqrt(static_cast<double>(s.head_dim)), shape);
  if (s.tokens > 1) {
    for (std::uint64_t h = 0; h < s.group(); ++h) {
      const View rows = f32_rows(st.scores, keys, h * s.tokens);
      b.vector(Opcode::kAdd, kFloat32, rows, rows, f32_rows(st.mask, keys), Shape{s.tokens, keys});
    }
  }
  const View sum = contiguous_view(st.row_sum, 0, kFloat32, m);
  b.reduce(Opcode::kRmax, kFloat32, column(st.row_max, 0, kF32Bytes), scores, shape);
  b.vector(Opcode::kSub, kFloat32, scores, scores, per_row(st.row_max, 0, kF32Bytes), shape);
  b.unary(Opcode::kExp, kFloat32, scores, scores, shape);
  b.reduce(Opcode::kRsum, kFloat32, column(st.row_sum, 0, kF32Bytes), scores, shape);
  b.unary(Opcode::kRecip, kFloat32, sum, sum, Shape{1, m});
  b.vector(Opcode::kMul, kFloat32, scores, scores, per_row(st.row_sum, 0, kF32Bytes), shape);
  b.convert(kHalf, kFloat32, contiguous_view(st.probs, 0, kHalf, keys), scores, shape);
}

// MXM: S = Q K^T, then (after the VXM's softmax) O = P V into the out slot.
void emit_scores_matmul(ProgramBuilder& b, const LlmState& st, const LlmStep& s, int slot) {
  const auto m = static_cast<std::uint32_t>(s.group() * s.tokens);
  const auto d = static_cast<std::uint32_t>(s.head_dim);
  b.wait(Unit::kMxm, st.qk_ready);
  b.matmul(kHalf, st.scores, 0, contiguous_view(st.ring.k[slot], 0, kHalf, d),
           contiguous_view(st.qg, 0, kHalf, d), m, d, static_cast<std::uint32_t>(s.keys()), 0);
  b.notify(Unit::kMxm, st.scores_full);
}

void emit_pv_matmul(ProgramBuilder& b, const LlmState& st, const LlmStep& s, int slot) {
  const KvRing& r = st.ring;
  const auto m = static_cast<std::uint32_t>(s.group() * s.tokens);
  const auto keys = static_cast<std::uint32_t>(s.keys());
  b.wait(Unit::kMxm, st.p_ready);
  b.wait(Unit::kMxm, r.out_free[slot]);
  b.matmul(kHalf, r.out[slot], 0, contiguous_view(r.vt[slot], 0, kHalf, keys),
           contiguous_view(st.probs, 0, kHalf, keys), m, keys,
           static_cast<std::uint32_t>(s.head_dim), 0);
  b.notify(Unit::kMxm, r.out_full[slot]);
  b.notify(Unit::kMxm, r.free[slot]);
}

// VXM: block i's output rows (head, token) into act.attn [rows][heads*head_dim].
void emit_output_moves(ProgramBuilder& b, const LlmState& st, const LlmStep& s, std::uint64_t i,
                       int slot) {
  const std::uint64_t d = s.head_dim;
  const std::uint64_t seq = i / s.kv_heads;
  const std::uint64_t head0 = i % s.kv_heads * s.group();
  const std::uint64_t width = s.heads * d;
  b.wait(Unit::kVxm, st.ring.out_full[slot]);
  if (s.tokens == 1) {
    b.unary(Opcode::kMov, kFloat32, f32_rows(st.act.attn, d, seq * s.heads + head0),
            f32_rows(st.ring.out[slot], d), Shape{s.group(), d});
  } else {
    for (std::uint64_t h = 0; h < s.group(); ++h) {
      const std::uint64_t to = (seq * s.tokens * width + (head0 + h) * d) * kF32Bytes;
      b.unary(Opcode::kMov, kFloat32, View{st.act.attn, to, kF32Bytes, s64(width * kF32Bytes)},
              f32_rows(st.ring.out[slot], d, h * s.tokens), Shape{s.tokens, d});
    }
  }
  b.notify(Unit::kVxm, st.ring.out_free[slot]);
}

// One (sequence, KV head) block on the VXM and MXM; the VXM moves the previous block's output
// while the MXM multiplies this block's P V.
void emit_block(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvSource& src,
                std::uint64_t i, std::uint64_t position) {
  const int slot = slot_of(position);
  if (s.past > 0) {
    b.wait(Unit::kVxm, st.ring.full[slot]);
    emit_cached_operands(b, st, s, slot);
  } else {
    b.wait(Unit::kVxm, st.ring.free[slot]);
  }
  emit_new_operands(b, st, s, src, i, slot);
  b.notify(Unit::kVxm, st.qk_ready);
  emit_scores_matmul(b, st, s, slot);
  b.wait(Unit::kVxm, st.scores_full);
  emit_softmax(b, st, s);
  b.notify(Unit::kVxm, st.p_ready);
  emit_pv_matmul(b, st, s, slot);
  if (i > 0) emit_output_moves(b, st, s, i - 1, slot_of(position - 1));
}

}  // namespace

View f32_rows(std::uint32_t buffer, std::uint64_t width, std::uint64_t row0) {
  return View{buffer, row0 * width * kF32Bytes, kF32Bytes, s64(width * kF32Bytes)};
}

const LlmActivations& declare_llm_ops(ProgramBuilder& builder, const LlmStep& step) {
  return state(builder, step).act;
}

void emit_step_tables(ProgramBuilder& builder, const LlmStep& step) {
  LlmState& st = state(builder, step);
  const ScopedTag tag(builder, "attn.tables");
  const std::uint64_t half = step.head_dim / 2;
  const std::uint64_t row = half * kF32Bytes;
  builder.load(st.rope_cos, 0, st.cos_region, step.past * row, step.tokens * row);
  builder.load(st.rope_sin, 0, st.sin_region, step.past * row, step.tokens * row);
  if (step.tokens > 1) {
    builder.load(st.mask, 0, st.mask_region, 0, step.tokens * step.keys() * kF32Bytes);
  }
  builder.notify(Unit::kMem, st.rope_ready);
  builder.wait(Unit::kVxm, st.rope_ready);
  builder.unary(Opcode::kNeg, kFloat32, f32_rows(st.rope_nsin, half), f32_rows(st.rope_sin, half),
                Shape{step.tokens, half});
}

void emit_embedding(ProgramBuilder& builder, const LlmStep& step) {
  LlmState& st = state(builder, step);
  const ScopedTag tag(builder, "embedding");
  const std::uint64_t row = step.hidden * kFp16Bytes;
  const std::uint32_t table = region_named(builder, step.embedding_region, step.vocab * row);
  for (std::uint64_t i = 0; i < step.rows(); ++i) {
    const std::uint64_t token = i * kTokenStride % step.vocab;
    builder.load(st.embed_rows, i * row, table, token * row, row);
  }
  builder.notify(Unit::kMem, st.embed_ready);
  builder.wait(Unit::kVxm, st.embed_ready);
  builder.convert(kFloat32, kHalf, f32_rows(st.act.x, step.hidden),
                  contiguous_view(st.embed_rows, 0, kHalf, step.hidden),
                  Shape{step.rows(), step.hidden});
}

void emit_rms_norm(ProgramBuilder& builder, const LlmStep& step, const NormIo& io) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, io.name);
  emit_norm_weight(builder, st, step, io.name);
  const Shape shape{io.rows, step.hidden};
  const Shape one{1, io.rows};
  const View ss = contiguous_view(st.norm_ss, 0, kFloat32, io.rows);
  builder.vector(Opcode::kMul, kFloat32, io.out, io.x, io.x, shape);
  builder.reduce(Opcode::kRsum, kFloat32, column(st.norm_ss, 0, kF32Bytes), io.out, shape);
  builder.vector_imm(Opcode::kMul, kFloat32, ss, ss, 1.0 / static_cast<double>(step.hidden), one);
  builder.vector_imm(Opcode::kAdd, kFloat32, ss, ss, kRmsNormEps, one);
  builder.unary(Opcode::kRsqrt, kFloat32, ss, ss, one);
  builder.vector(Opcode::kMul, kFloat32, io.out, io.x, per_row(st.norm_ss, 0, kF32Bytes), shape);
  builder.vector(Opcode::kMul, kFloat32, io.out, io.out, same_row(st.norm_w32, 0, kF32Bytes),
                 shape);
}

void emit_rope(ProgramBuilder& builder, const LlmStep& step, std::string_view layer) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, fmt::format("{}.attn.rope", layer));
  emit_rope_tensor(builder, st, step, st.act.q, st.act.qr, step.heads);
  emit_rope_tensor(builder, st, step, st.act.k, st.act.kr, step.kv_heads);
}

void emit_attention(ProgramBuilder& builder, const LlmStep& step, std::string_view layer) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, fmt::format("{}.attn.core", layer));
  const KvRegions regions = declare_kv_regions(builder, step, layer);
  const KvSource src = permute_new_kv(builder, st, step);
  emit_kv_stage(builder, st, step, src);
  const std::uint64_t first = st.groups;
  const std::uint64_t blocks = step.kv_groups();
  if (step.past > 0) {
    for (std::uint64_t i = 0; i < blocks; ++i) {
      emit_kv_loads(builder, st, step, regions, i, slot_of(first + i));
    }
  }
  emit_kv_store(builder, st, step, regions);
  for (std::uint64_t i = 0; i < blocks; ++i) emit_block(builder, st, step, src, i, first + i);
  emit_output_moves(builder, st, step, blocks - 1, slot_of(first + blocks - 1));
  st.groups += blocks;
}

void emit_swiglu(ProgramBuilder& builder, const LlmStep& step, std::string_view tag_name) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, tag_name);
  const Shape shape{step.rows(), step.ffn};
  const View gate = f32_rows(st.act.gate, step.ffn);
  const View up = f32_rows(st.act.up, step.ffn);
  builder.vector(Opcode::kMul, kFloat32, up, gate, up, shape);  // up = g * u
  builder.unary(Opcode::kNeg, kFloat32, gate, gate, shape);
  builder.unary(Opcode::kExp, kFloat32, gate, gate, shape);
  builder.vector_imm(Opcode::kAdd, kFloat32, gate, gate, 1.0, shape);
  builder.unary(Opcode::kRecip, kFloat32, gate, gate, shape);     // sigmoid(g)
  builder.vector(Opcode::kMul, kFloat32, gate, gate, up, shape);  // silu(g) * u
}

void emit_residual_add(ProgramBuilder& builder, const LlmStep& step, std::string_view tag_name) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, tag_name);
  const View x = f32_rows(st.act.x, step.hidden);
  builder.vector(Opcode::kAdd, kFloat32, x, x, f32_rows(st.act.y, step.hidden),
                 Shape{step.rows(), step.hidden});
}

void emit_logits_store(ProgramBuilder& builder, const LlmStep& step) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, "lm_head");
  builder.notify(Unit::kVxm, st.logits_ready);
  builder.wait(Unit::kMem, st.logits_ready);
  builder.store(st.logits_region, 0, st.act.logits, 0, step.batch * step.vocab * kF32Bytes);
}

}  // namespace lpusim
