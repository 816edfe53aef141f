// GEMM kernel generator: plans strips / k chunks / m blocks to fit SRAM, then emits per queue the
// ring protocol of docs/ISA.md "Kernels" (MEM loads, VXM unpack and epilogue, MXM matmuls).
#include "kernels/gemm_kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/int_math.h"
#include "kernels/quantizer.h"
#include "kernels/unpack_kernel.h"

namespace lpusim {
namespace {

constexpr std::uint64_t kPrologueScratchBytes = 1u << 20;  // f32 rows of X per prologue block
constexpr int kSlots = 2;                                  // double buffering
// Strips wider than one column tile may grow the program's SRAM to this share of the capacity;
// the rest stays for later kernels (one-tile strips may use all of it, as before).
constexpr std::uint64_t kWideStripSramPercent = 90;
constexpr std::uint64_t kPercent = 100;

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

// One GEMM with its derived sizes.
struct OpPlan {
  GemmSpec spec;
  GemmIo io;
  GemmWeights weights;
  GemmPlan plan;
  std::uint32_t tag = 0;
  bool fp16 = false;
  bool unpack = false;  // codes need VXM unpacking (not int8, not fp16)
  // Two-level scales: codes dequantized to int8 on the VXM, MATMULs over all of k, s1 applied
  // in the epilogue (GroupKernel::kTwoLevel with more than one group per row).
  bool two_level = false;
  std::uint64_t m = 0, k = 0, n = 0;
  std::uint64_t group = 0;      // k per scale group (k itself when per-channel)
  std::uint64_t groups = 0;     // groups per row
  std::uint64_t row_bytes = 0;  // packed bytes per weight row
  std::uint64_t quantum = 0;    // k chunks are multiples of this
  std::int64_t xq_bytes = 1;    // bytes per quantized activation (i8, or f16 for fp16)
  // The format's metadata fields the epilogue decodes with (w_hat = offset + scale * c).
  MetadataField scale, offset;

  bool integer() const { return !fp16; }
  std::uint64_t chunk_groups(std::uint64_t kc) const { return fp16 ? 1 : ceil_div(kc, group); }
  // Partial sums per activation row and weight row of a k chunk (1 unless per group).
  std::uint64_t partial_groups(std::uint64_t kc) const { return two_level ? 1 : chunk_groups(kc); }
  std::uint64_t packed_bytes(std::uint64_t k_begin, std::uint64_t k_end) const {
    return spec.format.row_bytes(k_end) - spec.format.row_bytes(k_begin);
  }
  std::uint32_t kgroup() const {
    return fp16 || two_level || group == k ? 0u : static_cast<std::uint32_t>(group);
  }
};

// One strip x k-chunk of weights, with its ring slots.
struct Tile {
  std::uint64_t strip = 0, chunk = 0;
  std::uint64_t n0 = 0, rows = 0;      // weight rows
  std::uint64_t k0 = 0, kc = 0;        // k range
  std::uint64_t g0 = 0, gc = 0;        // groups of the k range
  std::uint64_t byte0 = 0, bytes = 0;  // packed bytes of the k range within a row
  int packed = -1, meta = -1, codes = -1;
  std::uint64_t part_base = 0;  // partial slot of m block j: (part_base + j) % kSlots
  bool first = false;           // first tile of its GEMM

  int part(std::uint64_t block) const { return static_cast<int>((part_base + block) % kSlots); }
};

// A double-buffered resource: a buffer (two for scales + offsets) and full/free semaphores per
// slot. Slots are handed out round robin, so each semaphore has one producer and one consumer
// queue per use and stays balanced.
struct Ring {
  std::array<std::uint32_t, kSlots> buffer{}, buffer2{}, full{}, free{};
  std::uint64_t count = 0;
  bool declared = false;
  int next() { return static_cast<int>(count++ % kSlots); }
};

std::string slot_name(std::string_view base, int slot) { return fmt::format("{}{}", base, slot); }

// ---------------------------------------------------------------------------------------------
// The state shared by every GEMM of one program
// ---------------------------------------------------------------------------------------------

// Shared buffers that are not ring slots, sized for the largest GEMM of the program.
enum class Scratch : int {
  kUnpack,      // u16 scratch of the unpack sequence
  kScalesF32,   // a tile's scales as f32, transposed: [groups][rows]
  kOffsetsF32,  // a tile's offsets as f32, transposed: [groups][rows]
  kYsum,        // a k chunk's sum before it is added to Y
  kXTmp,        // f32 rows of X during quantization
  kXq,          // quantized activations (i8, or f16 for fp16 weights)
  kXScale,      // per activation row scale
  kXInv,        // per activation row 1 / scale
  kXSum,        // per activation row and group sum of X
};
constexpr int kScratchCount = static_cast<int>(Scratch::kXSum) + 1;
constexpr std::array<const char*, kScratchCount> kScratchNames = {
    "gemm.unpack_scratch", "gemm.scales_f32", "gemm.offsets_f32",
    "gemm.ysum",           "gemm.x_tmp",      "gemm.xq",
    "gemm.x_scale",        "gemm.x_inv",      "gemm.x_sum"};

// Bytes each shared buffer needs for one GEMM (0: not used by it).
struct SharedNeeds {
  std::uint64_t packed = 0, scales = 0, offsets = 0, codes = 0, part = 0;  // per ring slot
  std::array<std::uint64_t, kScratchCount> scratch{};
};

class GemmRing : public BuilderExtension {
 public:
  void flush(ProgramBuilder& builder) override;

  // The id of a shared buffer this GEMM declared (declare_shared).
  std::uint32_t id(Scratch s) const {
    const std::uint32_t v = scratch[static_cast<std::size_t>(s)];
    if (v == kNone) {
      throw SimulationError(fmt::format("internal: shared buffer {} missing",
                                        kScratchNames[static_cast<std::size_t>(s)]));
    }
    return v;
  }

  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  Ring packed, meta, codes, part;
  std::array<std::uint32_t, kScratchCount> scratch = filled_none();
  std::uint32_t xq_ready = 0;
  bool have_xq_ready = false;
  std::vector<std::pair<std::shared_ptr<const OpPlan>, Tile>> pending;
  // The activations quantized last (for reuse_quantized_x).
  std::uint64_t last_m = 0, last_k = 0, last_group = 0;
  bool last_fp16 = false, last_two_level = false, have_last = false;

 private:
  static std::array<std::uint32_t, kScratchCount> filled_none() {
    std::array<std::uint32_t, kScratchCount> a{};
    a.fill(kNone);
    return a;
  }
};

// Shared buffers a GEMM needs with strips of up to r rows, k chunks of kc and m blocks of mb.
SharedNeeds shared_needs(const OpPlan& op, std::uint64_t r, std::uint64_t kc, std::uint64_t mb) {
  const std::uint64_t gc = op.chunk_groups(kc);
  const bool streamed = !op.weights.resident;
  SharedNeeds s;
  s.packed = streamed ? r * op.packed_bytes(0, kc) : 0;
  s.scales = op.integer() && streamed ? r * gc * op.scale.bytes() : 0;
  s.offsets = op.integer() && streamed ? r * gc * op.offset.bytes() : 0;
  if (op.two_level) {
    // The meta slots hold s2 then z ([rows][gc] bytes each) and s1 ([rows] f16).
    const TwoLevelFields& f = two_level_fields();
    s.scales = streamed ? r * gc * (f.group_scale.bytes() + f.group_zero.bytes()) : 0;
    s.offsets = streamed ? r * f.channel_scale.bytes() : 0;
  }
  s.codes = op.unpack ? r * kc : 0;
  s.part = mb * op.partial_groups(kc) * r * kF32Bytes;
  const std::uint64_t x_rows =
      std::clamp<std::uint64_t>(kPrologueScratchBytes / (op.k * kF32Bytes), 1, op.m);
  const std::uint64_t act = op.integer() ? op.m * kF32Bytes : 0;
  auto at = [&](Scratch id) -> std::uint64_t& { return s.scratch[static_cast<std::size_t>(id)]; };
  at(Scratch::kUnpack) = op.unpack ? unpack_scratch_bytes(op.spec.format, r, kc) : 0;
  at(Scratch::kScalesF32) = op.integer() ? r * op.partial_groups(kc) * kF32Bytes : 0;
  at(Scratch::kOffsetsF32) = op.integer() && !op.two_level ? r * gc * kF32Bytes : 0;
  at(Scratch::kYsum) = op.integer() && kc < op.k ? mb * r * kF32Bytes : 0;
  at(Scratch::kXTmp) = op.integer() ? x_rows * op.k * kF32Bytes : 0;
  at(Scratch::kXq) = op.m * op.k * static_cast<std::uint64_t>(op.xq_bytes);
  at(Scratch::kXScale) = act;
  at(Scratch::kXInv) = act;
  at(Scratch::kXSum) = op.integer() && !op.two_level ? op.m * op.groups * kF32Bytes : 0;
  return s;
}

// The program's SRAM and the sizes its shared buffers have so far, read once per plan (the
// planner asks about many candidate tilings; the buffers do not change meanwhile).
struct SharedHave {
  std::uint64_t sram = 0;
  std::array<std::uint64_t, kSlots> packed{}, scales{}, offsets{}, codes{}, part{};
  std::array<std::uint64_t, kScratchCount> scratch{};

  explicit SharedHave(const ProgramBuilder& b) : sram(b.program().sram_bytes()) {
    const auto have = [&](const std::string& name) -> std::uint64_t {
      const auto id = b.find_buffer(name);
      return id ? b.program().buffers[*id].bytes : 0;
    };
    for (int s = 0; s < kSlots; ++s) {
      packed[s] = have(slot_name("gemm.packed", s));
      scales[s] = have(slot_name("gemm.scales", s));
      offsets[s] = have(slot_name("gemm.offsets", s));
      codes[s] = have(slot_name("gemm.codes", s));
      part[s] = have(slot_name("gemm.part", s));
    }
    for (std::size_t i = 0; i < scratch.size(); ++i) scratch[i] = have(kScratchNames[i]);
  }

  // SRAM of the program once the shared buffers have grown to `needs`.
  std::uint64_t with(const SharedNeeds& needs) const {
    std::uint64_t total = sram;
    const auto grow = [&](std::uint64_t have, std::uint64_t bytes) {
      total += bytes > have ? bytes - have : 0;
    };
    for (int s = 0; s < kSlots; ++s) {
      grow(packed[s], needs.packed);
      grow(scales[s], needs.scales);
      grow(offsets[s], needs.offsets);
      grow(codes[s], needs.codes);
      grow(part[s], needs.part);
    }
    for (std::size_t i = 0; i < scratch.size(); ++i) grow(scratch[i], needs.scratch[i]);
    return total;
  }
};

// Strip boundaries for strips of up to `per_strip` column tiles: the body split evenly, then a
// last strip of one tile (the ramp-down: after the last weights land, only one tile's unpack,
// matmul and epilogue remain). One strip when all of N fits in one.
std::vector<std::uint64_t> strip_bounds(std::uint64_t n, std::uint64_t cols,
                                        std::uint64_t per_strip) {
  const std::uint64_t tiles = ceil_div(n, cols);
  std::vector<std::uint64_t> begin{0};
  if (tiles <= per_strip) {
    begin.push_back(n);
    return begin;
  }
  const std::uint64_t body = tiles - 1;
  const std::uint64_t strips = ceil_div(body, per_strip);
  for (std::uint64_t s = 0; s < strips; ++s) {
    const std::uint64_t t = body / strips + (s < body % strips ? 1 : 0);
    begin.push_back(begin.back() + t * cols);
  }
  begin.push_back(n);
  return begin;
}

void set_strips(OpPlan& op, std::vector<std::uint64_t> bounds) {
  op.plan.strips = bounds.size() - 1;
  op.plan.strip_rows = 0;
  for (std::uint64_t s = 0; s < op.plan.strips; ++s) {
    op.plan.strip_rows = std::max(op.plan.strip_rows, bounds[s + 1] - bounds[s]);
  }
  op.plan.strip_begin = std::move(bounds);
}

void set_chunks(OpPlan& op, std::uint64_t kc, std::uint64_t mb) {
  op.plan.k_chunk = kc;
  op.plan.k_chunks = ceil_div(op.k, kc);
  op.plan.m_block = mb;
  op.plan.m_blocks = ceil_div(op.m, mb);
}

// Strips as wide as spec.strip_target_bytes (whole column tiles) with all of k and m in one tile,
// narrowed until they fit the wide-strip share of SRAM; false when not even two tiles fit.
bool choose_wide_strips(const ProgramBuilder& b, OpPlan& op, const HwConfig& hw) {
  const auto cols = static_cast<std::uint64_t>(hw.mxm.cols);
  const std::uint64_t tiles = ceil_div(op.n, cols);
  const std::uint64_t tile_bytes = std::max<std::uint64_t>(1, std::min(op.n, cols) * op.row_bytes);
  const std::uint64_t widest = std::min(tiles, ceil_div(op.spec.strip_target_bytes, tile_bytes));
  const std::uint64_t budget = hw.sram.capacity.count / kPercent * kWideStripSramPercent;
  const SharedHave have(b);
  for (std::uint64_t per_strip = widest; per_strip >= 2; --per_strip) {
    std::vector<std::uint64_t> bounds = strip_bounds(op.n, cols, per_strip);
    std::uint64_t rows = 0;
    for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
      rows = std::max(rows, bounds[s + 1] - bounds[s]);
    }
    if (have.with(shared_needs(op, rows, op.k, op.m)) <= budget) {
      set_strips(op, std::move(bounds));
      set_chunks(op, op.k, op.m);
      return true;
    }
  }
  return false;
}

// Picks wide strips when they fit, else one-tile strips with the largest k chunk, then the
// largest m block, whose buffers fit in SRAM.
void choose_tiling(const ProgramBuilder& b, OpPlan& op, const HwConfig& hw) {
  if (choose_wide_strips(b, op, hw)) return;
  const auto cols = static_cast<std::uint64_t>(hw.mxm.cols);
  set_strips(op, strip_bounds(op.n, cols, 1));
  const std::uint64_t r = op.plan.strip_rows;
  const std::uint64_t capacity = hw.sram.capacity.count;
  const std::uint64_t quanta = ceil_div(op.k, op.quantum);
  const SharedHave have(b);
  for (std::uint64_t blocks = 1;; blocks *= 2) {
    const std::uint64_t mb = ceil_div(op.m, blocks);
    for (std::uint64_t q = quanta; q >= 1; --q) {
      const std::uint64_t kc = std::min(op.k, q * op.quantum);
      if (have.with(shared_needs(op, r, kc, mb)) <= capacity) {
        set_chunks(op, kc, mb);
        return;
      }
    }
    if (mb == 1) break;
  }
  const std::uint64_t least = have.with(shared_needs(op, r, std::min(op.k, op.quantum), 1));
  throw SimulationError(fmt::format(
      "GEMM {} (m={} k={} n={}, {}, weights {}): does not fit in SRAM: it needs {} bytes even "
      "with k in chunks of {} and one activation row per matmul ({} of them already declared "
      "for X, Y, earlier kernels{}), but the SRAM holds {} bytes",
      op.spec.name, op.m, op.k, op.n, op.spec.format.name,
      op.weights.resident ? "resident" : "streamed", least, std::min(op.k, op.quantum),
      b.program().sram_bytes(), op.weights.resident ? ", resident weights" : "", capacity));
}

// Whether the format's metadata is a scale then an offset per group (any element types).
bool decodes_with_scale_and_offset(const WeightFormat& format) {
  const std::vector<MetadataField>& m = format.metadata;
  const std::vector<MetadataField>& want = scale_offset_metadata();
  return m.size() == want.size() && m[0].name == want[0].name && m[1].name == want[1].name;
}

void check_spec(const GemmSpec& spec, const HwConfig& hw) {
  if (spec.m == 0 || spec.k == 0 || spec.n == 0) {
    throw InputError(fmt::format("GEMM {}: expected m, k, n >= 1, got m={} k={} n={}", spec.name,
                                 spec.m, spec.k, spec.n));
  }
  if (spec.m > UINT32_MAX || spec.k > UINT32_MAX || spec.n > UINT32_MAX) {
    throw InputError(fmt::format("GEMM {}: m, k, n must be below 2^32", spec.name));
  }
  if (spec.group_size < 0) {
    throw InputError(fmt::format("GEMM {}: group size {} is negative", spec.name, spec.group_size));
  }
  // X (m x k), Y (m x n) and W (k x n) are buffers of f32 values at most; each must fit a view's
  // byte range. Products of two 32-bit counts times 4 bytes can exceed 2^64, so they are compared
  // in 128 bits before any byte count is formed.
  const auto check_operand = [&](const char* operand, const char* dims, std::uint64_t a,
                                 std::uint64_t b) {
    const unsigned __int128 bytes =
        static_cast<unsigned __int128>(a) * b * static_cast<unsigned>(kF32Bytes);
    if (bytes > View::kMaxOffset) {
      throw InputError(fmt::format(
          "GEMM {}: {} ({} = {} x {}) needs more than {} bytes as f32 values; make m, k or n "
          "smaller",
          spec.name, operand, dims, a, b, View::kMaxOffset));
    }
  };
  check_operand("X", "m x k", spec.m, spec.k);
  check_operand("Y", "m x n", spec.m, spec.n);
  check_operand("W", "k x n", spec.k, spec.n);
  if (hw.mxm.cols <= 0 || hw.mxm.rows <= 0 || hw.mxm.planes <= 0) {
    throw InputError(fmt::format("GEMM {}: the MXM needs rows, cols and planes >= 1", spec.name));
  }
  if (uses_two_level(spec)) {
    try {
      two_level_max_s2(spec.format);
    } catch (const InputError& e) {
      throw InputError(fmt::format("GEMM {}: {}", spec.name, e.what()));
    }
    if (spec.k > kTwoLevelMaxK) {
      throw InputError(fmt::format(
          "GEMM {}: k = {} is too deep for the two-level group kernel: its int32 partial sums of "
          "int8 x int8 products over all of k may overflow beyond k = {}",
          spec.name, spec.k, kTwoLevelMaxK));
    }
  }
  if (!spec.format.is_float() && !decodes_with_scale_and_offset(spec.format)) {
    throw InputError(fmt::format(
        "GEMM {}: format {} stores metadata the GEMM kernel cannot decode; it decodes w_hat = "
        "offset + scale * c from one scale and one offset per group",
        spec.name, spec.format.name));
  }
  if (!spec.format.is_float() &&
      spec.k % static_cast<std::uint64_t>(spec.format.pattern_length()) != 0) {
    throw InputError(fmt::format("GEMM {}: k = {} is not a multiple of the pattern length {} of {}",
                                 spec.name, spec.k, spec.format.pattern_length(),
                                 spec.format.name));
  }
}

// The weights' regions (streamed) or buffers (resident), declared on first use.
std::uint32_t weight_space(ProgramBuilder& b, bool resident, const std::string& name,
                           std::uint64_t bytes) {
  const auto existing = resident ? b.find_buffer(name) : b.find_region(name);
  if (!existing) return resident ? b.add_buffer(name, bytes) : b.add_region(name, bytes);
  const std::uint64_t have =
      resident ? b.program().buffers[*existing].bytes : b.program().regions[*existing].bytes;
  if (have != bytes) {
    throw InputError(
        fmt::format("{} is already declared with {} bytes; this GEMM needs {}", name, have, bytes));
  }
  return *existing;
}

OpPlan make_plan(ProgramBuilder& b, const GemmSpec& spec, const HwConfig& hw, const GemmIo& io) {
  OpPlan op;
  op.spec = spec;
  op.io = io;
  op.tag = b.intern_tag(spec.name);
  op.fp16 = spec.format.is_float();
  op.unpack = !op.fp16 && needs_unpack(spec.format);
  op.two_level = uses_two_level(spec);
  op.m = spec.m;
  op.k = spec.k;
  op.n = spec.n;
  op.group = op.fp16 || spec.group_size == kPerChannel
                 ? op.k
                 : static_cast<std::uint64_t>(spec.group_size);
  op.groups = op.fp16 ? 1 : group_count(op.k, spec.group_size);
  op.row_bytes = spec.format.row_bytes(op.k);
  op.xq_bytes = op.fp16 ? kFp16Bytes : kInt8Bytes;
  op.quantum =
      op.fp16
          ? 1
          : std::lcm<std::uint64_t>(
                op.group, static_cast<std::uint64_t>(unpack_block(spec.format).weights_per_block));
  op.plan.groups = op.groups;

  op.weights.resident = hw.weights == WeightPlacement::kResident;
  std::vector<std::uint32_t> spaces;
  for (const GemmWeightSpace& s : gemm_weight_spaces(spec)) {
    spaces.push_back(weight_space(b, op.weights.resident, s.name, s.bytes));
  }
  op.weights.qweight = spaces.at(0);
  op.weights.two_level = op.two_level;
  if (op.two_level) {
    op.weights.channel_scales = spaces.at(1);
    op.weights.group_scales = spaces.at(2);
    op.weights.group_zeros = spaces.at(3);
  } else if (!op.fp16) {
    op.scale = spec.format.metadata.at(0);
    op.offset = spec.format.metadata.at(1);
    op.weights.scales = spaces.at(1);
    op.weights.offsets = spaces.at(2);
  }
  return op;
}

// ---------------------------------------------------------------------------------------------
// Ring declarations and tiles
// ---------------------------------------------------------------------------------------------

void declare_ring(ProgramBuilder& b, Ring& ring, const char* sem_name, const char* name,
                  std::uint64_t bytes, const char* name2 = nullptr, std::uint64_t bytes2 = 0) {
  for (int s = 0; s < kSlots; ++s) {
    ring.buffer[s] = b.scratch_buffer(slot_name(name, s), bytes);
    if (name2) ring.buffer2[s] = b.scratch_buffer(slot_name(name2, s), bytes2);
    if (!ring.declared) {
      ring.full[s] = b.add_semaphore(slot_name(fmt::format("{}.full", sem_name), s), 0);
      ring.free[s] = b.add_semaphore(slot_name(fmt::format("{}.free", sem_name), s), 1);
    }
  }
  ring.declared = true;
}

// Grows the shared buffers to this GEMM's needs, remembers their ids, and declares the
// semaphores on first use.
void declare_shared(ProgramBuilder& b, GemmRing& ring, const OpPlan& op) {
  const SharedNeeds needs = shared_needs(op, op.plan.strip_rows, op.plan.k_chunk, op.plan.m_block);
  if (!op.weights.resident)
    declare_ring(b, ring.packed, "gemm.packed", "gemm.packed", needs.packed);
  if (op.integer() && !op.weights.resident) {
    declare_ring(b, ring.meta, "gemm.meta", "gemm.scales", needs.scales, "gemm.offsets",
                 needs.offsets);
  }
  if (op.unpack) declare_ring(b, ring.codes, "gemm.codes", "gemm.codes", needs.codes);
  declare_ring(b, ring.part, "gemm.part", "gemm.part", needs.part);
  for (int i = 0; i < kScratchCount; ++i) {
    const auto s = static_cast<std::size_t>(i);
    if (needs.scratch[s] > 0)
      ring.scratch[s] = b.scratch_buffer(kScratchNames[s], needs.scratch[s]);
  }
  if (!ring.have_xq_ready) {
    ring.xq_ready = b.add_semaphore("gemm.xq_ready", 0);
    ring.have_xq_ready = true;
  }
}

std::vector<Tile> make_tiles(const OpPlan& op, GemmRing& ring) {
  std::vector<Tile> tiles;
  const GemmPlan& p = op.plan;
  tiles.reserve(p.strips * p.k_chunks);
  for (std::uint64_t s = 0; s < p.strips; ++s) {
    for (std::uint64_t c = 0; c < p.k_chunks; ++c) {
      Tile t;
      t.strip = s;
      t.chunk = c;
      t.n0 = p.strip_first_row(s);
      t.rows = p.strip_row_count(s);
      t.k0 = c * p.k_chunk;
      t.kc = std::min(p.k_chunk, op.k - t.k0);
      t.g0 = op.fp16 ? 0 : t.k0 / op.group;
      t.gc = op.chunk_groups(t.kc);
      t.byte0 = op.spec.format.row_bytes(t.k0);
      t.bytes = op.packed_bytes(t.k0, t.k0 + t.kc);
      if (!op.weights.resident) t.packed = ring.packed.next();
      if (op.integer() && !op.weights.resident) t.meta = ring.meta.next();
      if (op.unpack) t.codes = ring.codes.next();
      t.part_base = ring.part.count;
      ring.part.count += p.m_blocks;
      t.first = tiles.empty();
      tiles.push_back(t);
    }
  }
  return tiles;
}

// ---------------------------------------------------------------------------------------------
// MEM queue
// ---------------------------------------------------------------------------------------------

void emit_loads(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  if (op.weights.resident) return;
  const Unit mem = Unit::kMem;
  b.wait(mem, ring.packed.free[t.packed]);
  b.load(ring.packed.buffer[t.packed], 0, op.weights.qweight, t.n0 * op.row_bytes + t.byte0,
         t.bytes, t.rows, op.row_bytes);
  b.notify(mem, ring.packed.full[t.packed]);
  if (!op.integer()) return;
  b.wait(mem, ring.meta.free[t.meta]);
  if (op.two_level) {
    // s2 then z of the tile's groups, and s1 of its rows (every tile's epilogue applies s1).
    const TwoLevelFields& f = two_level_fields();
    const std::uint32_t slot = ring.meta.buffer[t.meta];
    const std::uint64_t first = t.n0 * op.groups + t.g0;
    b.load(slot, 0, *op.weights.group_scales, first * f.group_scale.bytes(),
           t.gc * f.group_scale.bytes(), t.rows, op.groups * f.group_scale.bytes());
    b.load(slot, t.rows * t.gc * f.group_scale.bytes(), *op.weights.group_zeros,
           first * f.group_zero.bytes(), t.gc * f.group_zero.bytes(), t.rows,
           op.groups * f.group_zero.bytes());
    b.load(ring.meta.buffer2[t.meta], 0, *op.weights.channel_scales, t.n0 * f.channel_scale.bytes(),
           t.rows * f.channel_scale.bytes());
    b.notify(mem, ring.meta.full[t.meta]);
    return;
  }
  const auto load_field = [&](std::uint32_t slot, std::uint32_t region, const MetadataField& f) {
    b.load(slot, 0, region, (t.n0 * op.groups + t.g0) * f.bytes(), t.gc * f.bytes(), t.rows,
           op.groups * f.bytes());
  };
  load_field(ring.meta.buffer[t.meta], *op.weights.scales, op.scale);
  load_field(ring.meta.buffer2[t.meta], *op.weights.offsets, op.offset);
  b.notify(mem, ring.meta.full[t.meta]);
}

// ---------------------------------------------------------------------------------------------
// VXM queue: prologue (activation quantization), unpack, epilogue
// ---------------------------------------------------------------------------------------------

View x_rows(const GemmIo& io, std::uint64_t r0) {
  return View{io.x.space, io.x.offset + r0 * static_cast<std::uint64_t>(io.x.row_stride), kF32Bytes,
              io.x.row_stride};
}

// xsum[m][g] = x[m][gG] + x[m][gG + 1] + ... in k order: one RSUM over every (row, group) when X
// is contiguous and k a multiple of G, else a loop over rows or over groups (the fewer), plus one
// RSUM for the short last group.
void emit_group_sums(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op) {
  const std::uint32_t xsum = ring.id(Scratch::kXSum);
  const auto g = static_cast<std::int64_t>(op.group);
  const std::uint64_t full = op.k / op.group;
  const std::uint64_t tail = op.k % op.group;
  const ElemType f32 = ElemType::kF32;
  const std::int64_t x_row = op.io.x.row_stride;
  if (tail == 0 && x_row == static_cast<std::int64_t>(op.k) * kF32Bytes) {
    b.reduce(Opcode::kRsum, f32, View{xsum, 0, kF32Bytes, 0},
             View{op.io.x.space, op.io.x.offset, kF32Bytes, g * kF32Bytes},
             Shape{op.m * op.groups, op.group});
    return;
  }
  const auto xsum_row = static_cast<std::int64_t>(op.groups) * kF32Bytes;
  if (full > 0 && op.m <= full) {
    // One RSUM per row m (repeated): xsum[m][0..full) from row m's groups.
    b.reduce(Opcode::kRsum, f32, View{xsum, 0, kF32Bytes, 0},
             View{op.io.x.space, op.io.x.offset, kF32Bytes, g * kF32Bytes}, Shape{full, op.group},
             Repeat{op.m, xsum_row, x_row, 0});
  } else if (full > 0) {
    // One RSUM per full group j (repeated): xsum[0..m)[j] from group j of every row.
    b.reduce(Opcode::kRsum, f32, View{xsum, 0, xsum_row, 0},
             View{op.io.x.space, op.io.x.offset, kF32Bytes, x_row}, Shape{op.m, op.group},
             Repeat{full, kF32Bytes, g * kF32Bytes, 0});
  }
  if (tail > 0) {
    b.reduce(Opcode::kRsum, f32, View{xsum, full * kF32Bytes, xsum_row, 0},
             View{op.io.x.space, op.io.x.offset + full * op.group * kF32Bytes, kF32Bytes, x_row},
             Shape{op.m, tail});
  }
}

// x_scale[m] = max(max_k |x[m][k]| * f32(1/127), 2^-126); xq = CVT.i8.f32(x * (1 / x_scale)).
void emit_quantize_int8(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op) {
  const std::uint32_t tmp = ring.id(Scratch::kXTmp);
  const std::uint32_t xs = ring.id(Scratch::kXScale);
  const std::uint32_t inv = ring.id(Scratch::kXInv);
  const std::uint32_t xq = ring.id(Scratch::kXq);
  const std::uint64_t block =
      std::clamp<std::uint64_t>(kPrologueScratchBytes / (op.k * kF32Bytes), 1, op.m);
  const auto k_row = static_cast<std::int64_t>(op.k);
  const View t{tmp, 0, kF32Bytes, k_row * kF32Bytes};
  for (std::uint64_t r0 = 0; r0 < op.m; r0 += block) {
    const Shape shape{std::min(block, op.m - r0), op.k};
    b.unary(Opcode::kAbs, ElemType::kF32, t, x_rows(op.io, r0), shape);
    b.reduce(Opcode::kRmax, ElemType::kF32, View{xs, r0 * kF32Bytes, kF32Bytes, 0}, t, shape);
  }
  const View scale = contiguous_view(xs, 0, ElemType::kF32, op.m);
  const View inverse = contiguous_view(inv, 0, ElemType::kF32, op.m);
  b.vector_imm(Opcode::kMul, ElemType::kF32, scale, scale, kActivationScaleImm, Shape{1, op.m});
  b.vector_imm(Opcode::kMax, ElemType::kF32, scale, scale, kActivationScaleFloor, Shape{1, op.m});
  b.unary(Opcode::kRecip, ElemType::kF32, inverse, scale, Shape{1, op.m});
  for (std::uint64_t r0 = 0; r0 < op.m; r0 += block) {
    const Shape shape{std::min(block, op.m - r0), op.k};
    b.vector(Opcode::kMul, ElemType::kF32, t, x_rows(op.io, r0),
             View{inv, r0 * kF32Bytes, 0, kF32Bytes}, shape);
    b.convert(ElemType::kI8, ElemType::kF32, View{xq, r0 * op.k, 1, k_row}, t, shape);
  }
}

void emit_prologue(ProgramBuilder& b, GemmRing& ring, const OpPlan& op) {
  const ScopedTag tag(b, op.tag);
  if (op.io.x_ready) b.wait(Unit::kVxm, *op.io.x_ready);
  if (op.io.reuse_quantized_x) return;
  if (op.fp16) {
    const View xq{ring.id(Scratch::kXq), 0, kFp16Bytes,
                  static_cast<std::int64_t>(op.k) * kFp16Bytes};
    b.convert(ElemType::kF16, ElemType::kF32, xq, x_rows(op.io, 0), Shape{op.m, op.k});
  } else {
    if (!op.two_level) emit_group_sums(b, ring, op);  // two-level folds offsets into the codes
    emit_quantize_int8(b, ring, op);
  }
  b.notify(Unit::kVxm, ring.xq_ready);
}

// Two-level: the tile's codes c -> int8 q = s2 * c + z in place, per group (s2 and z broadcast
// along the group's k). Computed in i8 with wrap-around: s2 (u8) read as i8 is s2 - 256 when
// above 127, which is the same number modulo 256, and as the true q lies in [-128, 127] by
// construction (docs/FORMATS.md "Two-level scales") the wrapped result is q exactly. Waits for
// the tile's metadata, which the epilogue (s1) releases.
void emit_two_level_dequantize(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op,
                               const Tile& t) {
  const bool streamed = !op.weights.resident;
  if (streamed) b.wait(Unit::kVxm, ring.meta.full[t.meta]);
  const auto kc_row = static_cast<std::int64_t>(t.kc);
  // s2 and z as [rows][gc] byte arrays (row stride in bytes), element (n, g).
  View s2;
  View z;
  if (streamed) {
    const auto gc = static_cast<std::int64_t>(t.gc);
    s2 = View{ring.meta.buffer[t.meta], 0, 0, gc};
    z = View{ring.meta.buffer[t.meta], t.rows * t.gc, 0, gc};
  } else {
    const auto groups = static_cast<std::int64_t>(op.groups);
    const std::uint64_t first = t.n0 * op.groups + t.g0;
    s2 = View{*op.weights.group_scales, first, 0, groups};
    z = View{*op.weights.group_zeros, first, 0, groups};
  }
  const std::uint32_t codes = ring.codes.buffer[t.codes];
  const std::uint64_t full = t.kc / op.group;
  const std::uint64_t tail = t.kc % op.group;
  const auto group = static_cast<std::int64_t>(op.group);
  const auto apply = [&](std::uint64_t g, std::uint64_t width, std::uint64_t count) {
    const View c{codes, g * op.group, 1, kc_row};
    const View s2g{s2.space, s2.offset + g, 0, s2.row_stride};
    const View zg{z.space, z.offset + g, 0, z.row_stride};
    const Repeat each{count, group, group, 1};
    b.vector(Opcode::kMul, ElemType::kI8, c, c, s2g, Shape{t.rows, width}, each);
    b.vector(Opcode::kAdd, ElemType::kI8, c, c, zg, Shape{t.rows, width}, each);
  };
  if (full > 0) apply(0, op.group, full);
  if (tail > 0) apply(full, tail, 1);
}

void emit_tile_unpack(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  if (!op.unpack) return;
  const ScopedTag tag(b, op.tag);
  const Unit vxm = Unit::kVxm;
  const bool streamed = !op.weights.resident;
  if (streamed) b.wait(vxm, ring.packed.full[t.packed]);
  b.wait(vxm, ring.codes.free[t.codes]);
  UnpackOperands u;
  u.packed_buffer = streamed ? ring.packed.buffer[t.packed] : op.weights.qweight;
  u.packed_offset = streamed ? 0 : t.n0 * op.row_bytes + t.byte0;
  u.packed_row_stride = streamed ? t.bytes : op.row_bytes;
  u.codes_buffer = ring.codes.buffer[t.codes];
  u.codes_row_stride = t.kc;
  const std::uint32_t scratch = ring.scratch[static_cast<std::size_t>(Scratch::kUnpack)];
  if (scratch != GemmRing::kNone) u.scratch_buffer = scratch;
  emit_unpack(b, op.spec.format, t.rows, t.kc, u);
  if (streamed) b.notify(vxm, ring.packed.free[t.packed]);
  if (op.two_level) emit_two_level_dequantize(b, ring, op, t);
  b.notify(vxm, ring.codes.full[t.codes]);
}

// Where this m block's rows of y[., n0:n0+rows] go: Y itself for the first k chunk, else ysum.
struct EpilogueTarget {
  View y;     // rows m0.. of Y at column n0
  View ysum;  // [mb][rows] scratch
  bool accumulate = false;
};

// The tile's scales and offsets [rows][gc] (in the element types of the format's metadata fields)
// -> f32, transposed to [gc][rows] so that the epilogue can broadcast them over activation rows.
void convert_metadata(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const Unit vxm = Unit::kVxm;
  const bool streamed = !op.weights.resident;
  if (op.two_level) {
    // s1 of the tile's rows -> f32 [rows]; the unpack already waited for the metadata.
    const View s1 = streamed ? View{ring.meta.buffer2[t.meta], 0, kFp16Bytes,
                                    static_cast<std::int64_t>(t.rows) * kFp16Bytes}
                             : View{*op.weights.channel_scales, t.n0 * kFp16Bytes, kFp16Bytes,
                                    static_cast<std::int64_t>(t.rows) * kFp16Bytes};
    b.convert(ElemType::kF32, ElemType::kF16,
              contiguous_view(ring.id(Scratch::kScalesF32), 0, ElemType::kF32, t.rows), s1,
              Shape{1, t.rows});
    if (streamed) b.notify(vxm, ring.meta.free[t.meta]);
    return;
  }
  if (streamed) b.wait(vxm, ring.meta.full[t.meta]);
  // Field f of the tile: its ring slot [rows][gc] (streamed; t.meta is a slot only then) or its
  // rows of the resident buffer.
  const auto source = [&](const MetadataField& f, const auto& slots,
                          const std::optional<std::uint32_t>& resident) {
    const auto es = static_cast<std::int64_t>(f.bytes());
    if (streamed) return View{slots[t.meta], 0, es, static_cast<std::int64_t>(t.gc) * es};
    return View{resident.value(), (t.n0 * op.groups + t.g0) * f.bytes(), es,
                static_cast<std::int64_t>(op.groups) * es};
  };
  const View scales = source(op.scale, ring.meta.buffer, op.weights.scales);
  const View offsets = source(op.offset, ring.meta.buffer2, op.weights.offsets);
  const Shape shape{t.rows, t.gc};
  const auto transposed_col = static_cast<std::int64_t>(t.rows) * kF32Bytes;
  b.convert(ElemType::kF32, op.scale.type,
            View{ring.id(Scratch::kScalesF32), 0, transposed_col, kF32Bytes}, scales, shape);
  b.convert(ElemType::kF32, op.offset.type,
            View{ring.id(Scratch::kOffsetsF32), 0, transposed_col, kF32Bytes}, offsets, shape);
  if (streamed) b.notify(vxm, ring.meta.free[t.meta]);
}

// Views of one m block's partials P[mb][gc][rows] (f32 after the first CVT) and of what the
// epilogue combines them with (scales and offsets transposed to [gc][rows]). The ops that mix
// an activation-row quantity with a group quantity loop over m rows or over groups, whichever
// is fewer.
struct EpilogueViews {
  std::uint32_t part = 0, scales = 0, offsets = 0, xsum = 0;
  std::uint64_t rows = 0, gc = 0, mb = 0, m0 = 0, g0 = 0, all_groups = 0;
  bool per_row = true;

  std::int64_t row_bytes() const { return static_cast<std::int64_t>(rows) * kF32Bytes; }
  std::int64_t plane() const { return static_cast<std::int64_t>(gc) * row_bytes(); }
  std::uint64_t u(std::int64_t bytes) const { return static_cast<std::uint64_t>(bytes); }
  Shape shape() const { return per_row ? Shape{gc, rows} : Shape{mb, rows}; }
  // All of P as [mb][gc * rows].
  View all() const { return View{part, 0, kF32Bytes, plane()}; }
  // P[m = i] as [gc][rows], or P[., g = i, .] as [mb][rows].
  View p(std::uint64_t i) const {
    return per_row ? View{part, i * u(plane()), kF32Bytes, row_bytes()}
                   : View{part, i * u(row_bytes()), kF32Bytes, plane()};
  }
  // Transposed metadata [gc][rows] matching p(i) (broadcast over m rows when per group).
  View metadata(std::uint32_t space, std::uint64_t i) const {
    return per_row ? View{space, 0, kF32Bytes, row_bytes()}
                   : View{space, i * u(row_bytes()), kF32Bytes, 0};
  }
  // xsum[m0 + m][g0 + g] broadcast along n, matching p(i).
  View group_sum(std::uint64_t i) const {
    return per_row ? View{xsum, ((m0 + i) * all_groups + g0) * kF32Bytes, 0, kF32Bytes}
                   : View{xsum, (m0 * all_groups + g0 + i) * kF32Bytes, 0, xsum_row()};
  }
  std::int64_t xsum_row() const { return static_cast<std::int64_t>(all_groups) * kF32Bytes; }
  // The repeat that steps p(i), metadata(., i) and group_sum(i) from i to i + 1: over the mb
  // rows (per row) or the gc groups (per group).
  Repeat each() const {
    return per_row ? Repeat{mb, plane(), 0, xsum_row()}
                   : Repeat{gc, row_bytes(), row_bytes(), kF32Bytes};
  }
};

// sink[m][n] = P[m][g0][n] + P[m][g0 + 1][n] + ... in group order.
void sum_groups(ProgramBuilder& b, const EpilogueViews& v, const View& sink) {
  const ElemType f32 = ElemType::kF32;
  if (v.per_row) {
    // Row m: sink[m][n] = RSUM over g of P[m] seen as [n][g]; repeated over the mb rows.
    const View groups{v.part, 0, v.row_bytes(), kF32Bytes};
    b.reduce(Opcode::kRsum, f32, View{sink.space, sink.offset, kF32Bytes, 0}, groups,
             Shape{v.rows, v.gc}, Repeat{v.mb, sink.row_stride, v.plane(), 0});
    return;
  }
  b.unary(Opcode::kMov, f32, sink, v.p(0), Shape{v.mb, v.rows});
  if (v.gc > 1) {
    // sink += P[., g, .] for g = 1, 2, ... in order: one ADD repeated over the groups.
    b.vector(Opcode::kAdd, f32, sink, sink, v.p(1), Shape{v.mb, v.rows},
             Repeat{v.gc - 1, 0, 0, v.row_bytes()});
  }
}

// y[m][n] (+)= sum_g (P[m][g][n] * scale[n][g] * x_scale[m] + offset[n][g] * xsum[m][g]).
void emit_integer_epilogue(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t,
                           std::uint32_t part, std::uint64_t m0, std::uint64_t mb,
                           const EpilogueTarget& target) {
  EpilogueViews v;
  v.part = part;
  v.scales = ring.id(Scratch::kScalesF32);
  v.offsets = ring.id(Scratch::kOffsetsF32);
  v.xsum = ring.id(Scratch::kXSum);
  v.rows = t.rows;
  v.gc = t.gc;
  v.mb = mb;
  v.m0 = m0;
  v.g0 = t.g0;
  v.all_groups = op.groups;
  v.per_row = mb <= t.gc;
  const ElemType f32 = ElemType::kF32;
  const Shape everything{mb, t.gc * t.rows};
  const View flat{part, 0, kF32Bytes, v.row_bytes()};
  b.convert(f32, ElemType::kI32, flat, flat, Shape{mb * t.gc, t.rows});
  // scale[n][g] as [gc * rows], the same for every activation row.
  b.vector(Opcode::kMul, f32, v.all(), v.all(), View{v.scales, 0, kF32Bytes, 0}, everything);
  const View x_scale{ring.id(Scratch::kXScale), m0 * kF32Bytes, 0, kF32Bytes};
  b.vector(Opcode::kMul, f32, v.all(), v.all(), x_scale, everything);
  b.vector(Opcode::kMad, f32, v.p(0), v.metadata(v.offsets, 0), v.group_sum(0), v.shape(),
           v.each());
  sum_groups(b, v, target.accumulate ? target.ysum : target.y);
  if (target.accumulate) {
    b.vector(Opcode::kAdd, f32, target.y, target.y, target.ysum, Shape{mb, t.rows});
  }
}

// Two-level: y[m][n] (+)= P[m][n] * s1[n] * x_scale[m], P the int32 sums over the k chunk.
void emit_two_level_epilogue(ProgramBuilder& b, const GemmRing& ring, const Tile& t,
                             std::uint32_t part, std::uint64_t m0, std::uint64_t mb,
                             const EpilogueTarget& target) {
  const ElemType f32 = ElemType::kF32;
  const Shape shape{mb, t.rows};
  const View p{part, 0, kF32Bytes, static_cast<std::int64_t>(t.rows) * kF32Bytes};
  b.convert(f32, ElemType::kI32, p, p, shape);
  b.vector(Opcode::kMul, f32, p, p, View{ring.id(Scratch::kScalesF32), 0, kF32Bytes, 0}, shape);
  const View x_scale{ring.id(Scratch::kXScale), m0 * kF32Bytes, 0, kF32Bytes};
  b.vector(Opcode::kMul, f32, target.accumulate ? target.ysum : target.y, p, x_scale, shape);
  if (target.accumulate) b.vector(Opcode::kAdd, f32, target.y, target.y, target.ysum, shape);
}

void emit_epilogue(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const ScopedTag tag(b, op.tag);
  const Unit vxm = Unit::kVxm;
  const auto y_row = static_cast<std::uint64_t>(op.io.y.row_stride);
  for (std::uint64_t j = 0; j < op.plan.m_blocks; ++j) {
    const int slot = t.part(j);
    const std::uint32_t part = ring.part.buffer[slot];
    const std::uint64_t m0 = j * op.plan.m_block;
    const std::uint64_t mb = std::min(op.plan.m_block, op.m - m0);
    b.wait(vxm, ring.part.full[slot]);
    if (j == 0 && op.integer()) convert_metadata(b, ring, op, t);
    EpilogueTarget target;
    target.y = View{op.io.y.space, op.io.y.offset + m0 * y_row + t.n0 * kF32Bytes, kF32Bytes,
                    op.io.y.row_stride};
    target.accumulate = t.chunk > 0;
    if (op.integer()) {
      if (target.accumulate) {
        target.ysum = View{ring.id(Scratch::kYsum), 0, kF32Bytes,
                           static_cast<std::int64_t>(t.rows) * kF32Bytes};
      }
      if (op.two_level) {
        emit_two_level_epilogue(b, ring, t, part, m0, mb, target);
      } else {
        emit_integer_epilogue(b, ring, op, t, part, m0, mb, target);
      }
    } else {
      const View p{part, 0, kF32Bytes, static_cast<std::int64_t>(t.rows) * kF32Bytes};
      if (target.accumulate) {
        b.vector(Opcode::kAdd, ElemType::kF32, target.y, target.y, p, Shape{mb, t.rows});
      } else {
        b.unary(Opcode::kMov, ElemType::kF32, target.y, p, Shape{mb, t.rows});
      }
    }
    b.notify(vxm, ring.part.free[slot]);
  }
}

void GemmRing::flush(ProgramBuilder& builder) {
  for (const auto& [op, tile] : pending) emit_epilogue(builder, *this, *op, tile);
  pending.clear();
}

void emit_vxm(ProgramBuilder& b, GemmRing& ring, const std::shared_ptr<const OpPlan>& op,
              const std::vector<Tile>& tiles) {
  if (ring.pending.empty()) {
    emit_prologue(b, ring, *op);
    emit_tile_unpack(b, ring, *op, tiles[0]);
  } else {
    emit_tile_unpack(b, ring, *op, tiles[0]);  // overlaps the previous GEMM's last matmul
    ring.flush(b);
    emit_prologue(b, ring, *op);
  }
  for (std::size_t i = 1; i < tiles.size(); ++i) {
    emit_tile_unpack(b, ring, *op, tiles[i]);  // unpack t+1 before the epilogue of t
    emit_epilogue(b, ring, *op, tiles[i - 1]);
  }
  ring.pending.emplace_back(op, tiles.back());
}

// ---------------------------------------------------------------------------------------------
// MXM queue
// ---------------------------------------------------------------------------------------------

View weight_view(const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const std::int64_t es = op.fp16 ? kFp16Bytes : kInt8Bytes;
  if (op.unpack) return View{ring.codes.buffer[t.codes], 0, 1, static_cast<std::int64_t>(t.kc)};
  if (!op.weights.resident) {
    return View{ring.packed.buffer[t.packed], 0, es, static_cast<std::int64_t>(t.bytes)};
  }
  return View{op.weights.qweight, t.n0 * op.row_bytes + t.byte0, es,
              static_cast<std::int64_t>(op.row_bytes)};
}

void emit_matmuls(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const Unit mxm = Unit::kMxm;
  const bool streamed = !op.weights.resident;
  if (op.unpack) {
    b.wait(mxm, ring.codes.full[t.codes]);
  } else if (streamed) {
    b.wait(mxm, ring.packed.full[t.packed]);
  }
  if (t.first && !op.io.reuse_quantized_x) b.wait(mxm, ring.xq_ready);
  const View w = weight_view(ring, op, t);
  const std::uint32_t xq = ring.id(Scratch::kXq);
  const ElemType mode = op.fp16 ? ElemType::kF16 : ElemType::kI8;
  for (std::uint64_t j = 0; j < op.plan.m_blocks; ++j) {
    const int slot = t.part(j);
    const std::uint64_t m0 = j * op.plan.m_block;
    const std::uint64_t mb = std::min(op.plan.m_block, op.m - m0);
    const View x{xq, (m0 * op.k + t.k0) * static_cast<std::uint64_t>(op.xq_bytes), op.xq_bytes,
                 static_cast<std::int64_t>(op.k) * op.xq_bytes};
    b.wait(mxm, ring.part.free[slot]);
    b.matmul(mode, ring.part.buffer[slot], 0, w, x, static_cast<std::uint32_t>(mb),
             static_cast<std::uint32_t>(t.kc), static_cast<std::uint32_t>(t.rows), op.kgroup());
    b.notify(mxm, ring.part.full[slot]);
  }
  if (op.unpack) {
    b.notify(mxm, ring.codes.free[t.codes]);
  } else if (streamed) {
    b.notify(mxm, ring.packed.free[t.packed]);
  }
}

void check_io(const OpPlan& op, GemmRing& ring) {
  if (op.io.x.col_stride != kF32Bytes || op.io.y.col_stride != kF32Bytes ||
      op.io.x.row_stride < static_cast<std::int64_t>(op.k) * kF32Bytes ||
      op.io.y.row_stride < static_cast<std::int64_t>(op.n) * kF32Bytes) {
    throw InputError(fmt::format(
        "GEMM {}: X and Y must be f32 rows (col stride 4, row stride >= a row)", op.spec.name));
  }
  if (op.io.reuse_quantized_x && (!ring.have_last || ring.last_m != op.m || ring.last_k != op.k ||
                                  ring.last_group != op.group || ring.last_fp16 != op.fp16 ||
                                  ring.last_two_level != op.two_level)) {
    throw InputError(fmt::format(
        "GEMM {}: reuse_quantized_x needs a previous GEMM with the same m, k, group size, "
        "activation type and group kernel",
        op.spec.name));
  }
  ring.have_last = true;
  ring.last_m = op.m;
  ring.last_k = op.k;
  ring.last_group = op.group;
  ring.last_fp16 = op.fp16;
  ring.last_two_level = op.two_level;
}

}  // namespace

bool uses_two_level(const GemmSpec& spec) {
  return spec.group_kernel == GroupKernel::kTwoLevel && !spec.format.is_float() &&
         spec.group_size != kPerChannel && static_cast<std::uint64_t>(spec.group_size) < spec.k;
}

std::vector<GemmWeightSpace> gemm_weight_spaces(const GemmSpec& spec) {
  const std::uint64_t n = spec.n;
  std::vector<GemmWeightSpace> spaces = {
      {spec.name + ".qweight", n * spec.format.row_bytes(spec.k)}};
  if (spec.format.is_float()) return spaces;
  const std::uint64_t groups = group_count(spec.k, spec.group_size);
  const auto add = [&](const MetadataField& field, std::uint64_t per_row) {
    spaces.push_back({spec.name + "." + field.name, n * per_row * field.bytes()});
  };
  if (uses_two_level(spec)) {
    const TwoLevelFields& f = two_level_fields();
    add(f.channel_scale, 1);
    add(f.group_scale, groups);
    add(f.group_zero, groups);
  } else {
    add(spec.format.metadata.at(0), groups);
    add(spec.format.metadata.at(1), groups);
  }
  return spaces;
}

GemmEmitted emit_gemm(ProgramBuilder& builder, const GemmSpec& spec, const HwConfig& hw,
                      const GemmIo& io) {
  check_spec(spec, hw);
  GemmRing& ring = builder.extension<GemmRing>();
  auto op = std::make_shared<OpPlan>(make_plan(builder, spec, hw, io));
  check_io(*op, ring);
  choose_tiling(builder, *op, hw);
  declare_shared(builder, ring, *op);
  const std::vector<Tile> tiles = make_tiles(*op, ring);
  {
    const ScopedTag tag(builder, op->tag);
    for (const Tile& t : tiles) emit_loads(builder, ring, *op, t);
    for (const Tile& t : tiles) emit_matmuls(builder, ring, *op, t);
  }
  emit_vxm(builder, ring, op, tiles);
  return GemmEmitted{op->weights, op->plan};
}

GemmKernel build_gemm_program(const GemmSpec& spec, const HwConfig& hw) {
  check_spec(spec, hw);
  ProgramBuilder b;
  GemmKernel kernel;
  const std::uint64_t x_bytes = spec.m * spec.k * kF32Bytes;
  const std::uint64_t y_bytes = spec.m * spec.n * kF32Bytes;
  b.set_tag(b.intern_tag(spec.name));
  kernel.x_region = b.add_region(spec.name + ".x", x_bytes);
  kernel.y_region = b.add_region(spec.name + ".y", y_bytes);
  kernel.x_buffer = b.add_buffer(spec.name + ".x", x_bytes);
  kernel.y_buffer = b.add_buffer(spec.name + ".y", y_bytes);
  const std::uint32_t x_ready = b.add_semaphore(spec.name + ".x_ready");
  const std::uint32_t y_ready = b.add_semaphore(spec.name + ".y_ready");
  b.load(kernel.x_buffer, 0, kernel.x_region, 0, x_bytes);
  b.notify(Unit::kMem, x_ready);
  GemmIo io;
  io.x = View{kernel.x_buffer, 0, kF32Bytes, static_cast<std::int64_t>(spec.k) * kF32Bytes};
  io.y = View{kernel.y_buffer, 0, kF32Bytes, static_cast<std::int64_t>(spec.n) * kF32Bytes};
  io.x_ready = x_ready;
  kernel.gemm = emit_gemm(b, spec, hw, io);
  b.flush();
  b.notify(Unit::kVxm, y_ready);
  b.wait(Unit::kMem, y_ready);
  b.store(kernel.y_region, 0, kernel.y_buffer, 0, y_bytes);
  kernel.program = b.finish();
  check_sram_capacity(kernel.program, hw.sram.capacity);
  return kernel;
}

}  // namespace lpusim
