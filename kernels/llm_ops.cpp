// LLaMA decoder-step ops as instruction streams: declarations sized for the step, then per op the
// MEM transfers, VXM element-wise/reduction sequences and MXM f16 matmuls docs/WORKLOAD.md lists.
#include "kernels/llm_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/int_math.h"

namespace lpusim {
namespace {

constexpr int kSlots = 2;                               // double buffering
constexpr double kInt8Max = 127.0;                      // int8 KV: scale = max|x| / 127
constexpr double kScaleFloor = 1.1754943508222875e-38;  // FLT_MIN: no zero scales
constexpr std::uint64_t kTokenStride = 7919;            // placeholder token ids (a prime)
// Fewest rows of an attention MATMUL's row block: below, the weight install of the block's
// passes (8 cycles for a 320 x 128 f16 tile on the TSP) is a large share of its time.
constexpr std::uint64_t kMinAttentionRowBlock = 64;

using Slots = std::array<std::uint32_t, kSlots>;
const ElemType kFloat32 = ElemType::kF32;
const ElemType kHalf = ElemType::kF16;

// The attention rings, one slot per job in flight (kMaxAttentionDepth at most): the MEM load
// targets (fp16 K doubles as the MXM operand), the MXM operands and results, the softmax row
// statistics, and the semaphores between MEM, VXM and MXM.
using RingSlots = std::array<std::uint32_t, kMaxAttentionDepth>;
struct AttnRing {
  RingSlots mk{}, mv{}, mks{}, mvs{};                     // MEM: cached K, V (int8: + scales)
  RingSlots k16{}, vt{}, qg{}, scores{}, probs{}, out{};  // MXM operands and results
  RingSlots kscale{};                                     // int8: f32 key scales for the scores
  RingSlots max{}, sum{}, alpha{};                        // per row: max, sum (or 1 / sum), rescale
  RingSlots mem_full{}, mem_free{}, op_ready{}, op_free{}, scores_full{}, p_ready{}, out_full{};
  std::uint32_t v16 = 0;  // int8: dequantized V rows before the transposing MUL
  std::uint32_t acc = 0;  // several tiles: the block's running output
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
  AttentionPlan plan;
  AttnRing ring;
  std::uint32_t logits_ready = 0;
  Slots slice_ready{}, slice_free{};  // sliced LM head: VXM -> MEM and back, per slice buffer
  std::uint32_t spill_x = 0, spill_ready = 0, spill_loaded = 0;  // spill_residual
  std::uint64_t norms = 0;  // norm weight loads so far (ring position)
  std::uint64_t jobs = 0;   // attention tiles so far (ring position)
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
         a.resident_norms == b.resident_norms && a.embedding_region == b.embedding_region &&
         a.sram_capacity == b.sram_capacity && a.max_key_tile == b.max_key_tile &&
         a.max_attention_depth == b.max_attention_depth && a.mxm_key_quantum == b.mxm_key_quantum &&
         a.plan_sram == b.plan_sram && a.spill_residual == b.spill_residual &&
         a.logits_slice == b.logits_slice && a.mxm_planes == b.mxm_planes &&
         a.kv_on_chip == b.kv_on_chip;
}

// ---- SRAM planning ------------------------------------------------------------------------

// The activations of LlmActivations as dataflow values, and sets of them (bit v: value v).
enum Value : int { kX, kH, kQ, kK, kV, kQr, kKr, kAttn, kY, kGate, kUp, kLogits, kValueCount };
using ValueSet = std::uint32_t;
constexpr ValueSet bit(Value v) { return ValueSet{1} << v; }

// What one op of the step reads and writes. `reloads` are written before the op reads anything
// (act.x loaded back from its spill region by the residual add); `spills` end their value's life
// in SRAM after the op read them (stored off chip).
struct StepOp {
  StepPhase phase;
  ValueSet reloads, uses, defs, spills;
};

// The ops in program order with one layer as emit_layer (sim/llm/workload.cpp) emits it; the
// builder checks every instruction against the phases this gives (ProgramBuilder::set_phase).
std::vector<StepOp> step_ops(bool spill) {
  const ValueSet x = bit(kX);
  const ValueSet spilled = spill ? x : 0;
  const std::vector<StepOp> layer{
      {StepPhase::kAttnNorm, 0, x, bit(kH), spilled},
      {StepPhase::kQkv, 0, bit(kH), bit(kQ) | bit(kK) | bit(kV), 0},
      {StepPhase::kRope, 0, bit(kQ) | bit(kK), bit(kQr) | bit(kKr), 0},
      {StepPhase::kAttention, 0, bit(kQr) | bit(kKr) | bit(kV), bit(kAttn), 0},
      {StepPhase::kOProj, 0, bit(kAttn), bit(kY), 0},
      {StepPhase::kAttnResidual, spilled, x | bit(kY), x, 0},
      {StepPhase::kMlpNorm, 0, x, bit(kH), spilled},
      {StepPhase::kGateUp, 0, bit(kH), bit(kGate) | bit(kUp), 0},
      {StepPhase::kSwiglu, 0, bit(kGate) | bit(kUp), bit(kGate), 0},
      {StepPhase::kDown, 0, bit(kGate), bit(kY), 0},
      {StepPhase::kMlpResidual, spilled, x | bit(kY), x, 0},
  };
  std::vector<StepOp> ops{{StepPhase::kEmbed, 0, 0, x, 0}};
  for (int l = 0; l < 2; ++l) ops.insert(ops.end(), layer.begin(), layer.end());
  ops.push_back({StepPhase::kFinalNorm, 0, x, bit(kH), 0});
  ops.push_back({StepPhase::kHead, 0, bit(kH), bit(kLogits), 0});
  return ops;
}

}  // namespace

ActivationLiveness plan_step_liveness(bool spill_residual) {
  std::array<std::uint64_t, kValueCount> live{};
  std::array<int, kValueCount> born{};  // the op that wrote the value in SRAM (-1: none)
  born.fill(-1);
  const std::vector<StepOp> ops = step_ops(spill_residual);
  for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
    const StepOp& op = ops[static_cast<std::size_t>(i)];
    for (int v = 0; v < kValueCount; ++v) {
      const ValueSet b = bit(static_cast<Value>(v));
      if ((op.reloads & b) != 0) born[v] = i;
      if ((op.uses & b) != 0) {
        if (born[v] < 0) {
          throw SimulationError("internal: the step's ops read a value before writing it");
        }
        for (int j = born[v]; j <= i; ++j)
          live[v] |= phase_bit(ops[static_cast<std::size_t>(j)].phase);
      }
      if ((op.spills & b) != 0) born[v] = -1;
      if ((op.defs & b) != 0) {
        born[v] = i;
        live[v] |= phase_bit(op.phase);
      }
    }
  }
  return ActivationLiveness{live[kX], live[kH],    live[kQ],  live[kK],
                            live[kV], live[kQr],   live[kKr], live[kAttn],
                            live[kY], live[kGate], live[kUp], live[kLogits]};
}

namespace {

void plan_activations(ProgramBuilder& b, const LlmActivations& a, const LlmStep& s) {
  if (!s.plan_sram) return;
  const ActivationLiveness l = plan_step_liveness(s.spill_residual);
  const std::pair<std::uint32_t, std::uint64_t> masks[] = {
      {a.x, l.x}, {a.h, l.h},       {a.q, l.q},   {a.k, l.k},
      {a.v, l.v}, {a.qr, l.qr},     {a.kr, l.kr}, {a.attn, l.attn},
      {a.y, l.y}, {a.gate, l.gate}, {a.up, l.up}, {a.logits, l.logits}};
  for (const auto& [buffer, mask] : masks) b.set_buffer_live(buffer, mask);
  if (a.logits1 != 0) b.set_buffer_live(a.logits1, l.logits);
}

// Marks the buffers declared since `first` live only in `phases` (when the step plans SRAM).
void live_since(ProgramBuilder& b, const LlmStep& s, std::size_t first, std::uint64_t phases) {
  if (!s.plan_sram) return;
  for (std::size_t id = first; id < b.program().buffers.size(); ++id) {
    b.set_buffer_live(static_cast<std::uint32_t>(id), phases);
  }
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
  const bool sliced = s.logits_slice > 0 && s.logits_slice < s.vocab;
  a.logits = b.add_buffer("act.logits", s.batch * (sliced ? s.logits_slice : s.vocab) * kF32Bytes);
  if (sliced) a.logits1 = b.add_buffer("act.logits1", s.batch * s.logits_slice * kF32Bytes);
  plan_activations(b, a, s);
}

void declare_norm_and_tables(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  const std::size_t norm_first = b.program().buffers.size();
  st.norm_ss = b.add_buffer("norm.ss", s.rows() * kF32Bytes);
  st.norm_w32 = b.add_buffer("norm.w32", s.hidden * kF32Bytes);
  if (!s.resident_norms) {
    for (int i = 0; i < kSlots; ++i) {
      st.norm_w[i] = b.add_buffer(slot_name("norm.w", i), s.hidden * kFp16Bytes);
      st.norm_full[i] = b.add_semaphore(slot_name("norm.full", i), 0);
      st.norm_free[i] = b.add_semaphore(slot_name("norm.free", i), 1);
    }
  }
  live_since(b, s, norm_first,
             phase_bit(StepPhase::kAttnNorm) | phase_bit(StepPhase::kMlpNorm) |
                 phase_bit(StepPhase::kFinalNorm));
  st.embed_rows = b.add_buffer("embed.rows", s.rows() * s.hidden * kFp16Bytes);
  if (s.plan_sram) b.set_buffer_live(st.embed_rows, phase_bit(StepPhase::kEmbed));
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
  if (s.logits_slice > 0 && s.logits_slice < s.vocab) {
    for (int i = 0; i < kSlots; ++i) {
      st.slice_ready[i] = b.add_semaphore(slot_name("logits.slice_ready", i), 0);
      st.slice_free[i] = b.add_semaphore(slot_name("logits.slice_free", i), 1);
    }
  }
  if (s.spill_residual) {
    if (!s.plan_sram) throw InputError("LLM step: spill_residual needs plan_sram");
    st.spill_x = b.add_region("spill.x", s.rows() * s.hidden * kF32Bytes);
    st.spill_ready = b.add_semaphore("spill.x_ready");
    st.spill_loaded = b.add_semaphore("spill.x_loaded");
  }
}

void declare_kv_stage(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  const std::size_t first = b.program().buffers.size();
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
  live_since(b, s, first, phase_bit(StepPhase::kAttention));
  st.stage_full = b.add_semaphore("kv.stage_full", 0);
  st.stage_free = b.add_semaphore("kv.stage_free", 1);
}

void declare_ring(ProgramBuilder& b, LlmState& st, const LlmStep& s) {
  // What the attention phase already holds (with planned SRAM: its live activations and KV
  // staging; the buffers of other phases do not compete with the rings).
  const std::uint64_t used = b.program().sram_bytes_in(phase_bit(StepPhase::kAttention));
  const std::size_t first = b.program().buffers.size();
  const std::uint64_t budget =
      s.sram_capacity == 0
          ? 0
          : std::max<std::uint64_t>(
                1, (s.sram_capacity - std::min(s.sram_capacity, used)) / attention_sram_share(s));
  st.plan = plan_attention(s, budget);
  const AttentionPlan& plan = st.plan;
  const std::uint64_t t = plan.key_tile;
  const std::uint64_t cached = std::min(t, s.past) * plan.blocks;  // per slot: every block's
  const std::uint64_t d = s.head_dim;
  const std::uint64_t m = s.group() * s.tokens * plan.blocks;
  const bool int8 = s.kv == KvCacheFormat::kInt8;
  AttnRing& r = st.ring;
  for (int i = 0; i < plan.depth; ++i) {
    if (s.past > 0) {
      const std::uint64_t key_rows = int8 ? cached : t * plan.blocks;  // fp16: the MXM operand
      r.mk[i] = b.add_buffer(slot_name("attn.mem_k", i), key_rows * d * s.kv_elem_bytes());
      r.mv[i] = b.add_buffer(slot_name("attn.mem_v", i), cached * d * s.kv_elem_bytes());
      if (int8) {
        r.mks[i] = b.add_buffer(slot_name("attn.mem_ks", i), cached * kFp16Bytes);
        r.kscale[i] = b.add_buffer(slot_name("attn.kscale", i), cached * kF32Bytes);
        r.mvs[i] = b.add_buffer(slot_name("attn.mem_vs", i), cached * kFp16Bytes);
      }
      r.mem_full[i] = b.add_semaphore(slot_name("attn.mem_full", i), 0);
      r.mem_free[i] = b.add_semaphore(slot_name("attn.mem_free", i), 1);
    }
    const std::uint64_t operand = plan.blocks * t * d * kFp16Bytes;
    if (int8 || s.past == 0) r.k16[i] = b.add_buffer(slot_name("attn.k", i), operand);
    r.vt[i] = b.add_buffer(slot_name("attn.vt", i), operand);
    r.qg[i] = b.add_buffer(slot_name("attn.qg", i), m * d * kFp16Bytes);
    r.scores[i] = b.add_buffer(slot_name("attn.scores", i), m * t * kF32Bytes);
    r.probs[i] = b.add_buffer(slot_name("attn.probs", i), m * t * kFp16Bytes);
    r.out[i] = b.add_buffer(slot_name("attn.out", i), m * d * kF32Bytes);
    r.max[i] = b.add_buffer(slot_name("attn.max", i), m * kF32Bytes);
    r.sum[i] = b.add_buffer(slot_name("attn.sum", i), m * kF32Bytes);
    if (plan.tiles > 1) r.alpha[i] = b.add_buffer(slot_name("attn.alpha", i), m * kF32Bytes);
    r.op_ready[i] = b.add_semaphore(slot_name("attn.op_ready", i), 0);
    r.op_free[i] = b.add_semaphore(slot_name("attn.op_free", i), 1);
    r.scores_full[i] = b.add_semaphore(slot_name("attn.scores_full", i), 0);
    r.p_ready[i] = b.add_semaphore(slot_name("attn.p_ready", i), 0);
    r.out_full[i] = b.add_semaphore(slot_name("attn.out_full", i), 0);
  }
  if (int8 && s.past > 0) r.v16 = b.add_buffer("attn.v16", cached * d * kFp16Bytes);
  if (plan.tiles > 1) r.acc = b.add_buffer("attn.acc", m * d * kF32Bytes);
  live_since(b, s, first, phase_bit(StepPhase::kAttention));
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

// Region `name` of the KV cache, placed as the step says: the one declare_kv_cache declared, or
// a new one.
std::uint32_t kv_region(ProgramBuilder& b, const LlmStep& s, const std::string& name,
                        std::uint64_t bytes) {
  if (const auto id = b.find_region(name)) {
    const RegionDecl& r = b.program().regions[*id];
    if (r.bytes != bytes || r.on_chip != s.kv_on_chip) {
      throw InputError(fmt::format("region {} is declared with {} bytes{}; expected {}{}", name,
                                   r.bytes, r.on_chip ? " in SRAM" : "", bytes,
                                   s.kv_on_chip ? " in SRAM" : ""));
    }
    return *id;
  }
  return b.add_region(name, bytes, s.kv_on_chip);
}

KvRegions declare_kv_regions(ProgramBuilder& b, const LlmStep& s, std::string_view layer) {
  const std::uint64_t slots = s.kv_groups() * s.keys();
  KvRegions r;
  const std::uint64_t bytes = slots * s.head_dim * s.kv_elem_bytes();
  r.k = kv_region(b, s, fmt::format("{}.k_cache", layer), bytes);
  r.v = kv_region(b, s, fmt::format("{}.v_cache", layer), bytes);
  if (s.kv == KvCacheFormat::kInt8) {
    r.ks = kv_region(b, s, fmt::format("{}.k_scales", layer), slots * kFp16Bytes);
    r.vs = kv_region(b, s, fmt::format("{}.v_scales", layer), slots * kFp16Bytes);
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

// ---- attention: per (sequence, KV head) and key tile -------------------------------------------

// One job of the attention pipeline: key tile `index` of the `blocks` (sequence, KV head) blocks
// from `block` (several only when each is one tile of one token), keys first .. first + keys - 1,
// in ring slot `slot` (the previous job's slot is `prev`).
struct Tile {
  std::uint64_t block = 0;
  std::uint64_t blocks = 1;
  std::uint64_t index = 0;
  std::uint64_t first = 0;
  std::uint64_t keys = 0;
  int slot = 0;
  int prev = 0;
  bool last = false;
  bool single = false;  // the block's only tile: softmax normalizes before P V

  std::uint64_t cached(const LlmStep& s) const {
    return first < s.past ? std::min(first + keys, s.past) - first : 0;
  }
};

Tile tile_of(const LlmState& st, const LlmStep& s, std::uint64_t first_job, std::uint64_t job) {
  const AttentionPlan& plan = st.plan;
  Tile t;
  t.block = job / plan.tiles * plan.blocks;
  t.blocks = std::min(plan.blocks, s.kv_groups() - t.block);
  t.index = job % plan.tiles;
  t.first = t.index * plan.key_tile;
  t.keys = std::min(plan.key_tile, s.keys() - t.first);
  const std::uint64_t position = first_job + job;
  const auto depth = static_cast<std::uint64_t>(plan.depth);
  t.slot = static_cast<int>(position % depth);
  t.prev = static_cast<int>((position + depth - 1) % depth);
  t.last = t.index + 1 == plan.tiles;
  t.single = plan.tiles == 1;
  return t;
}

// The K operand of the QK^T matmul: fp16 cached keys are multiplied where they were loaded.
std::uint32_t key_operand(const LlmState& st, const LlmStep& s, int slot) {
  return s.kv == KvCacheFormat::kFp16 && s.past > 0 ? st.ring.mk[slot] : st.ring.k16[slot];
}
// Bytes from one block's f16 K rows (or V^T) in a slot to the next block's.
std::uint64_t key_block_bytes(const LlmState& st, const LlmStep& s) {
  return st.plan.key_tile * s.head_dim * kFp16Bytes;
}
// Rows of one block in the query, scores, probabilities and output: (head, token).
std::uint64_t block_rows(const LlmStep& s) { return s.group() * s.tokens; }

// MEM: the tile's cached keys and values (one contiguous run each).
void emit_kv_loads(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvRegions& r,
                   const Tile& t) {
  const AttnRing& ring = st.ring;
  const std::uint64_t row = s.head_dim * s.kv_elem_bytes();
  const std::uint64_t key0 = t.block * s.keys() + t.first;
  const std::uint64_t n = t.cached(s);
  const std::uint64_t stride = s.keys() * row;  // from one block to the next
  b.wait(Unit::kMem, ring.mem_free[t.slot]);
  if (n > 0) {
    if (s.kv == KvCacheFormat::kInt8) {
      const std::uint64_t scales = s.keys() * kFp16Bytes;
      b.load(ring.mk[t.slot], 0, r.k, key0 * row, n * row, t.blocks, stride);
      b.load(ring.mks[t.slot], 0, r.ks, key0 * kFp16Bytes, n * kFp16Bytes, t.blocks, scales);
      b.load(ring.mv[t.slot], 0, r.v, key0 * row, n * row, t.blocks, stride);
      b.load(ring.mvs[t.slot], 0, r.vs, key0 * kFp16Bytes, n * kFp16Bytes, t.blocks, scales);
    } else {
      // K is the MXM operand in place: each block's rows leave room for its new keys.
      for (std::uint64_t k = 0; k < t.blocks; ++k) {
        b.load(ring.mk[t.slot], k * key_block_bytes(st, s), r.k, key0 * row + k * stride, n * row);
      }
      b.load(ring.mv[t.slot], 0, r.v, key0 * row, n * row, t.blocks, stride);
    }
  }
  b.notify(Unit::kMem, ring.mem_full[t.slot]);
}

// V^T [head_dim][key_tile] (the PV matmul's W, contiguous along keys), viewed as V rows
// [keys][head_dim] from tile row `first_key`.
View transposed(const LlmState& st, const LlmStep& s, int slot, std::uint64_t block,
                std::uint64_t first_key) {
  return View{st.ring.vt[slot], block * key_block_bytes(st, s) + first_key * kFp16Bytes,
              s64(st.plan.key_tile * kFp16Bytes), kFp16Bytes};
}

// VXM: the tile's cached keys / values into the MXM's f16 operands. int8: K as its codes (exact
// in f16; its scales go to the scores, emit_key_scales), V converted and scaled. The transposes
// and V's scales take one op per block; the conversions one per job.
void emit_cached_operands(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const AttnRing& r = st.ring;
  const std::uint64_t d = s.head_dim;
  const std::uint64_t n = t.cached(s);
  if (n == 0) return;
  const Shape rows{n, d};
  const std::uint64_t raw = n * d * s.kv_elem_bytes();  // one block's loaded rows
  if (s.kv == KvCacheFormat::kInt8) {
    b.convert(kHalf, ElemType::kI8, View{r.k16[t.slot], 0, kFp16Bytes, s64(key_block_bytes(st, s))},
              View{r.mk[t.slot], 0, 1, s64(raw)}, Shape{t.blocks, n * d});
    b.convert(kHalf, ElemType::kI8, contiguous_view(r.v16, 0, kHalf, d),
              View{r.mv[t.slot], 0, 1, s64(d)}, Shape{t.blocks * n, d});
    b.convert(kFloat32, kHalf, contiguous_view(r.kscale[t.slot], 0, kFloat32, n),
              contiguous_view(r.mks[t.slot], 0, kHalf, n), Shape{t.blocks, n});
    for (std::uint64_t k = 0; k < t.blocks; ++k) {
      b.vector(Opcode::kMul, kHalf, transposed(st, s, t.slot, k, 0),
               contiguous_view(r.v16, k * n * d * kFp16Bytes, kHalf, d),
               per_row(r.mvs[t.slot], k * n * kFp16Bytes, kFp16Bytes), rows);
    }
  } else {
    for (std::uint64_t k = 0; k < t.blocks; ++k) {
      b.unary(Opcode::kMov, kHalf, transposed(st, s, t.slot, k, 0),
              contiguous_view(r.mv[t.slot], k * raw, kHalf, d), rows);
    }
  }
}

// VXM: the new tokens' keys and values that fall in the tile (rows / columns from position
// past), then the group's queries as f16 rows ordered (head, token). One token: one op each for
// all the job's blocks (their query rows are consecutive in act.qr).
void emit_new_operands(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvSource& src,
                       const Tile& t) {
  const std::uint64_t d = s.head_dim;
  const std::uint64_t from = std::max(t.first, s.past);
  const std::uint32_t qg = st.ring.qg[t.slot];
  if (s.tokens == 1) {
    if (from < t.first + t.keys) {
      const std::uint64_t row = from - t.first;
      const Shape one_each{t.blocks, d};
      b.convert(kHalf, kFloat32,
                View{key_operand(st, s, t.slot), row * d * kFp16Bytes, kFp16Bytes,
                     s64(key_block_bytes(st, s))},
                f32_rows(src.k, d, t.block), one_each);
      const View vt = transposed(st, s, t.slot, 0, row);
      b.convert(kHalf, kFloat32,
                View{vt.space, vt.offset, vt.col_stride, s64(key_block_bytes(st, s))},
                f32_rows(src.v, d, t.block), one_each);
    }
    b.convert(kHalf, kFloat32, contiguous_view(qg, 0, kHalf, d),
              f32_rows(st.act.qr, d, t.block * s.group()), Shape{t.blocks * s.group(), d});
    return;
  }
  if (from < t.first + t.keys) {
    const std::uint64_t row = from - t.first;
    const std::uint64_t token = t.block * s.tokens + (from - s.past);
    const Shape rows{t.first + t.keys - from, d};
    b.convert(
        kHalf, kFloat32,
        View{key_operand(st, s, t.slot), row * d * kFp16Bytes, kFp16Bytes, s64(d * kFp16Bytes)},
        f32_rows(src.k, d, token), rows);
    b.convert(kHalf, kFloat32, transposed(st, s, t.slot, 0, row), f32_rows(src.v, d, token), rows);
  }
  const std::uint64_t seq = t.block / s.kv_heads;
  const std::uint64_t head0 = t.block % s.kv_heads * s.group();
  const std::uint64_t width = s.heads * d;
  for (std::uint64_t h = 0; h < s.group(); ++h) {
    const std::uint64_t at = (seq * s.tokens * width + (head0 + h) * d) * kF32Bytes;
    b.convert(kHalf, kFloat32,
              View{qg, h * s.tokens * d * kFp16Bytes, kFp16Bytes, s64(d * kFp16Bytes)},
              View{st.act.qr, at, kF32Bytes, s64(width * kF32Bytes)}, Shape{s.tokens, d});
  }
}

// VXM: the MXM operands of one tile. The raw int8 loads are released as soon as they are
// converted; fp16 keys are released by the MXM once multiplied.
void emit_prepare(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const KvSource& src,
                  const Tile& t) {
  const AttnRing& r = st.ring;
  if (s.past > 0) b.wait(Unit::kVxm, r.mem_full[t.slot]);
  b.wait(Unit::kVxm, r.op_free[t.slot]);
  emit_cached_operands(b, st, s, t);
  if (s.past > 0 && s.kv == KvCacheFormat::kInt8) b.notify(Unit::kVxm, r.mem_free[t.slot]);
  emit_new_operands(b, st, s, src, t);
  b.notify(Unit::kVxm, r.op_ready[t.slot]);
}

// VXM, int8 cache: the QK^T of the cached keys multiplied their codes; each block's score columns
// get their keys' scales here, [G P][cached] f32 ops instead of [cached][head_dim] f16 ones on K.
void emit_key_scales(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const std::uint64_t n = t.cached(s);
  if (s.kv != KvCacheFormat::kInt8 || n == 0) return;
  const std::uint64_t m = block_rows(s);
  for (std::uint64_t k = 0; k < t.blocks; ++k) {
    const View cols{st.ring.scores[t.slot], k * m * t.keys * kF32Bytes, kF32Bytes,
                    s64(t.keys * kF32Bytes)};
    b.vector(Opcode::kMul, kFloat32, cols, cols,
             same_row(st.ring.kscale[t.slot], k * n * kF32Bytes, kF32Bytes), Shape{m, n});
  }
}

// VXM: the tile's scores S = QK^T / sqrt(d) (+ mask) into P as f16 for the PV matmul. One tile:
// P = softmax(S). Several: the online recurrence, with m and l the previous tile's row max and
// row sum: m' = max(m, rowmax S), alpha = exp(m - m'), P = exp(S - m'), l' = l alpha + rowsum P
// (the last tile keeps 1 / l').
void emit_softmax(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const AttnRing& r = st.ring;
  const std::uint64_t m = t.blocks * block_rows(s);
  const Shape shape{m, t.keys};
  const Shape one{1, m};
  const View scores = f32_rows(r.scores[t.slot], t.keys);
  const View max = per_row(r.max[t.slot], 0, kF32Bytes);
  const View sum = per_row(r.sum[t.slot], 0, kF32Bytes);
  const View max_row = contiguous_view(r.max[t.slot], 0, kFloat32, m);
  const View sum_row = contiguous_view(r.sum[t.slot], 0, kFloat32, m);
  b.wait(Unit::kVxm, r.scores_full[t.slot]);
  emit_key_scales(b, st, s, t);
  b.vector_imm(Opcode::kMul, kFloat32, scores, scores,
               1.0 / std::sqrt(static_cast<double>(s.head_dim)), shape);
  if (s.tokens > 1) {
    const View mask{st.mask, t.first * kF32Bytes, kF32Bytes, s64(s.keys() * kF32Bytes)};
    for (std::uint64_t h = 0; h < s.group(); ++h) {
      const View rows = f32_rows(r.scores[t.slot], t.keys, h * s.tokens);
      b.vector(Opcode::kAdd, kFloat32, rows, rows, mask, Shape{s.tokens, t.keys});
    }
  }
  b.reduce(Opcode::kRmax, kFloat32, column(r.max[t.slot], 0, kF32Bytes), scores, shape);
  const bool carry = t.index > 0;
  if (carry) {
    const View old_max = contiguous_view(r.max[t.prev], 0, kFloat32, m);
    const View alpha = contiguous_view(r.alpha[t.slot], 0, kFloat32, m);
    b.vector(Opcode::kMax, kFloat32, max_row, max_row, old_max, one);
    b.vector(Opcode::kSub, kFloat32, alpha, old_max, max_row, one);
    b.unary(Opcode::kExp, kFloat32, alpha, alpha, one);
  }
  b.vector(Opcode::kSub, kFloat32, scores, scores, max, shape);
  b.unary(Opcode::kExp, kFloat32, scores, scores, shape);
  b.reduce(Opcode::kRsum, kFloat32, column(r.sum[t.slot], 0, kF32Bytes), scores, shape);
  if (carry) {
    b.vector(Opcode::kMad, kFloat32, sum_row, contiguous_view(r.sum[t.prev], 0, kFloat32, m),
             contiguous_view(r.alpha[t.slot], 0, kFloat32, m), one);
  }
  if (t.last) b.unary(Opcode::kRecip, kFloat32, sum_row, sum_row, one);
  if (t.single) b.vector(Opcode::kMul, kFloat32, scores, scores, sum, shape);
  b.convert(kHalf, kFloat32, contiguous_view(r.probs[t.slot], 0, kHalf, t.keys), scores, shape);
  b.notify(Unit::kVxm, r.p_ready[t.slot]);
}

// The row blocks [first, first + count) a prompt's attention MATMUL of `rows` rows is cut into.
// One MATMUL of P x G rows and one or two passes holds one plane for 4 x its rows (f16) while
// the queue moves on after a quarter of that: its results land late and the softmax after it
// waits. Cut into mxm_planes row blocks, each block's passes take their own plane and the last
// results land after about a quarter of the time; the queue's occupancy and the MACs are the
// same. A decode step (a few rows per block) stays whole: each cut re-installs the weights.
struct RowBlock {
  std::uint64_t first = 0, count = 0;
};
std::vector<RowBlock> attention_row_blocks(const LlmStep& s, std::uint64_t rows) {
  const std::uint64_t pieces =
      s.tokens > 1 && s.mxm_planes > 1
          ? std::clamp<std::uint64_t>(rows / kMinAttentionRowBlock, 1, s.mxm_planes)
          : 1;
  std::vector<RowBlock> blocks;
  std::uint64_t first = 0;
  for (std::uint64_t i = 0; i < pieces; ++i) {
    const std::uint64_t count = rows / pieces + (i < rows % pieces ? 1 : 0);
    blocks.push_back({first, count});
    first += count;
  }
  return blocks;
}

// MXM: S = Q K^T of one tile, one MATMUL per block (and row block): [blocks x G P][keys].
void emit_scores_matmul(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const AttnRing& r = st.ring;
  const std::uint64_t m = block_rows(s);
  const std::uint64_t d = s.head_dim;
  b.wait(Unit::kMxm, r.op_ready[t.slot]);
  for (std::uint64_t k = 0; k < t.blocks; ++k) {
    for (const RowBlock& rb : attention_row_blocks(s, m)) {
      const std::uint64_t row0 = k * m + rb.first;
      b.matmul(kHalf, r.scores[t.slot], row0 * t.keys * kF32Bytes,
               contiguous_view(key_operand(st, s, t.slot), k * key_block_bytes(st, s), kHalf, d),
               contiguous_view(r.qg[t.slot], row0 * d * kFp16Bytes, kHalf, d),
               static_cast<std::uint32_t>(rb.count), static_cast<std::uint32_t>(d),
               static_cast<std::uint32_t>(t.keys), 0);
    }
  }
  b.notify(Unit::kMxm, r.scores_full[t.slot]);
  if (s.past > 0 && s.kv == KvCacheFormat::kFp16) b.notify(Unit::kMxm, r.mem_free[t.slot]);
}

// MXM: O = P V of one tile into its out slot, one MATMUL per block (and row block); the slot's
// operands are free afterwards.
void emit_pv_matmul(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const AttnRing& r = st.ring;
  const std::uint64_t m = block_rows(s);
  b.wait(Unit::kMxm, r.p_ready[t.slot]);
  for (std::uint64_t k = 0; k < t.blocks; ++k) {
    for (const RowBlock& rb : attention_row_blocks(s, m)) {
      const std::uint64_t row0 = k * m + rb.first;
      b.matmul(kHalf, r.out[t.slot], row0 * s.head_dim * kF32Bytes,
               View{r.vt[t.slot], k * key_block_bytes(st, s), kFp16Bytes,
                    s64(st.plan.key_tile * kFp16Bytes)},
               contiguous_view(r.probs[t.slot], row0 * t.keys * kFp16Bytes, kHalf, t.keys),
               static_cast<std::uint32_t>(rb.count), static_cast<std::uint32_t>(t.keys),
               static_cast<std::uint32_t>(s.head_dim), 0);
    }
  }
  b.notify(Unit::kMxm, r.out_full[t.slot]);
  b.notify(Unit::kMxm, r.op_free[t.slot]);
}

// VXM: act.attn rows of block `block` = op(src rows, b) for its (head, token) rows [G*P][d]:
// MOV when `scale` is empty, else MUL by the per-row scalar in `scale`.
void emit_block_rows(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t,
                     std::uint32_t from, std::optional<std::uint32_t> scale) {
  const std::uint64_t block = t.block;
  const std::uint64_t d = s.head_dim;
  const std::uint64_t seq = block / s.kv_heads;
  const std::uint64_t head0 = block % s.kv_heads * s.group();
  const std::uint64_t width = s.heads * d;
  const bool one_token = s.tokens == 1;
  const std::uint64_t runs = one_token ? 1 : s.group();
  for (std::uint64_t h = 0; h < runs; ++h) {
    const std::uint64_t row0 = h * s.tokens;
    const View dst = one_token
                         ? f32_rows(st.act.attn, d, seq * s.heads + head0)
                         : View{st.act.attn, (seq * s.tokens * width + (head0 + h) * d) * kF32Bytes,
                                kF32Bytes, s64(width * kF32Bytes)};
    const Shape shape{one_token ? t.blocks * s.group() : s.tokens, d};
    if (scale) {
      b.vector(Opcode::kMul, kFloat32, dst, f32_rows(from, d, row0),
               per_row(*scale, row0 * kF32Bytes, kF32Bytes), shape);
    } else {
      b.unary(Opcode::kMov, kFloat32, dst, f32_rows(from, d, row0), shape);
    }
  }
}

// VXM: one tile's output. One tile: its rows into act.attn. Several: acc = acc alpha + O, and
// after the last tile act.attn = acc / l.
void emit_output(ProgramBuilder& b, const LlmState& st, const LlmStep& s, const Tile& t) {
  const AttnRing& r = st.ring;
  b.wait(Unit::kVxm, r.out_full[t.slot]);
  if (t.single) {
    emit_block_rows(b, st, s, t, r.out[t.slot], std::nullopt);
    return;
  }
  const std::uint64_t d = s.head_dim;
  const Shape shape{s.group() * s.tokens, d};
  const View acc = f32_rows(r.acc, d);
  if (t.index == 0) {
    b.unary(Opcode::kMov, kFloat32, acc, f32_rows(r.out[t.slot], d), shape);
  } else {
    b.vector(Opcode::kMul, kFloat32, acc, acc, per_row(r.alpha[t.slot], 0, kF32Bytes), shape);
    b.vector(Opcode::kAdd, kFloat32, acc, acc, f32_rows(r.out[t.slot], d), shape);
  }
  if (t.last) emit_block_rows(b, st, s, t, r.acc, r.sum[t.slot]);
}

}  // namespace

View f32_rows(std::uint32_t buffer, std::uint64_t width, std::uint64_t row0) {
  return View{buffer, row0 * width * kF32Bytes, kF32Bytes, s64(width * kF32Bytes)};
}

void declare_kv_cache(ProgramBuilder& builder, const LlmStep& step, int layers) {
  for (int l = 0; l < layers; ++l) declare_kv_regions(builder, step, fmt::format("layer{}", l));
}

const LlmActivations& declare_llm_ops(ProgramBuilder& builder, const LlmStep& step) {
  return state(builder, step).act;
}

std::uint64_t attention_sram_bytes(const LlmStep& step, std::uint64_t key_tile, int depth,
                                   std::uint64_t blocks) {
  const std::uint64_t t = key_tile;
  const std::uint64_t d = step.head_dim;
  const std::uint64_t m = step.group() * step.tokens;
  const std::uint64_t cached = std::min(t, step.past);
  const std::uint64_t elem = step.kv_elem_bytes();
  const bool int8 = step.kv == KvCacheFormat::kInt8;
  const bool tiled = key_tile < step.keys();
  std::uint64_t slot = 0;
  if (step.past > 0) {
    slot += ((int8 ? cached : t) + cached) * d * elem;
    if (int8) slot += 2 * cached * kFp16Bytes + cached * kF32Bytes;  // scales, f32 key scales
  }
  if (int8 || step.past == 0) slot += t * d * kFp16Bytes;                      // k16
  slot += d * t * kFp16Bytes + m * d * kFp16Bytes;                             // vt, qg
  slot += m * t * (kF32Bytes + kFp16Bytes) + m * d * kF32Bytes;                // scores, probs, out
  slot += (tiled ? 3 : 2) * m * kF32Bytes;                                     // max, sum, alpha
  std::uint64_t shared = int8 && step.past > 0 ? cached * d * kFp16Bytes : 0;  // v16
  if (tiled) shared += m * d * kF32Bytes;                                      // acc
  return blocks * (static_cast<std::uint64_t>(depth) * slot + shared);
}

AttentionPlan plan_attention(const LlmStep& step, std::uint64_t budget) {
  const std::uint64_t keys = step.keys();
  const std::uint64_t cap = step.max_key_tile > 0 ? std::min(keys, step.max_key_tile) : keys;
  const auto fits = [&](std::uint64_t tile, int depth, std::uint64_t blocks = 1) {
    return budget == 0 || attention_sram_bytes(step, tile, depth, blocks) <= budget;
  };
  std::uint64_t tile = cap;
  if (!fits(cap, kTiledAttentionDepth)) {
    // The largest tile with which a pipeline of kTiledAttentionDepth fits (1 key at least).
    std::uint64_t lo = 1, hi = cap;
    tile = 1;
    while (lo <= hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (fits(mid, kTiledAttentionDepth)) {
        tile = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
  }
  AttentionPlan plan;
  const std::uint64_t q = step.mxm_key_quantum;
  // Never a tile shorter than one MXM pass: tiles of 100 keys run 3 passes where 320-key tiles
  // run one, for the same MACs. When such a tile does not fit the rings' share of SRAM, the
  // program's SRAM check decides (a prefill then runs in smaller chunks).
  if (q > 0 && tile < q) tile = std::min(q, cap);
  if (tile < keys && q > 0 && tile >= q) {
    // Whole MXM passes: tiles of a multiple of q keys (the last one shorter). A tile of 400 keys
    // on a 320-wide plane would run two passes for 1.25 passes of work.
    tile = tile / q * q;
    plan.tiles = ceil_div(keys, tile);
    plan.key_tile = ceil_div(ceil_div(keys, plan.tiles), q) * q;  // <= tile: a multiple of q
  } else {
    plan.tiles = ceil_div(keys, tile);
    plan.key_tile = ceil_div(keys, plan.tiles);  // even tiles
  }
  const std::uint64_t groups = step.kv_groups();
  if (plan.tiles == 1 && step.tokens == 1) {
    // Several decode blocks per job, while a pipeline of kTiledAttentionDepth jobs fits and a
    // layer keeps that many jobs.
    const std::uint64_t most = std::min<std::uint64_t>(
        kMaxAttentionBlocks, std::max<std::uint64_t>(1, groups / kTiledAttentionDepth));
    while (plan.blocks < most && fits(plan.key_tile, kTiledAttentionDepth, plan.blocks + 1)) {
      ++plan.blocks;
    }
  }
  int depth = step.max_attention_depth > 0
                  ? std::clamp(step.max_attention_depth, kMinAttentionDepth, kMaxAttentionDepth)
                  : kMaxAttentionDepth;
  while (depth > kMinAttentionDepth && !fits(plan.key_tile, depth, plan.blocks)) --depth;
  const std::uint64_t jobs = ceil_div(groups, plan.blocks) * plan.tiles;
  plan.depth = static_cast<int>(std::min<std::uint64_t>(
      static_cast<std::uint64_t>(depth), std::max<std::uint64_t>(kMinAttentionDepth, jobs)));
  plan.lookahead = std::max(1, plan.depth / 2);
  plan.lag = std::max(1, plan.depth / 2);
  return plan;
}

const AttentionPlan& attention_plan(ProgramBuilder& builder, const LlmStep& step) {
  return state(builder, step).plan;
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
  const std::uint64_t first = st.jobs;
  const std::uint64_t jobs = ceil_div(step.kv_groups(), st.plan.blocks) * st.plan.tiles;
  const auto tile = [&](std::uint64_t job) { return tile_of(st, step, first, job); };
  if (step.past > 0) {
    for (std::uint64_t j = 0; j < jobs; ++j) emit_kv_loads(builder, st, step, regions, tile(j));
  }
  emit_kv_store(builder, st, step, regions);
  // Software pipeline: the MXM multiplies QK^T `ahead` tiles before the VXM's softmax needs it,
  // and the VXM collects a tile's P V `lag` tiles after its softmax.
  const auto ahead = static_cast<std::uint64_t>(st.plan.lookahead);
  const auto lag = static_cast<std::uint64_t>(st.plan.lag);
  const auto start = [&](std::uint64_t j) {
    emit_prepare(builder, st, step, src, tile(j));
    emit_scores_matmul(builder, st, step, tile(j));
  };
  for (std::uint64_t j = 0; j < std::min(ahead, jobs); ++j) start(j);
  for (std::uint64_t j = 0; j < jobs; ++j) {
    emit_softmax(builder, st, step, tile(j));
    emit_pv_matmul(builder, st, step, tile(j));
    if (j + ahead < jobs) start(j + ahead);
    if (j >= lag) emit_output(builder, st, step, tile(j - lag));
  }
  for (std::uint64_t j = jobs > lag ? jobs - lag : 0; j < jobs; ++j) {
    emit_output(builder, st, step, tile(j));
  }
  st.jobs += jobs;
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

void emit_residual_spill(ProgramBuilder& builder, const LlmStep& step, std::string_view tag_name) {
  LlmState& st = state(builder, step);
  if (!step.spill_residual) return;
  const ScopedTag tag(builder, tag_name);
  builder.notify(Unit::kVxm, st.spill_ready);
  builder.wait(Unit::kMem, st.spill_ready);
  builder.store(st.spill_x, 0, st.act.x, 0, step.rows() * step.hidden * kF32Bytes);
}

void emit_residual_add(ProgramBuilder& builder, const LlmStep& step, std::string_view tag_name) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, tag_name);
  if (step.spill_residual) {
    builder.load(st.act.x, 0, st.spill_x, 0, step.rows() * step.hidden * kF32Bytes);
    builder.notify(Unit::kMem, st.spill_loaded);
    builder.wait(Unit::kVxm, st.spill_loaded);
  }
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

void emit_logits_slice_wait(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice) {
  LlmState& st = state(builder, step);
  const ScopedTag tag(builder, "lm_head");
  builder.wait(Unit::kVxm, st.slice_free[slot_of(slice)]);
}

void emit_logits_slice_done(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice) {
  LlmState& st = state(builder, step);
  builder.flush();
  const ScopedTag tag(builder, "lm_head");
  builder.notify(Unit::kVxm, st.slice_ready[slot_of(slice)]);
}

void emit_logits_slice_store(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice,
                             std::uint64_t col0, std::uint64_t cols) {
  LlmState& st = state(builder, step);
  if (step.logits_slice == 0 || cols > step.logits_slice || col0 + cols > step.vocab) {
    throw SimulationError("internal: an LM-head slice outside the step's slicing");
  }
  const ScopedTag tag(builder, "lm_head");
  const int slot = slot_of(slice);
  builder.wait(Unit::kMem, st.slice_ready[slot]);
  builder.store(st.logits_region, col0 * kF32Bytes, st.act.logits_buffer(slice), 0,
                cols * kF32Bytes, step.batch, step.vocab * kF32Bytes);
  builder.notify(Unit::kMem, st.slice_free[slot]);
}

}  // namespace lpusim
