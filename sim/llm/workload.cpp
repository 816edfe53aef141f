// The workload builder: a LLaMA decode step or prefill emitted layer by layer (RMSNorm, q/k/v,
// RoPE, attention, o, residual, RMSNorm, gate/up, SiLU, down, residual), then LM head and logits.
#include "sim/llm/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/gemm_kernel.h"
#include "kernels/int_math.h"
#include "kernels/llm_ops.h"

namespace lpusim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr std::string_view kSpillPrefix = "spill.";  // regions SRAM spills to (emit_residual_spill)

// The GEMM (tag and region prefix after "layerN.") of each linear layer of linear_layers().
struct LinearName {
  std::string_view linear;
  std::string_view gemm;
};
constexpr LinearName kLinearNames[] = {
    {"q_proj", "attn.q"},      {"k_proj", "attn.k"},      {"v_proj", "attn.v"},
    {"o_proj", "attn.o"},      {"gate_proj", "mlp.gate"}, {"up_proj", "mlp.up"},
    {"down_proj", "mlp.down"}, {"lm_head", "lm_head"},
};

std::string_view gemm_suffix(std::string_view linear) {
  for (const LinearName& n : kLinearNames) {
    if (n.linear == linear) return n.gemm;
  }
  throw SimulationError(fmt::format("internal: no GEMM name for linear layer {}", linear));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---- the build context ---------------------------------------------------------------------

struct Build {
  const WorkloadSpec& spec;
  const HwConfig& hw;
  LlmStep step;
  std::vector<LinearLayer> linears;
  WeightFormat fp16 = parse_format("fp16");
  bool last_float = false;  // activation type of the previous GEMM (for reuse_quantized_x)
};

const LinearLayer& linear(const Build& c, std::string_view name) {
  for (const LinearLayer& l : c.linears) {
    if (l.name == name) return l;
  }
  throw SimulationError(fmt::format("internal: model has no linear layer {}", name));
}

const WeightFormat& format_of(const Build& c, const LinearLayer& l) {
  return l.quantized ? c.spec.format : c.fp16;
}

// Codes + metadata of one instance of a linear layer.
std::uint64_t linear_bytes(const LinearLayer& l, const WeightFormat& format, int group_size) {
  return format.stored_bytes(static_cast<std::uint64_t>(l.out_features),
                             static_cast<std::size_t>(l.in_features), group_size);
}

void check_spec(const WorkloadSpec& spec) {
  const ModelConfig& m = spec.model;
  if (spec.batch == 0) throw InputError("batch: expected at least 1 sequence");
  if (spec.phase == Phase::kPrefill && spec.prompt == 0) {
    throw InputError("prompt: expected at least 1 token to prefill");
  }
  if (m.layers <= 0 || m.kv_heads <= 0 || m.heads % m.kv_heads != 0) {
    throw InputError(
        fmt::format("model {}: expected layers >= 1 and kv_heads dividing heads", m.name));
  }
  if (m.is_quantized("embed_tokens")) {
    throw InputError(fmt::format(
        "model {}: a quantized embed_tokens is not supported by the workload (its rows are read "
        "as fp16); remove it from `quantized`",
        m.name));
  }
  if (m.tied_embeddings && m.is_quantized("lm_head")) {
    throw InputError(fmt::format(
        "model {}: tied embeddings with a quantized lm_head are not supported (the embedding "
        "lookup reads fp16 rows)",
        m.name));
  }
}

LlmStep make_step(const WorkloadSpec& spec, const HwConfig& hw, const SramPlan& plan = {}) {
  const ModelConfig& m = spec.model;
  LlmStep s;
  s.hidden = static_cast<std::uint64_t>(m.hidden);
  s.ffn = static_cast<std::uint64_t>(m.ffn);
  s.heads = static_cast<std::uint64_t>(m.heads);
  s.kv_heads = static_cast<std::uint64_t>(m.kv_heads);
  s.head_dim = static_cast<std::uint64_t>(m.head_dim);
  s.vocab = static_cast<std::uint64_t>(m.vocab);
  s.batch = spec.batch;
  const bool decode = spec.phase == Phase::kDecode;
  s.tokens = decode ? 1 : spec.prompt;
  s.past = decode ? spec.context : spec.prefill_past;
  s.kv = spec.kv == KvFormat::kInt8 ? KvCacheFormat::kInt8 : KvCacheFormat::kFp16;
  s.resident_norms = hw.weights == WeightPlacement::kResident;
  s.sram_capacity = hw.sram.capacity.count;
  s.mxm_key_quantum = static_cast<std::uint64_t>(std::max(hw.mxm.rows, hw.mxm.cols));
  s.plan_sram = true;
  s.spill_residual = plan.spill;
  s.logits_slice = plan.logits_slice;
  s.kv_on_chip = plan.kv_on_chip;
  s.mxm_planes = static_cast<std::uint64_t>(hw.mxm.planes);
  // Tied embeddings: the lookup reads rows of the (fp16) LM head weights.
  s.embedding_region = m.tied_embeddings ? "lm_head.qweight" : "embed_tokens";
  return s;
}

void check_resident_fit(const WorkloadSpec& spec, const HwConfig& hw) {
  const std::uint64_t need = resident_weight_bytes(spec);
  const std::uint64_t have = hw.sram.capacity.count;
  if (need <= have) return;
  const std::uint64_t chips = ceil_div(need, have);
  throw SimulationError(fmt::format(
      "model {} in format {} needs {} bytes ({:.2f} GiB) of SRAM for resident weights; chip {} "
      "has {} bytes ({:.0f} MiB): the weights alone need at least {} such chips (or use "
      "weights: streamed)",
      spec.model.name, spec.format.name, need, static_cast<double>(need) / kGiB, hw.name, have,
      static_cast<double>(have) / kMiB, chips));
}

// The step's off-chip data against memory.capacity (0: not checked).
void check_memory_capacity(const WorkloadSpec& spec, const HwConfig& hw,
                           const ProgramFootprint& f) {
  const std::uint64_t have = hw.memory.capacity.count;
  if (have == 0 || f.total() <= have) return;
  const bool decode = spec.phase == Phase::kDecode;
  const std::uint64_t positions = decode ? spec.context + 1 : spec.prefill_past + spec.prompt;
  throw SimulationError(fmt::format(
      "{} {} in {} at batch {} with {} positions per sequence needs {} bytes ({:.2f} GiB) "
      "of off-chip memory: weights {} B, KV cache {} B, SRAM spills {} B, tables and logits {} B; "
      "chip {} has memory.capacity {} bytes ({:.2f} GiB); lower the batch or the context, use a "
      "smaller format, or raise memory.capacity",
      spec.model.name, phase_name(spec.phase), spec.format.name, spec.batch, positions, f.total(),
      static_cast<double>(f.total()) / kGiB, f.weight_bytes, f.kv_bytes, f.spill_bytes,
      f.other_bytes, hw.name, have, static_cast<double>(have) / kGiB));
}

// ---- emission ------------------------------------------------------------------------------

std::string gemm_name(std::string_view layer, std::string_view linear_name) {
  const std::string_view suffix = gemm_suffix(linear_name);
  return layer.empty() ? std::string(suffix) : fmt::format("{}.{}", layer, suffix);
}

// The GEMM of linear layer `l` under `name` over m rows, with the step's format and group kernel;
// `n` columns of it (the whole layer unless 0).
GemmSpec linear_gemm(const Build& c, const LinearLayer& l, std::string name, std::uint64_t m,
                     std::uint64_t n = 0) {
  GemmSpec g;
  g.name = std::move(name);
  g.m = m;
  g.k = static_cast<std::uint64_t>(l.in_features);
  g.n = n > 0 ? n : static_cast<std::uint64_t>(l.out_features);
  g.format = format_of(c, l);
  g.group_size = c.spec.group_size;
  g.group_kernel = c.spec.group_kernels.of(c.spec.phase);
  return g;
}

// Resident weights: every GEMM's buffers and every norm buffer declared before the first GEMM,
// so that GEMM tiling sees the SRAM they take. A GEMM's buffers are those its kernel reads
// (gemm_weight_spaces): a two-level GEMM's metadata instead of the stored scales and offsets.
void declare_resident(ProgramBuilder& b, const Build& c) {
  const std::uint64_t norm_bytes = c.step.hidden * kFp16Bytes;
  for (int l = 0; l < c.spec.model.layers; ++l) {
    const std::string layer = fmt::format("layer{}", l);
    b.add_buffer(layer + ".attn_norm", norm_bytes);
    b.add_buffer(layer + ".mlp_norm", norm_bytes);
  }
  b.add_buffer("final_norm", norm_bytes);
  for (const LinearLayer& l : c.linears) {
    for (std::int64_t i = 0; i < l.count; ++i) {
      const std::string layer = l.count == 1 ? "" : fmt::format("layer{}", i);
      const GemmSpec g = linear_gemm(c, l, gemm_name(layer, l.name), 1);
      for (const GemmWeightSpace& space : gemm_weight_spaces(g)) {
        b.add_buffer(space.name, space.bytes);
      }
    }
  }
}

// One linear layer Y[m][out] = X[m][in] W^T, X and Y f32 buffers.
void emit_linear(ProgramBuilder& b, Build& c, std::string_view layer, std::string_view name, View x,
                 std::uint32_t y, std::uint64_t m, bool same_x) {
  const GemmSpec g = linear_gemm(c, linear(c, name), gemm_name(layer, name), m);
  GemmIo io;
  io.x = x;
  io.y = f32_rows(y, g.n);
  io.reuse_quantized_x = same_x && c.last_float == g.format.is_float();
  emit_gemm(b, g, c.hw, io);
  c.last_float = g.format.is_float();
}

void emit_layer(ProgramBuilder& b, Build& c, const LlmActivations& a, int index);

// Layers' worth of room the LM head may need: its weights over one layer's, rounded up (its
// instructions, like a layer's GEMMs, grow with its weight tiles; it has no attention), plus one.
std::size_t head_room_layers(const Build& c) {
  std::uint64_t head = 0;
  std::uint64_t layer = 0;
  for (const LinearLayer& l : c.linears) {
    (l.name == "lm_head" ? head : layer) +=
        static_cast<std::uint64_t>(l.out_features * l.in_features);
  }
  return 1 + static_cast<std::size_t>(ceil_div(head, std::max<std::uint64_t>(layer, 1)));
}

// Every layer from the second on emits the same instructions (the first has fewer: 17,058 VXM
// instructions against 23,096 in a batch-256 70B decode), so once layers 0 and 1 are in, the
// queues can be sized for all layers plus the LM head instead of doubling as they grow. A queue
// that doubled near its end held the old and the new copy at once: that, not the program, was the
// peak of a large step's memory (a batch-256 70B decode: 569 MB for a program of 317 MB).
void emit_layers(ProgramBuilder& b, Build& c, const LlmActivations& a, int emitted) {
  emit_layer(b, c, a, 0);
  if (emitted < 2) return;
  std::array<std::size_t, kUnitCount> before{};
  for (int q = 0; q < kUnitCount; ++q) before[q] = b.queue_size(static_cast<Unit>(q));
  emit_layer(b, c, a, 1);
  const std::size_t rest = static_cast<std::size_t>(emitted) - 1 + head_room_layers(c);
  for (int q = 0; q < kUnitCount; ++q) {
    const auto unit = static_cast<Unit>(q);
    const std::size_t per_layer = b.queue_size(unit) - before[q];
    b.reserve(unit, before[q] + per_layer * rest);
  }
  for (int l = 2; l < emitted; ++l) emit_layer(b, c, a, l);
}

void emit_layer(ProgramBuilder& b, Build& c, const LlmActivations& a, int index) {
  const LlmStep& s = c.step;
  const std::string layer = fmt::format("layer{}", index);
  const std::uint64_t rows = s.rows();
  const View h = f32_rows(a.h, s.hidden);
  const auto phase = [&b](StepPhase p) { b.set_phase(phase_id(p)); };
  phase(StepPhase::kAttnNorm);
  emit_residual_spill(b, s, layer + ".residual.spill");
  emit_rms_norm(b, s, NormIo{layer + ".attn_norm", f32_rows(a.x, s.hidden), h, rows});
  phase(StepPhase::kQkv);
  emit_linear(b, c, layer, "q_proj", h, a.q, rows, false);
  emit_linear(b, c, layer, "k_proj", h, a.k, rows, true);
  emit_linear(b, c, layer, "v_proj", h, a.v, rows, true);
  phase(StepPhase::kRope);
  emit_rope(b, s, layer);
  phase(StepPhase::kAttention);
  emit_attention(b, s, layer);
  phase(StepPhase::kOProj);
  emit_linear(b, c, layer, "o_proj", f32_rows(a.attn, s.heads * s.head_dim), a.y, rows, false);
  phase(StepPhase::kAttnResidual);
  emit_residual_add(b, s, layer + ".residual");
  phase(StepPhase::kMlpNorm);
  emit_residual_spill(b, s, layer + ".residual.spill");
  emit_rms_norm(b, s, NormIo{layer + ".mlp_norm", f32_rows(a.x, s.hidden), h, rows});
  phase(StepPhase::kGateUp);
  emit_linear(b, c, layer, "gate_proj", h, a.gate, rows, false);
  emit_linear(b, c, layer, "up_proj", h, a.up, rows, true);
  phase(StepPhase::kSwiglu);
  emit_swiglu(b, s, layer + ".mlp.silu");
  phase(StepPhase::kDown);
  emit_linear(b, c, layer, "down_proj", f32_rows(a.gate, s.ffn), a.y, rows, false);
  phase(StepPhase::kMlpResidual);
  emit_residual_add(b, s, layer + ".residual");
}

// Final norm over the last token of each sequence, LM head, logits to memory.
void emit_head(ProgramBuilder& b, Build& c, const LlmActivations& a) {
  const LlmStep& s = c.step;
  const auto row = static_cast<std::int64_t>(s.hidden) * kF32Bytes;
  const View last{a.x, (s.tokens - 1) * s.hidden * kF32Bytes, kF32Bytes,
                  row * static_cast<std::int64_t>(s.tokens)};
  const View h = f32_rows(a.h, s.hidden);
  b.set_phase(phase_id(StepPhase::kFinalNorm));
  emit_rms_norm(b, s, NormIo{"final_norm", last, h, s.batch});
  b.set_phase(phase_id(StepPhase::kHead));
  if (s.logits_slice == 0 || s.logits_slice >= s.vocab) {
    emit_linear(b, c, "", "lm_head", h, a.logits, s.batch, false);
    emit_logits_store(b, s);
    return;
  }
  // Sliced over the vocabulary: GEMM lm_head.sI computes columns [I x slice, ...) of the logits
  // and the MEM queue stores them while the next slice computes.
  const LinearLayer& head = linear(c, "lm_head");
  const std::uint64_t slices = ceil_div(s.vocab, s.logits_slice);
  for (std::uint64_t i = 0; i < slices; ++i) {
    const std::uint64_t col0 = i * s.logits_slice;
    const GemmSpec g = linear_gemm(c, head, fmt::format("lm_head.s{}", i), s.batch,
                                   std::min(s.logits_slice, s.vocab - col0));
    GemmIo io;
    io.x = h;
    io.y = f32_rows(a.logits_buffer(i), g.n);
    io.reuse_quantized_x = i > 0;
    emit_logits_slice_wait(b, s, i);
    emit_gemm(b, g, c.hw, io);
    emit_logits_slice_done(b, s, i);
    if (i > 0) emit_logits_slice_store(b, s, i - 1, col0 - s.logits_slice, s.logits_slice);
  }
  const std::uint64_t final_slice = slices - 1;
  emit_logits_slice_store(b, s, final_slice, final_slice * s.logits_slice,
                          s.vocab - final_slice * s.logits_slice);
}

// ---- accounting ----------------------------------------------------------------------------

void account(Workload& w, const std::string& embedding) {
  const ProgramTraffic t = program_traffic(w.program, embedding);
  w.weight_bytes = t.weight_bytes;
  w.kv_bytes = t.kv_bytes;
  w.kv_write_bytes = t.kv_write_bytes;
  w.other_bytes = t.other_bytes;
  w.spill_bytes = t.spill_bytes;
  w.macs = t.macs;
  w.f16_macs = t.f16_macs;
}

}  // namespace

namespace {

enum class RegionKind { kWeight, kKv, kSpill, kOther, kOnChip };

RegionKind region_kind(const RegionDecl& r, std::string_view embedding) {
  if (r.on_chip) return RegionKind::kOnChip;
  const std::string_view name = r.name;
  if (name.substr(0, kSpillPrefix.size()) == kSpillPrefix) return RegionKind::kSpill;
  for (const std::string& suffix : stored_tensor_suffixes()) {
    if (ends_with(name, "." + suffix)) return RegionKind::kWeight;
  }
  for (std::string_view w : {"attn_norm", "mlp_norm"}) {
    if (ends_with(name, w)) return RegionKind::kWeight;
  }
  if (name == "final_norm" || name == embedding) return RegionKind::kWeight;
  for (std::string_view kv : {".k_cache", ".v_cache", ".k_scales", ".v_scales"}) {
    if (ends_with(name, kv)) return RegionKind::kKv;
  }
  return RegionKind::kOther;
}

// Adds `times` x the bytes of region `r` to its kind in `f`.
void add_footprint(ProgramFootprint& f, const RegionDecl& r, std::string_view embedding,
                   std::uint64_t times) {
  const std::uint64_t bytes = times * r.bytes;
  switch (region_kind(r, embedding)) {
    case RegionKind::kWeight:
      f.weight_bytes += bytes;
      break;
    case RegionKind::kKv:
      f.kv_bytes += bytes;
      break;
    case RegionKind::kSpill:
      f.spill_bytes += bytes;
      break;
    case RegionKind::kOther:
      f.other_bytes += bytes;
      break;
    case RegionKind::kOnChip:
      break;
  }
}

// Adds what one instruction moves or computes to `t`.
void count_traffic(const Instruction& inst, const std::vector<RegionKind>& kinds,
                   ProgramTraffic& t) {
  if (inst.opcode == Opcode::kMatmul) {
    const std::uint64_t macs = static_cast<std::uint64_t>(inst.m) * inst.n * inst.k;
    t.macs += macs;
    if (inst.type == ElemType::kF16) t.f16_macs += macs;
    return;
  }
  if (inst.opcode != Opcode::kLoad && inst.opcode != Opcode::kStore) return;
  const bool load = inst.opcode == Opcode::kLoad;
  const RegionKind kind = kinds[load ? inst.a.space : inst.dst.space];
  const std::uint64_t bytes = inst.transfer_bytes();
  if (kind == RegionKind::kOnChip) return;  // a copy within SRAM
  if (kind == RegionKind::kWeight && load) {
    t.weight_bytes += bytes;
  } else if (kind == RegionKind::kSpill) {
    t.spill_bytes += bytes;
  } else if (kind == RegionKind::kKv) {
    (load ? t.kv_bytes : t.kv_write_bytes) += bytes;
  } else {
    t.other_bytes += bytes;
  }
}

}  // namespace

ProgramTraffic program_traffic(const Program& program, std::string_view embedding_region) {
  ProgramTraffic t;
  std::vector<RegionKind> kinds;
  kinds.reserve(program.regions.size());
  for (const RegionDecl& r : program.regions) kinds.push_back(region_kind(r, embedding_region));
  for (const std::vector<Instruction>& queue : program.queues) {
    for (const Instruction& inst : queue) count_traffic(inst, kinds, t);
  }
  return t;
}

ProgramFootprint program_footprint(const Program& program, std::string_view embedding_region) {
  ProgramFootprint f;
  for (const RegionDecl& r : program.regions) add_footprint(f, r, embedding_region, 1);
  return f;
}

bool has_groups(const WeightFormat& format, int group_size) {
  return !format.is_float() && group_size != kPerChannel;
}

bool two_level_applies(const WeightFormat& format, int group_size) {
  constexpr int kInt8Bits = 8;
  return has_groups(format, group_size) && format.max_bits() < kInt8Bits;
}

PhaseGroupKernels auto_group_kernels(const WeightFormat& format, int group_size) {
  PhaseGroupKernels kernels;
  if (two_level_applies(format, group_size)) kernels.prefill = GroupKernel::kTwoLevel;
  return kernels;
}

PhaseGroupKernels group_kernels_of(std::string_view text, const WeightFormat& format,
                                   int group_size) {
  if (text == "auto") return auto_group_kernels(format, group_size);
  if (text == "per-group" || text == "two-level") {
    return PhaseGroupKernels::both(parse_group_kernel(text));
  }
  throw InputError(fmt::format("group kernel \"{}\": expected auto, per-group or two-level", text));
}

std::string group_kernels_text(const PhaseGroupKernels& kernels) {
  return fmt::format("{}/{}", group_kernel_name(kernels.prefill),
                     group_kernel_name(kernels.decode));
}

std::string_view phase_name(Phase phase) { return phase == Phase::kDecode ? "decode" : "prefill"; }

std::string_view kv_format_name(KvFormat kv) { return kv == KvFormat::kFp16 ? "fp16" : "int8"; }

KvFormat parse_kv_format(std::string_view name) {
  if (name == "fp16") return KvFormat::kFp16;
  if (name == "int8") return KvFormat::kInt8;
  throw InputError(fmt::format("KV-cache format \"{}\": expected fp16 or int8", name));
}

std::uint64_t resident_weight_bytes(const WorkloadSpec& spec) {
  const WeightFormat fp16 = parse_format("fp16");
  std::uint64_t bytes = 0;
  for (const LinearLayer& l : linear_layers(spec.model)) {
    const WeightFormat& f = l.quantized ? spec.format : fp16;
    bytes += static_cast<std::uint64_t>(l.count) * linear_bytes(l, f, spec.group_size);
  }
  const auto norms = static_cast<std::uint64_t>(2 * spec.model.layers + 1);
  return bytes + norms * static_cast<std::uint64_t>(spec.model.hidden) * kFp16Bytes;
}

namespace {

void check_workload(const WorkloadSpec& spec, const HwConfig& hw) {
  check_spec(spec);
  if (hw.weights == WeightPlacement::kResident) check_resident_fit(spec, hw);
}

// The step's program with the first `layers` layers emitted (the SRAM check included), the
// residual stream spilled off chip between its uses when plan.spill, the LM head sliced over the
// vocabulary when plan.logits_slice > 0.
Program build_program(const WorkloadSpec& spec, const HwConfig& hw, int layers,
                      const SramPlan& plan) {
  const bool resident = hw.weights == WeightPlacement::kResident;
  Build c{spec, hw, make_step(spec, hw, plan), linear_layers(spec.model)};
  ProgramBuilder b;
  const LlmActivations act = declare_llm_ops(b, c.step);
  if (plan.kv_on_chip) declare_kv_cache(b, c.step, spec.model.layers);
  if (resident) declare_resident(b, c);
  b.set_phase(phase_id(StepPhase::kEmbed));
  emit_step_tables(b, c.step);
  emit_embedding(b, c.step);
  emit_layers(b, c, act, layers);
  if (spec.phase == Phase::kDecode || spec.final_chunk) emit_head(b, c, act);
  Program program = b.finish();
  check_sram_capacity(program, hw.sram.capacity);
  return program;
}

}  // namespace

namespace {

// The footprint of the whole step from its one-layer program: every layer declares the same
// regions (named "layer0." there), the rest are declared once.
ProgramFootprint footprint_of_layers(const Program& one_layer, std::string_view embedding,
                                     int layers) {
  ProgramFootprint f;
  for (const RegionDecl& r : one_layer.regions) {
    const bool per_layer = r.name.rfind("layer0.", 0) == 0;
    add_footprint(f, r, embedding, per_layer ? static_cast<std::uint64_t>(layers) : 1);
  }
  return f;
}

// The LM-head slice a step tries when it does not fit whole: whole MXM column tiles, about ffn
// columns, so that two slice buffers take no more SRAM than the MLP's gate and up (the LM head
// is then never the phase that needs the most). 0 when slicing would not help: the vocabulary
// fits in one slice, the step has no LM head, or the embeddings are tied (the lookup reads the LM
// head's weights as one region).
std::uint64_t logits_slice_of(const WorkloadSpec& spec, const HwConfig& hw) {
  const auto vocab = static_cast<std::uint64_t>(spec.model.vocab);
  const auto cols = static_cast<std::uint64_t>(hw.mxm.cols);
  const std::uint64_t slice =
      std::max(cols, static_cast<std::uint64_t>(spec.model.ffn) / cols * cols);
  const bool head = spec.phase == Phase::kDecode || spec.final_chunk;
  if (!head || spec.model.tied_embeddings || slice >= vocab) return 0;
  return slice;
}

// The one-layer program as it is, then with the LM head sliced, then with the residual spilled
// (and the head sliced): the first that fits, the cheaper changes first (slicing costs a few
// semaphores, spilling costs memory traffic). With resident weights, all three with the KV cache
// in SRAM first: it goes off chip only when no plan holds it.
SramFit sram_fit(const WorkloadSpec& spec, const HwConfig& hw) {
  SramFit fit;
  const std::uint64_t slice = logits_slice_of(spec, hw);
  std::vector<SramPlan> plans;
  for (const bool on_chip : {true, false}) {
    if (on_chip && hw.weights != WeightPlacement::kResident) continue;
    plans.push_back({false, 0, on_chip});
    if (slice != 0) plans.push_back({false, slice, on_chip});
    plans.push_back({true, slice, on_chip});
  }
  for (const SramPlan& plan : plans) {
    try {
      const Program one_layer = build_program(spec, hw, 1, plan);
      fit.sram_bytes = one_layer.sram_bytes();
      fit.footprint =
          footprint_of_layers(one_layer, make_step(spec, hw).embedding_region, spec.model.layers);
      fit.fits = true;
      fit.plan = plan;
      fit.spill = plan.spill;
      return fit;
    } catch (const SimulationError& e) {
      fit.reason = e.what();
    }
  }
  return fit;
}

}  // namespace

Workload build_workload(const WorkloadSpec& spec, const HwConfig& hw) {
  check_workload(spec, hw);
  const SramFit fit = sram_fit(spec, hw);
  if (!fit.fits) throw SimulationError(fit.reason);
  check_memory_capacity(spec, hw, fit.footprint);  // before the whole program is built
  const LlmStep step = make_step(spec, hw, fit.plan);
  Workload w;
  w.program = build_program(spec, hw, spec.model.layers, fit.plan);
  account(w, step.embedding_region);
  w.resident_bytes = hw.weights == WeightPlacement::kResident ? resident_weight_bytes(spec) : 0;
  w.tokens = step.rows();
  w.sram_bytes = w.program.sram_bytes();
  w.footprint_bytes = program_footprint(w.program, step.embedding_region).total();
  w.kv_on_chip = fit.plan.kv_on_chip;
  return w;
}

SramFit workload_sram_fit(const WorkloadSpec& spec, const HwConfig& hw) {
  check_workload(spec, hw);
  return sram_fit(spec, hw);
}

void check_workload_memory(const WorkloadSpec& spec, const HwConfig& hw) {
  check_workload(spec, hw);
  const SramFit fit = sram_fit(spec, hw);
  if (!fit.fits) throw SimulationError(fit.reason);
  check_memory_capacity(spec, hw, fit.footprint);
}

std::string_view layer_kind_of_tag(std::string_view tag) {
  constexpr std::string_view kLayer = "layer";
  if (tag.substr(0, kLayer.size()) == kLayer) {
    const std::size_t dot = tag.find('.');
    if (dot != std::string_view::npos) tag = tag.substr(dot + 1);
  }
  const std::string_view head = tag.substr(0, tag.find('.'));
  if (head == "attn") return "attention";
  if (head == "mlp") return "mlp";
  if (head == "lm_head") return "lm_head";
  if (head == "attn_norm" || head == "mlp_norm" || head == "final_norm") return "norm";
  if (head == "embedding") return "embedding";
  return "other";
}

}  // namespace lpusim
