// Emitters for the non-GEMM parts of a LLaMA decoder step (embedding gather, RMSNorm, RoPE,
// attention over an off-chip KV cache, SwiGLU, residual, logits store) as real VXM/MEM/MXM streams.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/elem_sizes.h"
#include "kernels/program_builder.h"

namespace lpusim {

// How the KV cache is stored off chip: fp16, or int8 with one fp16 scale per (token, head).
enum class KvCacheFormat { kFp16, kInt8 };

// One step of a decoder-only LLaMA model as the kernels see it: shapes only.
struct LlmStep {
  std::uint64_t hidden = 0;
  std::uint64_t ffn = 0;
  std::uint64_t heads = 0;
  std::uint64_t kv_heads = 0;
  std::uint64_t head_dim = 0;  // even (RoPE rotates pairs)
  std::uint64_t vocab = 0;
  std::uint64_t batch = 1;
  std::uint64_t tokens = 1;  // new tokens per sequence: 1 for decode, the prompt for prefill
  std::uint64_t past = 0;    // tokens already in the KV cache, read from memory (decode: L)
  KvCacheFormat kv = KvCacheFormat::kFp16;
  bool resident_norms = false;                    // norm weights sit in SRAM buffers
  std::string embedding_region = "embed_tokens";  // fp16 [vocab][hidden]
  std::uint64_t sram_capacity = 0;  // bytes of the chip's SRAM, sizes the attention (0: no limit)
  std::uint64_t max_key_tile = 0;   // at most this many keys per attention tile (0: no cap)
  int max_attention_depth = 0;      // at most this many attention ring slots (0: no cap)
  // Keys one MXM pass covers (the larger of mxm.rows and mxm.cols): key tiles shorter than the
  // whole context are whole multiples of it, so no pass of QK^T or P V runs part-empty (0: any).
  std::uint64_t mxm_key_quantum = 0;
  // SRAM planned by live ranges (docs/ARCHITECTURE.md "SRAM planning"): the buffers get the
  // phases of plan_step_liveness, and the caller puts every op in its StepPhase. Off: every buffer
  // is live in the whole program.
  bool plan_sram = false;
  // The residual stream act.x spills to region spill.x between its uses: stored as each
  // attention/MLP norm reads it (emit_residual_spill), loaded back by the residual add. Needs
  // plan_sram.
  bool spill_residual = false;
  // Vocabulary columns per LM-head slice (0: the whole vocabulary at once). Sliced, the logits live
  // in two [batch][logits_slice] buffers, each slice stored to region logits as soon as it is
  // computed (emit_logits_slice_store), instead of one [batch][vocab] buffer.
  std::uint64_t logits_slice = 0;
  // MXM planes (mxm.planes): a prompt's attention MATMULs, one or two passes of many rows each,
  // are cut into this many row blocks so that their passes run on every plane (0 or 1: uncut).
  std::uint64_t mxm_planes = 0;
  // The KV cache regions live in SRAM (RegionDecl::on_chip): its reads and writes are copies
  // within SRAM instead of memory-channel transfers. Declare every layer's up front with
  // declare_kv_cache so that the SRAM planning sees them.
  bool kv_on_chip = false;

  std::uint64_t rows() const { return batch * tokens; }         // activation rows
  std::uint64_t keys() const { return past + tokens; }          // keys each query attends to
  std::uint64_t group() const { return heads / kv_heads; }      // query heads per KV head
  std::uint64_t kv_groups() const { return batch * kv_heads; }  // (sequence, KV head) pairs
  std::uint64_t kv_elem_bytes() const {
    return static_cast<std::uint64_t>(kv == KvCacheFormat::kInt8 ? kInt8Bytes : kFp16Bytes);
  }
};

// The step's activations: f32 row-major buffers [rows][width].
struct LlmActivations {
  std::uint32_t x = 0;        // residual stream [rows][hidden]
  std::uint32_t h = 0;        // normed activations [rows][hidden] (GEMM input)
  std::uint32_t q = 0;        // q_proj output [rows][heads*head_dim]
  std::uint32_t k = 0;        // k_proj output [rows][kv_heads*head_dim]
  std::uint32_t v = 0;        // v_proj output [rows][kv_heads*head_dim]
  std::uint32_t qr = 0;       // q after RoPE
  std::uint32_t kr = 0;       // k after RoPE
  std::uint32_t attn = 0;     // attention output [rows][heads*head_dim] (o_proj input)
  std::uint32_t y = 0;        // o_proj / down_proj output [rows][hidden]
  std::uint32_t gate = 0;     // gate_proj output, then silu(gate) * up [rows][ffn]
  std::uint32_t up = 0;       // up_proj output [rows][ffn]
  std::uint32_t logits = 0;   // LM head output [batch][vocab] (sliced: [batch][logits_slice])
  std::uint32_t logits1 = 0;  // sliced: the second slice buffer (odd slices)
  // The buffer of LM-head slice `slice`.
  std::uint32_t logits_buffer(std::uint64_t slice) const {
    return slice % 2 == 0 ? logits : logits1;
  }
};

// ---- SRAM planning (docs/ARCHITECTURE.md "SRAM planning") ----
// The phases of a step's program, in the order the ops run: the embedding (and step tables),
// then per layer the ops of a LLaMA block, then the final norm and the LM head (logits store).
// Every layer runs the same phases.
enum class StepPhase : int {
  kEmbed,
  kAttnNorm,
  kQkv,
  kRope,
  kAttention,
  kOProj,
  kAttnResidual,
  kMlpNorm,
  kGateUp,
  kSwiglu,
  kDown,
  kMlpResidual,
  kFinalNorm,
  kHead,
};
inline constexpr int kStepPhaseCount = 14;
inline int phase_id(StepPhase phase) { return static_cast<int>(phase); }
inline std::uint64_t phase_bit(StepPhase phase) { return std::uint64_t{1} << phase_id(phase); }

// The phases (bit phase_id) in which each activation of LlmActivations holds a value, by
// dataflow over the ops of the step (what each op reads and writes, two layers deep so that
// values carried from one layer into the next are seen): a value lives from the op that writes
// it to the last op that reads it. With spill_residual the norms' reads of act.x end its life in
// SRAM and the residual adds load it back.
struct ActivationLiveness {
  std::uint64_t x = 0, h = 0, q = 0, k = 0, v = 0, qr = 0, kr = 0, attn = 0, y = 0, gate = 0,
                up = 0, logits = 0;
};
ActivationLiveness plan_step_liveness(bool spill_residual);

// Declares every buffer, step-wide region and semaphore the ops below use, sized for `step`
// (per-layer regions are declared by the op that uses them). Call it before the first GEMM so
// that the GEMM tiling sees the SRAM these take; later calls (and every op) reuse the
// declarations. Throws InputError for an inconsistent shape or a step other than the declared one.
const LlmActivations& declare_llm_ops(ProgramBuilder& builder, const LlmStep& step);

// The KV cache regions of layers 0..layers-1 ("layerI.k_cache", ...), placed as step.kv_on_chip
// says. With kv_on_chip, call it right after declare_llm_ops so that every layer's cache counts
// in the SRAM the GEMM tiling and the attention rings see; emit_attention then uses these.
void declare_kv_cache(ProgramBuilder& builder, const LlmStep& step, int layers);

// A row-major f32 view of `buffer` [.][width] from row `row0`.
View f32_rows(std::uint32_t buffer, std::uint64_t width, std::uint64_t row0 = 0);

// Per step: the RoPE cos/sin rows of the new tokens' positions (regions rope.cos / rope.sin,
// f32 [past+tokens][head_dim/2]) and, for tokens > 1, the causal mask (region attn.causal_mask,
// f32 [tokens][keys], 0 or -inf) loaded into SRAM; -sin computed once. Tag "attn.tables".
void emit_step_tables(ProgramBuilder& builder, const LlmStep& step);

// act.x = f32(rows of the embedding table): one LOAD per token (a gather of the looked-up fp16
// rows only), one CVT. Tag "embedding".
void emit_embedding(ProgramBuilder& builder, const LlmStep& step);

// One RMSNorm: out[r] = x[r] * rsqrt(mean(x[r]^2) + eps) * w, over `rows` rows of hidden. The
// fp16 weight w is region (streamed) or buffer (resident) `name`, e.g. "layer3.attn_norm",
// declared on first use (declare resident ones before the first GEMM); the ops are tagged `name`. x
// may be strided rows (e.g. the last token of each sequence).
struct NormIo {
  std::string name;
  View x;
  View out;
  std::uint64_t rows = 0;
};
inline constexpr double kRmsNormEps = 1e-5;  // LLaMA-2 / LLaMA-3 rms_norm_eps
void emit_rms_norm(ProgramBuilder& builder, const LlmStep& step, const NormIo& io);

// act.qr, act.kr = RoPE(act.q, act.k) at the new tokens' positions, rotating interleaved pairs
// (2i, 2i+1) with strided views: 4 ops (MUL, MAD, MUL, MAD) per pair. Tag "<layer>.attn.rope".
void emit_rope(ProgramBuilder& builder, const LlmStep& step, std::string_view layer);

// How emit_attention cuts its work. A job is one key tile of `blocks` (sequence, KV head) blocks
// (several only in a decode step whose blocks are one tile each): the keys split evenly into
// `tiles` tiles of at most `key_tile` keys (one tile whenever a pipeline of kTiledAttentionDepth
// slots of whole blocks fits). Each ring has `depth` slots; the MXM multiplies QK^T `lookahead`
// jobs before the VXM's softmax needs it and the VXM collects a job's P V `lag` jobs after its
// softmax.
inline constexpr int kMinAttentionDepth = 2;
// The attention rings plan in 1 / attention_sram_share(step) of the SRAM the activations leave
// (the GEMM rings in the rest): half for a prefill, whose key tiles shorter than the context cost
// MXM passes; a quarter for a decode step, whose jobs of whole blocks would otherwise take SRAM
// the GEMM strips of a large batch need.
inline constexpr std::uint64_t kPrefillAttentionSramShare = 2;
inline constexpr std::uint64_t kDecodeAttentionSramShare = 4;
inline std::uint64_t attention_sram_share(const LlmStep& step) {
  return step.tokens > 1 ? kPrefillAttentionSramShare : kDecodeAttentionSramShare;
}
inline constexpr int kTiledAttentionDepth = 4;  // the depth tiles and blocks are chosen for
inline constexpr int kMaxAttentionDepth = 8;
inline constexpr std::uint64_t kMaxAttentionBlocks = 8;
struct AttentionPlan {
  std::uint64_t key_tile = 0;
  std::uint64_t tiles = 0;
  std::uint64_t blocks = 1;  // decode: blocks per job (their softmax and moves are one op each)
  int depth = 0;
  int lookahead = 0;
  int lag = 0;
};
// SRAM bytes of the attention rings with `depth` slots of `blocks` blocks of `key_tile` keys.
std::uint64_t attention_sram_bytes(const LlmStep& step, std::uint64_t key_tile, int depth,
                                   std::uint64_t blocks = 1);
// The plan for rings of at most `budget` bytes (0: unlimited): whole blocks if
// kTiledAttentionDepth slots of them fit, else the largest tile with which they do (1 key at
// least); then, for a decode step of one tile, the most blocks per job (kMaxAttentionBlocks at
// most, and a layer keeps kTiledAttentionDepth jobs) with which kTiledAttentionDepth slots fit;
// then the deepest ring that fits (kMinAttentionDepth at least, kMaxAttentionDepth or
// step.max_attention_depth at most, and no deeper than the jobs of one layer). The declarations
// give the rings their share (attention_sram_share) of the SRAM that step.sram_capacity leaves
// after the activations.
AttentionPlan plan_attention(const LlmStep& step, std::uint64_t budget);
// The plan the builder's declarations use.
const AttentionPlan& attention_plan(ProgramBuilder& builder, const LlmStep& step);

// Appends the new tokens' k (after RoPE) and v to regions <layer>.k_cache / <layer>.v_cache
// ([batch][kv_heads][past+tokens][head_dim], plus <layer>.k_scales / .v_scales for int8), then
// per (sequence, KV head) and key tile loads the cached keys and values through a ring and
// computes softmax(q K^T / sqrt(d) [+ causal mask]) V on the MXM (f16) and VXM, software-pipelined
// as AttentionPlan says (online softmax across tiles). Result in act.attn. Tag
// "<layer>.attn.core".
void emit_attention(ProgramBuilder& builder, const LlmStep& step, std::string_view layer);

// act.gate = silu(act.gate) * act.up (MUL, NEG, EXP, ADD 1, RECIP, MUL). Tag `tag`.
void emit_swiglu(ProgramBuilder& builder, const LlmStep& step, std::string_view tag);

// With step.spill_residual: act.x, final since the VXM's last op, is stored to region spill.x
// (the MEM queue waits for the VXM). Call it in the norm's phase, before the norm. Tag `tag`.
void emit_residual_spill(ProgramBuilder& builder, const LlmStep& step, std::string_view tag);

// act.x += act.y over every row (with step.spill_residual, act.x is first loaded back from
// spill.x). Tag `tag`.
void emit_residual_add(ProgramBuilder& builder, const LlmStep& step, std::string_view tag);

// Stores act.logits (f32 [batch][vocab]) to region "logits" once the LM head's epilogue is done.
// Tag "lm_head".
void emit_logits_store(ProgramBuilder& builder, const LlmStep& step);

// A sliced LM head (step.logits_slice), per slice `slice` computed into act.logits_buffer(slice):
// emit_logits_slice_wait before its GEMM (the VXM waits until the buffer's previous slice is
// stored), emit_logits_slice_done right after it (flush, and the VXM tells the MEM queue), and
// emit_logits_slice_store once the next slice's GEMM is emitted (the MEM queue stores its `cols`
// columns to region "logits" at column `col0`, after the next slice's weight loads, so the store
// never holds the weight stream back). Tag "lm_head".
void emit_logits_slice_wait(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice);
void emit_logits_slice_done(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice);
void emit_logits_slice_store(ProgramBuilder& builder, const LlmStep& step, std::uint64_t slice,
                             std::uint64_t col0, std::uint64_t cols);

}  // namespace lpusim
