// GEMM kernel generator: plans strips / k chunks / m blocks to fit SRAM, then emits per queue the
// ring protocol of docs/ISA.md "Kernels" (MEM loads, VXM unpack and epilogue, MXM matmuls).
#include "kernels/gemm_kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "kernels/unpack_kernel.h"

namespace lpusim {
namespace {

constexpr std::int64_t kF32Bytes = 4;
constexpr std::int64_t kF16Bytes = 2;
constexpr std::uint64_t kPrologueScratchBytes = 1u << 20;  // f32 rows of X per prologue block
constexpr int kSlots = 2;                                  // double buffering

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
  std::uint64_t m = 0, k = 0, n = 0;
  std::uint64_t group = 0;      // k per scale group (k itself when per-channel)
  std::uint64_t groups = 0;     // groups per row
  std::uint64_t row_bytes = 0;  // packed bytes per weight row
  std::uint64_t quantum = 0;    // k chunks are multiples of this
  std::int64_t xq_bytes = 1;    // bytes per quantized activation (i8, or f16 for fp16)

  bool integer() const { return !fp16; }
  std::uint64_t chunk_groups(std::uint64_t kc) const { return fp16 ? 1 : (kc + group - 1) / group; }
  std::uint64_t packed_bytes(std::uint64_t k_begin, std::uint64_t k_end) const {
    return spec.format.row_bytes(k_end) - spec.format.row_bytes(k_begin);
  }
  std::uint32_t kgroup() const {
    return fp16 || group == k ? 0u : static_cast<std::uint32_t>(group);
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
  std::vector<int> parts;  // part slot per m block
  bool first = false;      // first tile of its GEMM
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

struct SharedBuffer {
  const char* name;
  std::uint64_t bytes;
  bool ring_slot = false;  // one slot of a Ring (declared with its semaphores)
};

class GemmRing : public BuilderExtension {
 public:
  void flush(ProgramBuilder& builder) override;

  Ring packed, meta, codes, part;
  std::uint32_t xq_ready = 0;
  bool have_xq_ready = false;
  std::vector<std::pair<std::shared_ptr<const OpPlan>, Tile>> pending;
  // The activations quantized last (for reuse_quantized_x).
  std::uint64_t last_m = 0, last_k = 0, last_group = 0;
  bool last_fp16 = false, have_last = false;
};

class ScopedTag {
 public:
  ScopedTag(ProgramBuilder& b, std::uint32_t tag) : b_(b), saved_(b.tag()) { b.set_tag(tag); }
  ~ScopedTag() { b_.set_tag(saved_); }
  ScopedTag(const ScopedTag&) = delete;
  ScopedTag& operator=(const ScopedTag&) = delete;

 private:
  ProgramBuilder& b_;
  std::uint32_t saved_;
};

// Shared buffers (sized for the largest GEMM) a GEMM needs with k chunks of kc and m blocks of
// mb rows.
std::vector<SharedBuffer> shared_needs(const OpPlan& op, std::uint64_t kc, std::uint64_t mb) {
  const std::uint64_t r = op.plan.strip_rows;
  const std::uint64_t gc = op.chunk_groups(kc);
  const bool streamed = !op.weights.resident;
  const std::uint64_t slot_bytes = r * op.packed_bytes(0, kc);
  const std::uint64_t meta_bytes = op.integer() && streamed ? r * gc * kF16Bytes : 0;
  const std::uint64_t codes_bytes = op.unpack ? r * kc : 0;
  const std::uint64_t part_bytes = mb * gc * r * kF32Bytes;
  const std::uint64_t x_rows =
      std::clamp<std::uint64_t>(kPrologueScratchBytes / (op.k * kF32Bytes), 1, op.m);
  const std::uint64_t act = op.integer() ? op.m * kF32Bytes : 0;
  return {
      {"gemm.packed0", streamed ? slot_bytes : 0, true},
      {"gemm.packed1", streamed ? slot_bytes : 0, true},
      {"gemm.scales0", meta_bytes, true},
      {"gemm.scales1", meta_bytes, true},
      {"gemm.offsets0", meta_bytes, true},
      {"gemm.offsets1", meta_bytes, true},
      {"gemm.codes0", codes_bytes, true},
      {"gemm.codes1", codes_bytes, true},
      {"gemm.part0", part_bytes, true},
      {"gemm.part1", part_bytes, true},
      {"gemm.unpack_scratch", op.unpack ? unpack_scratch_bytes(op.spec.format, r, kc) : 0},
      {"gemm.scales_f32", op.integer() ? r * gc * kF32Bytes : 0},
      {"gemm.offsets_f32", op.integer() ? r * gc * kF32Bytes : 0},
      {"gemm.ysum", op.integer() && kc < op.k ? mb * r * kF32Bytes : 0},
      {"gemm.x_tmp", op.integer() ? x_rows * op.k * kF32Bytes : 0},
      {"gemm.xq", op.m * op.k * static_cast<std::uint64_t>(op.xq_bytes)},
      {"gemm.x_scale", act},
      {"gemm.x_inv", act},
      {"gemm.x_sum", op.integer() ? op.m * op.groups * kF32Bytes : 0},
  };
}

// SRAM of the program once the shared buffers have grown to `needs`.
std::uint64_t sram_with(const ProgramBuilder& b, const std::vector<SharedBuffer>& needs) {
  std::uint64_t total = b.program().sram_bytes();
  for (const SharedBuffer& need : needs) {
    const auto id = b.find_buffer(need.name);
    const std::uint64_t have = id ? b.program().buffers[*id].bytes : 0;
    total += need.bytes > have ? need.bytes - have : 0;
  }
  return total;
}

// Picks the largest k chunk, then the largest m block, whose buffers fit in SRAM.
void choose_tiling(const ProgramBuilder& b, OpPlan& op, const HwConfig& hw) {
  const std::uint64_t capacity = hw.sram.capacity.count;
  const std::uint64_t quanta = (op.k + op.quantum - 1) / op.quantum;
  for (std::uint64_t blocks = 1;; blocks *= 2) {
    const std::uint64_t mb = (op.m + blocks - 1) / blocks;
    for (std::uint64_t q = quanta; q >= 1; --q) {
      const std::uint64_t kc = std::min(op.k, q * op.quantum);
      if (sram_with(b, shared_needs(op, kc, mb)) <= capacity) {
        op.plan.k_chunk = kc;
        op.plan.k_chunks = (op.k + kc - 1) / kc;
        op.plan.m_block = mb;
        op.plan.m_blocks = (op.m + mb - 1) / mb;
        return;
      }
    }
    if (mb == 1) break;
  }
  const std::uint64_t least = sram_with(b, shared_needs(op, std::min(op.k, op.quantum), 1));
  throw SimulationError(fmt::format(
      "GEMM {} (m={} k={} n={}, {}, weights {}): does not fit in SRAM: it needs {} bytes even "
      "with k in chunks of {} and one activation row per matmul ({} of them already declared "
      "for X, Y, earlier kernels{}), but the SRAM holds {} bytes",
      op.spec.name, op.m, op.k, op.n, op.spec.format.name,
      op.weights.resident ? "resident" : "streamed", least, std::min(op.k, op.quantum),
      b.program().sram_bytes(), op.weights.resident ? ", resident weights" : "", capacity));
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
  if (hw.mxm.cols <= 0 || hw.mxm.rows <= 0 || hw.mxm.planes <= 0) {
    throw InputError(fmt::format("GEMM {}: the MXM needs rows, cols and planes >= 1", spec.name));
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
  op.m = spec.m;
  op.k = spec.k;
  op.n = spec.n;
  op.group = op.fp16 || spec.group_size == kPerChannel
                 ? op.k
                 : static_cast<std::uint64_t>(spec.group_size);
  op.groups = op.fp16 ? 1 : group_count(op.k, spec.group_size);
  op.row_bytes = spec.format.row_bytes(op.k);
  op.xq_bytes = op.fp16 ? kF16Bytes : 1;
  op.quantum =
      op.fp16
          ? 1
          : std::lcm<std::uint64_t>(
                op.group, static_cast<std::uint64_t>(unpack_block(spec.format).weights_per_block));
  op.plan.strip_rows = std::min<std::uint64_t>(op.n, static_cast<std::uint64_t>(hw.mxm.cols));
  op.plan.strips = (op.n + op.plan.strip_rows - 1) / op.plan.strip_rows;
  op.plan.groups = op.groups;

  op.weights.resident = hw.weights == WeightPlacement::kResident;
  const bool res = op.weights.resident;
  op.weights.qweight = weight_space(b, res, spec.name + ".qweight", op.n * op.row_bytes);
  if (!op.fp16) {
    const std::uint64_t meta = op.n * op.groups * kF16Bytes;
    op.weights.scales = weight_space(b, res, spec.name + ".scales", meta);
    op.weights.offsets = weight_space(b, res, spec.name + ".offsets", meta);
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

std::uint64_t need_of(const std::vector<SharedBuffer>& needs, std::string_view name) {
  for (const SharedBuffer& s : needs) {
    if (name == s.name) return s.bytes;
  }
  return 0;
}

// Grows the shared buffers to this GEMM's needs and declares the semaphores on first use.
void declare_shared(ProgramBuilder& b, GemmRing& ring, const OpPlan& op) {
  const std::vector<SharedBuffer> needs = shared_needs(op, op.plan.k_chunk, op.plan.m_block);
  if (!op.weights.resident) {
    declare_ring(b, ring.packed, "gemm.packed", "gemm.packed", need_of(needs, "gemm.packed0"));
  }
  if (op.integer() && !op.weights.resident) {
    declare_ring(b, ring.meta, "gemm.meta", "gemm.scales", need_of(needs, "gemm.scales0"),
                 "gemm.offsets", need_of(needs, "gemm.offsets0"));
  }
  if (op.unpack) {
    declare_ring(b, ring.codes, "gemm.codes", "gemm.codes", need_of(needs, "gemm.codes0"));
  }
  declare_ring(b, ring.part, "gemm.part", "gemm.part", need_of(needs, "gemm.part0"));
  for (const SharedBuffer& s : needs) {
    if (!s.ring_slot && s.bytes > 0) b.scratch_buffer(s.name, s.bytes);
  }
  if (!ring.have_xq_ready) {
    ring.xq_ready = b.add_semaphore("gemm.xq_ready", 0);
    ring.have_xq_ready = true;
  }
}

std::vector<Tile> make_tiles(const OpPlan& op, GemmRing& ring) {
  std::vector<Tile> tiles;
  const GemmPlan& p = op.plan;
  for (std::uint64_t s = 0; s < p.strips; ++s) {
    for (std::uint64_t c = 0; c < p.k_chunks; ++c) {
      Tile t;
      t.strip = s;
      t.chunk = c;
      t.n0 = s * p.strip_rows;
      t.rows = std::min(p.strip_rows, op.n - t.n0);
      t.k0 = c * p.k_chunk;
      t.kc = std::min(p.k_chunk, op.k - t.k0);
      t.g0 = op.fp16 ? 0 : t.k0 / op.group;
      t.gc = op.chunk_groups(t.kc);
      t.byte0 = op.spec.format.row_bytes(t.k0);
      t.bytes = op.packed_bytes(t.k0, t.k0 + t.kc);
      if (!op.weights.resident) t.packed = ring.packed.next();
      if (op.integer() && !op.weights.resident) t.meta = ring.meta.next();
      if (op.unpack) t.codes = ring.codes.next();
      for (std::uint64_t j = 0; j < p.m_blocks; ++j) t.parts.push_back(ring.part.next());
      t.first = tiles.empty();
      tiles.push_back(std::move(t));
    }
  }
  return tiles;
}

// ---------------------------------------------------------------------------------------------
// Shared buffer ids (declared by declare_shared)
// ---------------------------------------------------------------------------------------------

std::uint32_t shared(const ProgramBuilder& b, std::string_view name) {
  const auto id = b.find_buffer(name);
  if (!id) throw SimulationError(fmt::format("internal: shared buffer {} missing", name));
  return *id;
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
  const std::uint64_t meta_row = op.groups * kF16Bytes;
  const std::uint64_t meta_at = (t.n0 * op.groups + t.g0) * kF16Bytes;
  b.wait(mem, ring.meta.free[t.meta]);
  b.load(ring.meta.buffer[t.meta], 0, *op.weights.scales, meta_at, t.gc * kF16Bytes, t.rows,
         meta_row);
  b.load(ring.meta.buffer2[t.meta], 0, *op.weights.offsets, meta_at, t.gc * kF16Bytes, t.rows,
         meta_row);
  b.notify(mem, ring.meta.full[t.meta]);
}

// ---------------------------------------------------------------------------------------------
// VXM queue: prologue (activation quantization), unpack, epilogue
// ---------------------------------------------------------------------------------------------

View x_rows(const GemmIo& io, std::uint64_t r0) {
  return View{io.x.space, io.x.offset + r0 * static_cast<std::uint64_t>(io.x.row_stride), kF32Bytes,
              io.x.row_stride};
}

void emit_group_sums(ProgramBuilder& b, const OpPlan& op) {
  const std::uint32_t xsum = shared(b, "gemm.x_sum");
  const auto g = static_cast<std::int64_t>(op.group);
  const std::uint64_t full = op.k / op.group;
  const std::uint64_t tail = op.k % op.group;
  if (tail == 0 && op.io.x.row_stride == static_cast<std::int64_t>(op.k) * kF32Bytes) {
    b.reduce(Opcode::kRsum, ElemType::kF32, View{xsum, 0, kF32Bytes, 0},
             View{op.io.x.space, op.io.x.offset, kF32Bytes, g * kF32Bytes},
             Shape{op.m * op.groups, op.group});
    return;
  }
  for (std::uint64_t m = 0; m < op.m; ++m) {
    const View row = x_rows(op.io, m);
    const std::uint64_t at = m * op.groups * kF32Bytes;
    if (full > 0) {
      b.reduce(Opcode::kRsum, ElemType::kF32, View{xsum, at, kF32Bytes, 0},
               View{row.space, row.offset, kF32Bytes, g * kF32Bytes}, Shape{full, op.group});
    }
    if (tail > 0) {
      b.reduce(Opcode::kRsum, ElemType::kF32, View{xsum, at + full * kF32Bytes, kF32Bytes, 0},
               View{row.space, row.offset + full * op.group * kF32Bytes, kF32Bytes,
                    static_cast<std::int64_t>(tail) * kF32Bytes},
               Shape{1, tail});
    }
  }
}

// x_scale[m] = max(max_k |x[m][k]| * f32(1/127), 2^-126); xq = CVT.i8.f32(x * (1 / x_scale)).
void emit_quantize_int8(ProgramBuilder& b, const OpPlan& op) {
  const std::uint32_t tmp = shared(b, "gemm.x_tmp");
  const std::uint32_t xs = shared(b, "gemm.x_scale");
  const std::uint32_t inv = shared(b, "gemm.x_inv");
  const std::uint32_t xq = shared(b, "gemm.xq");
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
    const View xq{shared(b, "gemm.xq"), 0, kF16Bytes, static_cast<std::int64_t>(op.k) * kF16Bytes};
    b.convert(ElemType::kF16, ElemType::kF32, xq, x_rows(op.io, 0), Shape{op.m, op.k});
  } else {
    emit_group_sums(b, op);
    emit_quantize_int8(b, op);
  }
  b.notify(Unit::kVxm, ring.xq_ready);
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
  if (const auto scratch = b.find_buffer("gemm.unpack_scratch")) u.scratch_buffer = *scratch;
  emit_unpack(b, op.spec.format, t.rows, t.kc, u);
  if (streamed) b.notify(vxm, ring.packed.free[t.packed]);
  b.notify(vxm, ring.codes.full[t.codes]);
}

// Where this m block's rows of y[., n0:n0+rows] go: Y itself for the first k chunk, else ysum.
struct EpilogueTarget {
  View y;     // rows m0.. of Y at column n0
  View ysum;  // [mb][rows] scratch
  bool accumulate = false;
};

void convert_metadata(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const Unit vxm = Unit::kVxm;
  const bool streamed = !op.weights.resident;
  const auto gc = static_cast<std::int64_t>(t.gc);
  View scales{0, 0, kF16Bytes, gc * kF16Bytes};
  View offsets = scales;
  if (streamed) {
    scales.space = ring.meta.buffer[t.meta];
    offsets.space = ring.meta.buffer2[t.meta];
    b.wait(vxm, ring.meta.full[t.meta]);
  } else {
    const std::uint64_t at = (t.n0 * op.groups + t.g0) * kF16Bytes;
    const auto row = static_cast<std::int64_t>(op.groups) * kF16Bytes;
    scales = View{*op.weights.scales, at, kF16Bytes, row};
    offsets = View{*op.weights.offsets, at, kF16Bytes, row};
  }
  const Shape shape{t.rows, t.gc};
  b.convert(ElemType::kF32, ElemType::kF16,
            View{shared(b, "gemm.scales_f32"), 0, kF32Bytes, gc * kF32Bytes}, scales, shape);
  b.convert(ElemType::kF32, ElemType::kF16,
            View{shared(b, "gemm.offsets_f32"), 0, kF32Bytes, gc * kF32Bytes}, offsets, shape);
  if (streamed) b.notify(vxm, ring.meta.free[t.meta]);
}

// Views of one m block's partials P[mb][gc][rows] (f32 after the first CVT) and of what the
// epilogue combines them with. Loops run over m rows or over groups, whichever is fewer.
struct EpilogueViews {
  std::uint32_t part = 0, scales = 0, offsets = 0, xsum = 0;
  std::uint64_t rows = 0, gc = 0, mb = 0, m0 = 0, g0 = 0, all_groups = 0;
  bool per_row = true;

  std::uint64_t loops() const { return per_row ? mb : gc; }
  std::uint64_t row_bytes() const { return rows * kF32Bytes; }
  std::uint64_t plane() const { return gc * row_bytes(); }  // one activation row of partials
  std::int64_t s(std::uint64_t bytes) const { return static_cast<std::int64_t>(bytes); }
  Shape shape() const { return per_row ? Shape{gc, rows} : Shape{mb, rows}; }
  // P[m = i] as [gc][rows], or P[., g = i, .] as [mb][rows].
  View p(std::uint64_t i) const {
    return per_row ? View{part, i * plane(), kF32Bytes, s(row_bytes())}
                   : View{part, i * row_bytes(), kF32Bytes, s(plane())};
  }
  // scales / offsets [rows][gc], transposed to match p(i).
  View metadata(std::uint32_t space, std::uint64_t i) const {
    const std::int64_t per_row_of_n = s(gc * kF32Bytes);
    return per_row ? View{space, 0, per_row_of_n, kF32Bytes}
                   : View{space, i * kF32Bytes, per_row_of_n, 0};
  }
  // xsum[m0 + m][g0 + g] broadcast along n.
  View group_sum(std::uint64_t i) const {
    return per_row
               ? View{xsum, ((m0 + i) * all_groups + g0) * kF32Bytes, 0, kF32Bytes}
               : View{xsum, (m0 * all_groups + g0 + i) * kF32Bytes, 0, s(all_groups * kF32Bytes)};
  }
};

// sink[m][n] = P[m][g0][n] + P[m][g0 + 1][n] + ... in group order.
void sum_groups(ProgramBuilder& b, const EpilogueViews& v, const View& sink) {
  const ElemType f32 = ElemType::kF32;
  if (v.per_row) {
    for (std::uint64_t i = 0; i < v.mb; ++i) {
      const View dst{sink.space, sink.offset + i * static_cast<std::uint64_t>(sink.row_stride),
                     kF32Bytes, 0};
      const View groups{v.part, i * v.plane(), v.s(v.row_bytes()), kF32Bytes};  // [n][g]
      b.reduce(Opcode::kRsum, f32, dst, groups, Shape{v.rows, v.gc});
    }
    return;
  }
  b.unary(Opcode::kMov, f32, sink, v.p(0), Shape{v.mb, v.rows});
  for (std::uint64_t g = 1; g < v.gc; ++g) {
    b.vector(Opcode::kAdd, f32, sink, sink, v.p(g), Shape{v.mb, v.rows});
  }
}

// y[m][n] (+)= sum_g (P[m][g][n] * scale[n][g] * x_scale[m] + offset[n][g] * xsum[m][g]).
void emit_integer_epilogue(ProgramBuilder& b, const OpPlan& op, const Tile& t, std::uint32_t part,
                           std::uint64_t m0, std::uint64_t mb, const EpilogueTarget& target) {
  EpilogueViews v;
  v.part = part;
  v.scales = shared(b, "gemm.scales_f32");
  v.offsets = shared(b, "gemm.offsets_f32");
  v.xsum = shared(b, "gemm.x_sum");
  v.rows = t.rows;
  v.gc = t.gc;
  v.mb = mb;
  v.m0 = m0;
  v.g0 = t.g0;
  v.all_groups = op.groups;
  v.per_row = mb <= t.gc;
  const ElemType f32 = ElemType::kF32;
  const View flat{part, 0, kF32Bytes, v.s(v.row_bytes())};
  b.convert(f32, ElemType::kI32, flat, flat, Shape{mb * t.gc, t.rows});
  for (std::uint64_t i = 0; i < v.loops(); ++i) {
    b.vector(Opcode::kMul, f32, v.p(i), v.p(i), v.metadata(v.scales, i), v.shape());
  }
  const View all{part, 0, kF32Bytes, v.s(v.plane())};
  const View x_scale{shared(b, "gemm.x_scale"), m0 * kF32Bytes, 0, kF32Bytes};
  b.vector(Opcode::kMul, f32, all, all, x_scale, Shape{mb, t.gc * t.rows});
  for (std::uint64_t i = 0; i < v.loops(); ++i) {
    b.vector(Opcode::kMad, f32, v.p(i), v.metadata(v.offsets, i), v.group_sum(i), v.shape());
  }
  sum_groups(b, v, target.accumulate ? target.ysum : target.y);
  if (target.accumulate) {
    b.vector(Opcode::kAdd, f32, target.y, target.y, target.ysum, Shape{mb, t.rows});
  }
}

void emit_epilogue(ProgramBuilder& b, const GemmRing& ring, const OpPlan& op, const Tile& t) {
  const ScopedTag tag(b, op.tag);
  const Unit vxm = Unit::kVxm;
  const auto y_row = static_cast<std::uint64_t>(op.io.y.row_stride);
  for (std::uint64_t j = 0; j < op.plan.m_blocks; ++j) {
    const int slot = t.parts[j];
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
        target.ysum = View{shared(b, "gemm.ysum"), 0, kF32Bytes,
                           static_cast<std::int64_t>(t.rows) * kF32Bytes};
      }
      emit_integer_epilogue(b, op, t, part, m0, mb, target);
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
  const std::int64_t es = op.fp16 ? kF16Bytes : 1;
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
  const std::uint32_t xq = shared(b, "gemm.xq");
  const ElemType mode = op.fp16 ? ElemType::kF16 : ElemType::kI8;
  for (std::uint64_t j = 0; j < op.plan.m_blocks; ++j) {
    const int slot = t.parts[j];
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
                                  ring.last_group != op.group || ring.last_fp16 != op.fp16)) {
    throw InputError(fmt::format(
        "GEMM {}: reuse_quantized_x needs a previous GEMM with the same m, k, group size and "
        "activation type",
        op.spec.name));
  }
  ring.have_last = true;
  ring.last_m = op.m;
  ring.last_k = op.k;
  ring.last_group = op.group;
  ring.last_fp16 = op.fp16;
}

}  // namespace

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
