// Builds a Program instruction by instruction: declarations that return ids, emit helpers per
// instruction kind that fill canonical operands, and extension contexts (the GEMM ring) that
// persist across kernels emitted into the same program.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/program.h"
#include "kernels/quantity.h"

namespace lpusim {

// The n0 x n1 shape of a VXM operation.
struct Shape {
  std::uint64_t n0 = 1;
  std::uint64_t n1 = 1;
};

// The repeat of a VXM operation (docs/ISA.md "Repeat"): `count` repetitions, repetition r on
// every view moved r x its stride (bytes). A count of 1 drops the strides.
struct Repeat {
  std::uint64_t count = 1;
  std::int64_t dst = 0, a = 0, b = 0;  // bytes per repetition
};

// A view of `space` at `offset` with explicit strides (bytes).
inline View make_view(std::uint32_t space, std::uint64_t offset, std::int64_t col_stride,
                      std::int64_t row_stride) {
  return View{space, offset, col_stride, row_stride};
}
// A row-major view whose rows hold `n1` elements of `type` back to back.
View contiguous_view(std::uint32_t space, std::uint64_t offset, ElemType type, std::uint64_t n1);

class ProgramBuilder;

// State a kernel generator keeps across calls on one builder (e.g. the GEMM weight ring).
// flush() emits whatever it holds back so that all results emitted so far are complete in
// program order on every queue.
class BuilderExtension {
 public:
  virtual ~BuilderExtension() = default;
  virtual void flush(ProgramBuilder& builder) = 0;
};

class ProgramBuilder {
 public:
  // ---- declarations (names unique per kind; duplicates throw InputError) ----
  std::uint32_t add_buffer(std::string_view name, std::uint64_t bytes);
  // on_chip: the region lives in SRAM (RegionDecl::on_chip).
  std::uint32_t add_region(std::string_view name, std::uint64_t bytes, bool on_chip = false);
  std::uint32_t add_semaphore(std::string_view name, std::uint32_t initial = 0);
  // The id of tag `name`, declared on first use ("" is tag 0, "no tag").
  std::uint32_t intern_tag(std::string_view name);

  std::optional<std::uint32_t> find_buffer(std::string_view name) const;
  std::optional<std::uint32_t> find_region(std::string_view name) const;
  std::optional<std::uint32_t> find_semaphore(std::string_view name) const;
  std::optional<std::uint32_t> find_tag(std::string_view name) const;

  // A buffer shared by several kernels, sized for the largest: declared with `bytes` on first
  // use, grown to at least `bytes` afterwards.
  std::uint32_t scratch_buffer(std::string_view name, std::uint64_t bytes);
  // The semaphore `name`, declared with `initial` on first use.
  std::uint32_t shared_semaphore(std::string_view name, std::uint32_t initial = 0);

  // ---- SRAM phases (docs/ARCHITECTURE.md "SRAM planning") ----
  // Buffer `buffer` holds a value only in the phases of `live` (bit p: phase p; 0: everywhere),
  // so it shares SRAM with buffers live in other phases (Program::sram_bytes).
  void set_buffer_live(std::uint32_t buffer, std::uint64_t live);
  // Instructions emitted from now on belong to phase `phase` (0..kMaxPhases-1; -1: none). Emitting
  // one that touches a buffer outside that buffer's phases throws SimulationError: a planner's
  // live ranges are checked against every instruction that uses the buffer.
  void set_phase(int phase);
  int phase() const { return phase_; }

  // Tag stamped on every instruction emitted from now on (0: none).
  void set_tag(std::uint32_t tag) { tag_ = tag; }
  std::uint32_t tag() const { return tag_; }

  // ---- emission: each helper appends one instruction with canonical operands ----
  void emit(Unit queue, Instruction inst);
  void nop(Unit queue, std::uint64_t cycles);
  void notify(Unit queue, std::uint32_t sem);
  void wait(Unit queue, std::uint32_t sem);
  void halt(Unit queue);
  // Copies `rows` rows of `bytes` from the region (rows `region_stride` apart; 0: contiguous)
  // into the buffer, back to back. Contiguous rows merge into one row (one burst rounding).
  void load(std::uint32_t buffer, std::uint64_t buffer_offset, std::uint32_t region,
            std::uint64_t region_offset, std::uint64_t bytes, std::uint64_t rows = 1,
            std::uint64_t region_stride = 0);
  void store(std::uint32_t region, std::uint64_t region_offset, std::uint32_t buffer,
             std::uint64_t buffer_offset, std::uint64_t bytes, std::uint64_t rows = 1,
             std::uint64_t region_stride = 0);
  void vector(Opcode op, ElemType type, View dst, View a, View b, Shape shape,
              const Repeat& repeat = {});
  void vector_imm(Opcode op, ElemType type, View dst, View a, double imm, Shape shape,
                  const Repeat& repeat = {});
  void unary(Opcode op, ElemType type, View dst, View a, Shape shape, const Repeat& repeat = {});
  void convert(ElemType to, ElemType from, View dst, View a, Shape shape,
               const Repeat& repeat = {});
  // RSUM / RMAX: dst[i] (at dst.offset + i * dst.col_stride) = reduce_j a[i][j].
  void reduce(Opcode op, ElemType type, View dst, View a, Shape shape, const Repeat& repeat = {});
  // y[m][g][n] (contiguous at y_offset) = sum over k in group g of x[m][k] * w[n][k].
  void matmul(ElemType mode, std::uint32_t y_buffer, std::uint64_t y_offset, View w, View x,
              std::uint32_t m, std::uint32_t k, std::uint32_t n, std::uint32_t kgroup);

  const Program& program() const { return program_; }
  std::size_t queue_size(Unit queue) const { return program_.queue(queue).size(); }
  // Room for `instructions` on `queue` in total (like std::vector::reserve): a caller that knows
  // a program's size up front spares the queue's copies (and their peak memory) while it grows.
  // A queue of many MB is asked to be backed by huge pages (fewer page faults and TLB misses).
  void reserve(Unit queue, std::size_t instructions);

  // The extension of type T, created on first use.
  template <typename T>
  T& extension() {
    const std::type_index key(typeid(T));
    for (auto& [k, ext] : extensions_) {
      if (k == key) return static_cast<T&>(*ext);
    }
    extensions_.emplace_back(key, std::make_unique<T>());
    return static_cast<T&>(*extensions_.back().second);
  }
  // Every extension emits what it holds back (e.g. the last GEMM's epilogue).
  void flush();
  // flush(), validate_program(), and hand the program over; the builder is left empty.
  Program finish();

 private:
  std::uint32_t declare(std::unordered_map<std::string, std::uint32_t>& ids, std::string_view name,
                        std::size_t next_id, const char* kind);
  std::optional<std::uint32_t> find(const std::unordered_map<std::string, std::uint32_t>& ids,
                                    std::string_view name) const;

  Program program_;
  std::unordered_map<std::string, std::uint32_t> buffer_ids_;
  std::unordered_map<std::string, std::uint32_t> region_ids_;
  std::unordered_map<std::string, std::uint32_t> semaphore_ids_;
  std::unordered_map<std::string, std::uint32_t> tag_ids_{{"", 0}};
  void check_live(const Instruction& inst) const;

  std::uint32_t tag_ = 0;
  int phase_ = -1;
  bool phased_ = false;  // some buffer has live phases: check every instruction's buffers
  std::vector<std::pair<std::type_index, std::unique_ptr<BuilderExtension>>> extensions_;
  mutable std::string key_;  // lookup key storage (std::unordered_map needs a std::string)
};

// Stamps `tag` on everything emitted while it lives, then restores the builder's previous tag.
class ScopedTag {
 public:
  ScopedTag(ProgramBuilder& builder, std::uint32_t tag) : builder_(builder), saved_(builder.tag()) {
    builder.set_tag(tag);
  }
  ScopedTag(ProgramBuilder& builder, std::string_view name)
      : ScopedTag(builder, builder.intern_tag(name)) {}
  ~ScopedTag() { builder_.set_tag(saved_); }
  ScopedTag(const ScopedTag&) = delete;
  ScopedTag& operator=(const ScopedTag&) = delete;

 private:
  ProgramBuilder& builder_;
  std::uint32_t saved_;
};

// Puts what is emitted while it lives in phase `phase`, then restores the builder's previous one.
class ScopedPhase {
 public:
  ScopedPhase(ProgramBuilder& builder, int phase) : builder_(builder), saved_(builder.phase()) {
    builder.set_phase(phase);
  }
  ~ScopedPhase() { builder_.set_phase(saved_); }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  ProgramBuilder& builder_;
  int saved_;
};

// Throws SimulationError when the program's buffers need more SRAM than `capacity`.
void check_sram_capacity(const Program& program, Bytes capacity);

}  // namespace lpusim
