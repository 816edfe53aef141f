// The LLM workload: one decode step (or the prefill of a prompt) of a LLaMA model as one chip
// program with every layer emitted, plus the bytes it moves and the MACs it computes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/format.h"
#include "kernels/hw.h"
#include "kernels/program.h"
#include "sim/config/model_config.h"

namespace lpusim {

enum class Phase { kDecode, kPrefill };
enum class KvFormat { kFp16, kInt8 };

std::string_view phase_name(Phase phase);         // "decode", "prefill"
std::string_view kv_format_name(KvFormat kv);     // "fp16", "int8"
KvFormat parse_kv_format(std::string_view name);  // throws InputError naming the accepted names

// The group kernel of each phase of a run (`--group-kernel`; docs/FORMATS.md "Two-level scales").
struct PhaseGroupKernels {
  GroupKernel prefill = GroupKernel::kPerGroup;
  GroupKernel decode = GroupKernel::kPerGroup;

  GroupKernel of(Phase phase) const { return phase == Phase::kPrefill ? prefill : decode; }
  static PhaseGroupKernels both(GroupKernel kernel) { return {kernel, kernel}; }
};

// Whether a format's rows have more than one group, where the group kernels differ (integer codes,
// a group size other than per channel; a GEMM with k <= group size still has one).
bool has_groups(const WeightFormat& format, int group_size);
// Whether the two-level kernel can run the format: groups, and codes of at most 7 bits (s2 x c
// must fit int8).
bool two_level_applies(const WeightFormat& format, int group_size);
// `--group-kernel auto`: two-level for the prefill (every chunk, the LM head included) where it
// applies, per-group for the decode step. Two-level is ~3x faster on a compute-bound prefill and
// ~2x slower on a decode step bound by memory or by the VXM's unpacking (docs/BENCHMARKS.md).
PhaseGroupKernels auto_group_kernels(const WeightFormat& format, int group_size);
// "auto", "per-group" or "two-level" (a sweep's group_kernel) as each phase's kernel: auto is
// auto_group_kernels, the others run both phases. InputError naming the accepted values.
PhaseGroupKernels group_kernels_of(std::string_view text, const WeightFormat& format,
                                   int group_size);
// The kernels as "PREFILL/DECODE", e.g. "two-level/per-group" (sweep results and hashes).
std::string group_kernels_text(const PhaseGroupKernels& kernels);

struct WorkloadSpec {
  ModelConfig model;
  WeightFormat format;  // of the tensors the model lists as quantized; the others are fp16
  int group_size = kDefaultGroupSize;
  Phase phase = Phase::kDecode;
  std::uint64_t batch = 1;
  std::uint64_t context = 2048;  // decode: tokens already in the KV cache (attends to context+1)
  std::uint64_t prompt = 128;    // prefill: prompt tokens per sequence
  KvFormat kv = KvFormat::kFp16;
  // A prefill chunk (sim/llm/prefill_chunks.h): `prompt` new tokens per sequence after
  // prefill_past tokens already in the KV cache (read from memory as a decode step reads it), and
  // the LM head (final norm, logits) only when final_chunk. The defaults are the whole prefill.
  std::uint64_t prefill_past = 0;
  bool final_chunk = true;
  // How the quantized GEMMs apply group scales (docs/FORMATS.md "Two-level scales"): a step's
  // GEMMs use the kernel of its phase.
  PhaseGroupKernels group_kernels{};
};

struct Workload {
  Program program;
  // Weights + scales + offsets (+ norm weights, looked-up embedding rows) the program LOADs from
  // memory in this step: byte for byte the LOADs of weight regions, before burst rounding. With
  // resident weights only the embedding rows (the table stays off chip).
  std::uint64_t weight_bytes = 0;
  std::uint64_t resident_bytes = 0;   // SRAM bytes of weights when hw.weights == resident, else 0
  std::uint64_t kv_bytes = 0;         // KV-cache bytes (codes + int8 scales) read in this step
  std::uint64_t kv_write_bytes = 0;   // KV-cache bytes appended
  std::uint64_t other_bytes = 0;      // logits stored, RoPE tables and causal mask loaded
  std::uint64_t spill_bytes = 0;      // SRAM spills stored and loaded back (regions spill.*)
  std::uint64_t sram_bytes = 0;       // SRAM the buffers need (Program::sram_bytes)
  std::uint64_t macs = 0;             // multiply-accumulates of all MATMULs (GEMMs + attention)
  std::uint64_t f16_macs = 0;         // those of f16 MATMULs (attention's QK^T and PV)
  std::uint64_t tokens = 0;           // tokens produced (decode: batch) or processed (prefill)
  std::uint64_t footprint_bytes = 0;  // off-chip bytes its regions hold (program_footprint)
  bool kv_on_chip = false;            // the KV cache is in SRAM (SramPlan::kv_on_chip)
};

// Memory traffic and MACs of any program, read off its instructions by region name: LOADs of
// weight regions (.qweight, .scales, .offsets, the RMSNorm weights, the embedding region), reads
// and writes of the KV cache (.k_cache, .v_cache and their int8 .k_scales/.v_scales), SRAM
// spills (stores to and loads from regions spill.*), everything else, and the MACs of every
// MATMUL. Sizes are before burst rounding. Only off-chip traffic: LOADs and STOREs of on-chip
// regions (RegionDecl::on_chip) are copies within SRAM and count nowhere here.
struct ProgramTraffic {
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes = 0;
  std::uint64_t kv_write_bytes = 0;
  std::uint64_t other_bytes = 0;
  std::uint64_t spill_bytes = 0;
  std::uint64_t macs = 0;
  std::uint64_t f16_macs = 0;  // of f16 MATMULs
};
ProgramTraffic program_traffic(const Program& program,
                               std::string_view embedding_region = "embed_tokens");

// Off-chip memory a program holds: the sizes of its regions, by the same kinds as
// program_traffic (weights, KV cache, SRAM spills, everything else: RoPE tables, causal mask,
// logits). On-chip regions are not off-chip memory and count nowhere here.
struct ProgramFootprint {
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes = 0;
  std::uint64_t spill_bytes = 0;
  std::uint64_t other_bytes = 0;
  std::uint64_t total() const { return weight_bytes + kv_bytes + spill_bytes + other_bytes; }
};
ProgramFootprint program_footprint(const Program& program,
                                   std::string_view embedding_region = "embed_tokens");

// Builds the step's program for `hw` (tile sizes, SRAM, weight placement). Throws InputError for
// a bad spec (batch or prompt 0, unsupported tensor formats) and SimulationError when resident
// weights do not fit in SRAM ("model X in format F needs N bytes ..."), the buffers do not, or
// memory.capacity is set and the program's footprint exceeds it.
Workload build_workload(const WorkloadSpec& spec, const HwConfig& hw);

// Whether the step's program fits in the chip's SRAM, decided by the check build_workload makes
// (GEMM tiling, then the SRAM the buffers need by their live phases) on a program with only the
// first layer (and the LM head, if the step has one) emitted: every layer declares the same
// buffers, so the SRAM total is that of the whole program at a fraction of the build time. The
// step is tried as it is, then with the residual stream spilled off chip between its uses
// (LlmStep::spill_residual); build_workload builds the first that fits. Throws what
// build_workload throws for a bad spec or resident weights that do not fit; an SRAM shortfall of
// the buffers is `reason` instead.
// How a step's SRAM is planned beyond live ranges (docs/WORKLOAD.md, "SRAM planning").
struct SramPlan {
  bool spill = false;              // the residual stream spills off chip between its uses
  std::uint64_t logits_slice = 0;  // LM-head vocabulary columns per slice (0: whole)
  // The KV cache stays in SRAM beside resident weights (LlmStep::kv_on_chip): tried first when
  // weights are resident, so the cache goes off chip only when it does not fit.
  bool kv_on_chip = false;
};

struct SramFit {
  bool fits = false;
  SramPlan plan;                 // the first that fits: as it is, the head sliced, spilled
  bool spill = false;            // it fits only with the residual stream spilled (plan.spill)
  std::uint64_t sram_bytes = 0;  // the program's buffers when it fits
  // When it fits: the whole step's off-chip footprint, from the one-layer program's regions (those
  // of layer 0 counted once per layer): memory.capacity is checked on it before the whole program
  // is built.
  ProgramFootprint footprint;
  std::string reason;  // the SRAM error when it does not (with the spill)
};
SramFit workload_sram_fit(const WorkloadSpec& spec, const HwConfig& hw);

// What build_workload checks before it builds the whole program, and nothing more: the spec, the
// SRAM fit and memory.capacity (from the one-layer program). A chunked prefill checks its last
// (largest) chunk with it before it simulates the first.
void check_workload_memory(const WorkloadSpec& spec, const HwConfig& hw);

// SRAM bytes the model's weights take when resident: every linear layer's codes, scales and
// offsets plus the RMSNorm weights (the embedding table stays off chip).
std::uint64_t resident_weight_bytes(const WorkloadSpec& spec);

// The layer kind an instruction tag belongs to, for the per-kind breakdown: "attention" (q, k,
// v, o projections, RoPE, attention core, RoPE tables), "mlp" (gate, up, down, SiLU), "lm_head"
// (LM head GEMM and logits store), "norm", "embedding", or "other" (residual adds, untagged).
std::string_view layer_kind_of_tag(std::string_view tag);

}  // namespace lpusim
