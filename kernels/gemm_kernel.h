// GEMM/GEMV kernel generator Y[M,N] = X[M,K] . W[N,K]^T for every weight format: strips of
// whole MXM column tiles of weight rows flow through a double-buffered ring (MEM load, VXM unpack,
// MXM matmul, VXM scale/offset epilogue) shared by every GEMM emitted into one program.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/format.h"
#include "kernels/hw.h"
#include "kernels/program_builder.h"

namespace lpusim {

inline constexpr std::uint64_t kDefaultStripTargetBytes = 8u << 20;

struct GemmSpec {
  std::string name;  // tag and prefix of the GEMM's own declarations, e.g. "layer3.mlp.down"
  std::uint64_t m = 1;
  std::uint64_t k = 0;
  std::uint64_t n = 0;
  WeightFormat format;
  int group_size = kDefaultGroupSize;  // kPerChannel: one group of k
  // Packed weight bytes a strip aims for, in whole MXM column tiles (at least one: 0 means one
  // tile per strip; narrower when SRAM is short). Wider strips spread a strip's fixed
  // instructions (unpack sequence, epilogue, semaphores) over more weights.
  std::uint64_t strip_target_bytes = kDefaultStripTargetBytes;
  // How group metadata is applied (docs/FORMATS.md "Two-level scales"). kTwoLevel applies to
  // integer formats with more than one group per row (others already run at full MXM depth and
  // are emitted as kPerGroup); their codes must have at most 7 bits and k < 2^17 (InputError).
  GroupKernel group_kernel = GroupKernel::kPerGroup;
};

// The largest k of a two-level GEMM: 128 x 128 x k must stay below 2^31 (int32 partials).
inline constexpr std::uint64_t kTwoLevelMaxK = (1u << 17) - 1;

// Where a GEMM finds X and puts Y on chip. X is f32 [m][k], Y is f32 [m][n]; both views are in
// SRAM buffers with col stride 4 and row stride >= a row.
struct GemmIo {
  View x;
  View y;
  // A semaphore the VXM waits on (once) before it reads X, e.g. "X has landed" from the MEM queue.
  std::optional<std::uint32_t> x_ready;
  // X is the previous GEMM's X (same m and k, its on-chip values unchanged): reuse its quantized
  // form instead of quantizing again (q, k and v projections of one layer).
  bool reuse_quantized_x = false;
};

// Where the weights live: off-chip regions when streamed, SRAM buffers when resident. Layout of
// docs/FORMATS.md, "Files written by `lpusim quantize`": qweight [n][row_bytes], scales and offsets
// fp16 [n][groups] (none for fp16).
struct GemmWeights {
  bool resident = false;
  std::uint32_t qweight = 0;
  std::optional<std::uint32_t> scales;
  std::optional<std::uint32_t> offsets;
  // Two-level GEMMs stream NAME.channel_scales (s1, f16 [n]), NAME.group_scales (s2, u8
  // [n][groups]) and NAME.group_zeros (z, i8 [n][groups]) instead of scales and offsets.
  bool two_level = false;
  std::optional<std::uint32_t> channel_scales;
  std::optional<std::uint32_t> group_scales;
  std::optional<std::uint32_t> group_zeros;
};

// Whether a GEMM runs the two-level group kernel: asked for, integer weights, more than one group
// per row.
bool uses_two_level(const GemmSpec& spec);

// One weight region (streamed) or buffer (resident) a GEMM reads, by name and size.
struct GemmWeightSpace {
  std::string name;
  std::uint64_t bytes = 0;
};
// Every one the kernel reads, in the order it declares them: NAME.qweight, then NAME.scales and
// NAME.offsets, or for a two-level GEMM NAME.channel_scales, NAME.group_scales and
// NAME.group_zeros (nothing more for fp16). A workload that declares resident weights before its
// GEMMs declares exactly these.
std::vector<GemmWeightSpace> gemm_weight_spaces(const GemmSpec& spec);

// The tiling emit_gemm chose. N is cut into strips of whole MXM column tiles (mxm.cols rows; the
// last tile of N may be shorter): wide strips in the body, a one-tile strip at the end (so
// little work is left once the last weights land). Strip s covers weight rows
// [strip_begin[s], strip_begin[s + 1]).
struct GemmPlan {
  std::uint64_t strip_rows = 0;  // weight rows of the widest strip (a multiple of mxm.cols, or n)
  std::uint64_t strips = 0;
  std::vector<std::uint64_t> strip_begin;  // strips + 1 entries: first row of each strip, then n
  std::uint64_t k_chunk = 0;               // k per tile (k itself unless SRAM forced chunks)
  std::uint64_t k_chunks = 0;
  std::uint64_t m_block = 0;  // activation rows per MATMUL (m unless SRAM forced blocks)
  std::uint64_t m_blocks = 0;
  std::uint64_t groups = 0;  // scale/offset groups per weight row

  std::uint64_t strip_first_row(std::uint64_t strip) const { return strip_begin[strip]; }
  std::uint64_t strip_row_count(std::uint64_t strip) const {
    return strip_begin[strip + 1] - strip_begin[strip];
  }
};

struct GemmEmitted {
  GemmWeights weights;
  GemmPlan plan;
};

// Emits one GEMM into `builder`, continuing the weight ring and semaphores of earlier GEMMs so
// that the MEM queue prefetches this GEMM's weights while the previous one finishes. Weights
// stream from regions NAME.qweight / NAME.scales / NAME.offsets, or with hw.weights == resident
// sit in buffers of those names (declared here on first use; a second call reuses them).
// The last strip's epilogue is held back until the next GEMM or builder.flush(): call flush()
// before reading Y with other instructions. Throws SimulationError when the GEMM cannot fit in
// SRAM even with k split into chunks and one activation row per MATMUL, naming bytes needed and
// available; InputError for a bad shape or group size.
GemmEmitted emit_gemm(ProgramBuilder& builder, const GemmSpec& spec, const HwConfig& hw,
                      const GemmIo& io);

// The standalone kernel of `lpusim kernel` / `lpusim gemm`: X f32 [m][k] loaded from region
// NAME.x, Y f32 [m][n] stored to region NAME.y, weights as in emit_gemm.
struct GemmKernel {
  Program program;
  GemmEmitted gemm;
  std::uint32_t x_region = 0;
  std::uint32_t y_region = 0;
  std::uint32_t x_buffer = 0;
  std::uint32_t y_buffer = 0;
};
GemmKernel build_gemm_program(const GemmSpec& spec, const HwConfig& hw);

// Constants of the activation quantization (docs/ISA.md "Kernels").
inline constexpr double kActivationScaleImm = 1.0 / 127.0;  // MUL.f32 imm, rounded to f32
inline constexpr double kActivationScaleFloor = 1.1754943508222875e-38;  // FLT_MIN = 2^-126

}  // namespace lpusim
