// `.lpuasm` writer and reader. The reader is a hand-written tokenizer (no regex) that resolves
// names through hash maps, so a million-instruction program reads in well under a second.
#include "kernels/asm.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <deque>
#include <optional>
#include <unordered_map>

#include "kernels/error.h"

namespace lpusim {

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------
namespace {

using Out = fmt::memory_buffer;

// Appends without parsing a format string: the writer's inner loop.
void put(Out& out, std::string_view text) { out.append(text); }
void put(Out& out, std::uint64_t value) {
  out.append(std::string_view(fmt::format_int(value).c_str()));
}
void put_signed(Out& out, std::int64_t value) {
  const fmt::format_int f(value);
  out.append(std::string_view(f.data(), f.size()));
}
void put_key(Out& out, std::string_view key, std::uint64_t value) {
  out.push_back(' ');
  put(out, key);
  out.push_back('=');
  put(out, value);
}

const std::string& space_name(const Program& p, const OperandShape& shape, const View& v) {
  return shape.in_region ? p.regions.at(v.space).name : p.buffers.at(v.space).name;
}

void write_view(Out& out, const Program& p, std::string_view key, const Instruction& inst,
                Operand operand, const View& v) {
  const OperandShape shape = operand_shape(inst, operand);
  out.push_back(' ');
  put(out, key);
  out.push_back('=');
  put(out, space_name(p, shape, v));
  if (v.offset != 0) {
    out.push_back('+');
    put(out, static_cast<std::uint64_t>(v.offset));
  }
  const bool transfer = opcode_info(inst.opcode).cost == CostClass::kTransfer;
  if (transfer) return;  // strides of transfers are implied (the memory side's by stride=)
  const std::int64_t cols = static_cast<std::int64_t>(shape.cols);
  if (v.col_stride == shape.contiguous_col() && v.row_stride == shape.contiguous_row()) return;
  out.push_back(':');
  put_signed(out, v.col_stride);
  if (v.row_stride != cols * v.col_stride) {
    out.push_back(':');
    put_signed(out, v.row_stride);
  }
}

void write_shape(Out& out, const Instruction& inst) {
  if (inst.n0 == 1) {
    put_key(out, "n", inst.n1);
  } else {
    put_key(out, "n", inst.n0);
    out.push_back('x');
    put(out, inst.n1);
  }
}

// rep=N and the non-zero repeat strides (dst.rs= a.rs= b.rs=); nothing for rep 1.
void write_repeat(Out& out, const Instruction& inst) {
  if (inst.rep == 1 && inst.rep_stride == decltype(inst.rep_stride){}) return;
  put_key(out, "rep", inst.rep);
  constexpr std::array<std::string_view, kOperandCount> kKeys = {" dst.rs=", " a.rs=", " b.rs="};
  for (std::size_t o = 0; o < kKeys.size(); ++o) {
    if (inst.rep_stride[o] == 0) continue;
    put(out, kKeys[o]);
    put_signed(out, inst.rep_stride[o]);
  }
}

void write_transfer(Out& out, const Instruction& inst) {
  put_key(out, "bytes", inst.bytes);
  if (inst.n0 != 1) put_key(out, "rows", inst.n0);
  const View& memory = inst.opcode == Opcode::kLoad ? inst.a : inst.dst;
  if (memory.row_stride != static_cast<std::int64_t>(inst.bytes)) {
    put(out, " stride=");
    put_signed(out, memory.row_stride);
  }
}

void write_instruction(Out& out, const Program& p, const Instruction& inst) {
  const std::uint32_t ops = opcode_info(inst.opcode).operands;
  put(out, "  ");
  put(out, mnemonic(inst.opcode));
  if (inst.type != ElemType::kNone) {
    out.push_back('.');
    put(out, elem_type_name(inst.type));
  }
  if (inst.src_type != ElemType::kNone) {
    out.push_back('.');
    put(out, elem_type_name(inst.src_type));
  }
  if (ops & kOpSem) {
    put(out, " sem=");
    put(out, p.semaphores.at(inst.sem).name);
  }
  if (ops & (kOpDst | kOpMatmul)) write_view(out, p, "dst", inst, Operand::kDst, inst.dst);
  if (ops & (kOpA | kOpMatmul)) write_view(out, p, "a", inst, Operand::kA, inst.a);
  if (ops & kOpMatmul) write_view(out, p, "b", inst, Operand::kB, inst.b);
  if (ops & kOpB) {
    if (inst.b_is_imm) {
      fmt::format_to(std::back_inserter(out), " imm={}", inst.imm);
    } else {
      write_view(out, p, "b", inst, Operand::kB, inst.b);
    }
  }
  if (ops & kOpShape) write_shape(out, inst);
  write_repeat(out, inst);
  if (ops & kOpCycles) put_key(out, "n", inst.n0);
  if (ops & kOpBytes) write_transfer(out, inst);
  if (ops & kOpMatmul) {
    put_key(out, "m", inst.m);
    put_key(out, "k", inst.k);
    put_key(out, "n", inst.n);
    if (inst.kgroup != 0) put_key(out, "kgroup", inst.kgroup);
  }
  if (inst.tag != 0) {
    put(out, " tag=");
    put(out, p.tags.at(inst.tag));
  }
  out.push_back('\n');
}

void write_declarations(Out& out, const Program& p) {
  for (const BufferDecl& b : p.buffers) {
    fmt::format_to(std::back_inserter(out), ".buffer {} bytes={}", b.name, b.bytes);
    if (b.live != 0) fmt::format_to(std::back_inserter(out), " live={}", b.live);
    out.push_back('\n');
  }
  for (const RegionDecl& r : p.regions) {
    fmt::format_to(std::back_inserter(out), ".region {} bytes={}{}\n", r.name, r.bytes,
                   r.on_chip ? " place=sram" : "");
  }
  for (const SemaphoreDecl& s : p.semaphores) {
    fmt::format_to(std::back_inserter(out), ".sem {}", s.name);
    if (s.initial != 0) fmt::format_to(std::back_inserter(out), " init={}", s.initial);
    out.push_back('\n');
  }
  for (std::size_t t = 1; t < p.tags.size(); ++t) {
    fmt::format_to(std::back_inserter(out), ".tag {}\n", p.tags[t]);
  }
}

}  // namespace

std::string write_asm(const Program& program) {
  Out out;
  std::string per_queue;
  for (const UnitInfo& unit : unit_table()) {
    per_queue += fmt::format("{}{} {}", per_queue.empty() ? "" : ", ", unit.name,
                             program.queue(unit.unit).size());
  }
  fmt::format_to(std::back_inserter(out),
                 "# lpusim program: {} instructions ({}), {} bytes of SRAM\n",
                 program.instruction_count(), per_queue, program.sram_bytes());
  write_declarations(out, program);
  for (int q = 0; q < kUnitCount; ++q) {
    const Unit unit = static_cast<Unit>(q);
    if (program.queue(unit).empty()) continue;
    fmt::format_to(std::back_inserter(out), ".queue {}\n", unit_name(unit));
    for (const Instruction& inst : program.queue(unit)) write_instruction(out, program, inst);
  }
  return fmt::to_string(out);
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------
namespace {

constexpr std::size_t kMaxTokens = 24;

// Operand keys of the text form.
enum Key : int {
  kSem,
  kDst,
  kA,
  kB,
  kImm,
  kN,
  kBytes,
  kRows,
  kStride,
  kM,
  kK,
  kKgroup,
  kTag,
  kRep,
  kDstRs,
  kARs,
  kBRs,
  kKeyCount
};
constexpr std::array<std::string_view, kKeyCount> kKeyNames = {
    "sem", "dst", "a",      "b",   "imm", "n",      "bytes", "rows", "stride",
    "m",   "k",   "kgroup", "tag", "rep", "dst.rs", "a.rs",  "b.rs"};

std::optional<Key> parse_key(std::string_view name) {
  for (int i = 0; i < kKeyCount; ++i) {
    if (kKeyNames[static_cast<std::size_t>(i)] == name) return static_cast<Key>(i);
  }
  return std::nullopt;
}

// Which keys an opcode accepts (tag is always accepted).
std::uint32_t allowed_keys(std::uint32_t ops) {
  std::uint32_t keys = 1u << kTag;
  if (ops & kOpSem) keys |= 1u << kSem;
  if (ops & kOpDst) keys |= 1u << kDst;
  if (ops & kOpA) keys |= 1u << kA;
  if (ops & kOpB) keys |= (1u << kB) | (1u << kImm);
  if (ops & (kOpShape | kOpCycles)) keys |= 1u << kN;
  if (ops & kOpShape) keys |= (1u << kRep) | (1u << kDstRs) | (1u << kARs) | (1u << kBRs);
  if (ops & kOpBytes) keys |= (1u << kBytes) | (1u << kRows) | (1u << kStride);
  if (ops & kOpMatmul) {
    keys |= (1u << kDst) | (1u << kA) | (1u << kB) | (1u << kM) | (1u << kK) | (1u << kN) |
            (1u << kKgroup);
  }
  return keys;
}

std::uint32_t required_keys(std::uint32_t ops) {
  std::uint32_t keys = allowed_keys(ops);
  keys &= ~((1u << kTag) | (1u << kRows) | (1u << kStride) | (1u << kKgroup) | (1u << kRep) |
            (1u << kDstRs) | (1u << kARs) | (1u << kBRs));
  if (ops & kOpB) keys &= ~((1u << kB) | (1u << kImm));  // exactly one of them, checked apart
  return keys;
}

std::string key_list(std::uint32_t keys) {
  std::string out;
  for (int i = 0; i < kKeyCount; ++i) {
    if (keys & (1u << i)) {
      if (!out.empty()) out += ' ';
      out += std::string(kKeyNames[static_cast<std::size_t>(i)]) + "=";
    }
  }
  return out;
}

std::string mnemonic_list() {
  std::string out;
  for (const OpcodeInfo& info : opcode_table()) {
    if (!out.empty()) out += ", ";
    out += info.mnemonic;
  }
  return out;
}

std::string type_list() { return "i8, u8, i16, u16, i32, u32, f16, f32"; }

// Names declared so far, with the line that declared them.
class NameTable {
 public:
  std::optional<std::uint32_t> find(std::string_view name) const {
    const auto it = ids_.find(name);
    if (it == ids_.end()) return std::nullopt;
    return it->second.first;
  }
  int line_of(std::string_view name) const { return ids_.at(name).second; }
  void add(std::string_view name, std::uint32_t id, int line) {
    names_.emplace_back(name);
    ids_.emplace(names_.back(), std::pair{id, line});
  }

 private:
  std::deque<std::string> names_;  // stable storage for the keys
  std::unordered_map<std::string_view, std::pair<std::uint32_t, int>> ids_;
};

// A view as written: NAME[+OFFSET][:COL[:ROW]].
struct RawView {
  std::string_view name;
  std::uint64_t offset = 0;
  std::optional<std::int32_t> col, row;
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Program read() {
    reserve_queues();
    std::size_t pos = 0;
    while (pos <= text_.size()) {
      std::size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      ++line_;
      read_line(text_.substr(pos, end - pos));
      pos = end + 1;
    }
    return std::move(program_);
  }

 private:
  // Reserves each queue for the lines of its .queue sections (an upper bound), so a large
  // program is not copied while it grows.
  void reserve_queues() {
    std::array<std::size_t, kUnitCount> lines{};
    std::optional<Unit> current;
    std::size_t pos = 0;
    while (pos < text_.size()) {
      std::size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      const std::string_view line = text_.substr(pos, end - pos);
      const std::size_t first = line.find_first_not_of(" \t");
      if (first != std::string_view::npos && line.compare(first, 7, ".queue ") == 0) {
        std::string_view name = line.substr(first + 7);
        name.remove_prefix(std::min(name.find_first_not_of(" \t"), name.size()));
        current = parse_unit(name.substr(0, name.find_first_of(" \t\r#")));
      } else if (current) {
        ++lines[static_cast<std::size_t>(*current)];
      }
      pos = end + 1;
    }
    for (int q = 0; q < kUnitCount; ++q) {
      program_.queue(static_cast<Unit>(q)).reserve(std::min(lines[q], AsmLimits::kMaxInstructions));
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(SourceLocation{file_, line_, ""}, message);
  }

  void read_line(std::string_view line) {
    const std::size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    count_ = 0;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) break;
      std::size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (count_ == kMaxTokens) {
        fail(fmt::format("expected at most {} words on a line, got more", kMaxTokens));
      }
      tokens_[count_++] = line.substr(i, j - i);
      i = j;
    }
    if (count_ == 0) return;
    if (tokens_[0][0] == '.') {
      read_directive();
    } else {
      read_instruction();
    }
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

  // ---- numbers ----
  std::uint64_t parse_u64(std::string_view key, std::string_view text) const {
    std::uint64_t value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
      fail(fmt::format("{}: expected a non-negative integer, got \"{}\"", key, text));
    }
    return value;
  }
  std::uint32_t parse_u32(std::string_view key, std::string_view text) const {
    const std::uint64_t v = parse_u64(key, text);
    if (v > UINT32_MAX) fail(fmt::format("{}: expected at most {}, got {}", key, UINT32_MAX, v));
    return static_cast<std::uint32_t>(v);
  }
  std::int32_t parse_stride(std::string_view key, std::string_view text) const {
    std::int64_t value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
      fail(fmt::format("{}: expected an integer stride in bytes, got \"{}\"", key, text));
    }
    check_stride(key, value);
    return static_cast<std::int32_t>(value);
  }
  // Strides are 32-bit (kernels/program.h).
  void check_stride(std::string_view key, std::int64_t value) const {
    if (value < INT32_MIN || value > INT32_MAX) {
      fail(fmt::format("{}: expected a stride of {}..{} bytes, got {}", key, INT32_MIN, INT32_MAX,
                       value));
    }
  }
  // Offsets and declared sizes are at most 40 bits (kernels/program.h).
  std::uint64_t parse_offset(std::string_view key, std::string_view text) const {
    const std::uint64_t v = parse_u64(key, text);
    if (v > View::kMaxOffset) {
      fail(fmt::format("{}: expected at most {} bytes, got {}", key, View::kMaxOffset, v));
    }
    return v;
  }
  double parse_double(std::string_view key, std::string_view text) const {
    double value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
      fail(fmt::format("{}: expected a number, got \"{}\"", key, text));
    }
    return value;
  }

  // ---- directives ----
  void read_directive() {
    const std::string_view d = tokens_[0];
    if (d == ".queue") return read_queue();
    if (d == ".buffer" || d == ".region") return read_space(d == ".buffer");
    if (d == ".sem") return read_semaphore();
    if (d == ".tag") return read_tag();
    fail(fmt::format("expected a directive (.buffer, .region, .sem, .tag, .queue), got \"{}\"", d));
  }

  std::string_view declared_name(std::string_view directive) const {
    if (count_ < 2) fail(fmt::format("{}: expected a name, got nothing", directive));
    const std::string_view name = tokens_[1];
    if (!is_valid_name(name) || name.find('=') != std::string_view::npos) {
      fail(fmt::format("{}: expected a name of letters, digits and _ . - /, got \"{}\"", directive,
                       name));
    }
    return name;
  }

  void check_new(const NameTable& table, std::string_view directive, std::string_view name) {
    if (table.find(name)) {
      fail(fmt::format("{}: expected a new name, got \"{}\", already declared on line {}",
                       directive, name, table.line_of(name)));
    }
  }

  // The value of operand key= of a directive (optional unless `required`); `other` is the one
  // other key the directive takes ("" for none), read by its own call.
  std::optional<std::string_view> directive_operand(std::string_view directive,
                                                    std::string_view key, bool required,
                                                    std::string_view other = {}) const {
    std::optional<std::string_view> value;
    for (std::size_t i = 2; i < count_; ++i) {
      const std::size_t eq = tokens_[i].find('=');
      const std::string_view k = tokens_[i].substr(0, eq);
      if (eq != std::string_view::npos && !other.empty() && k == other) continue;
      if (eq == std::string_view::npos || k != key) {
        if (other.empty()) {
          fail(fmt::format("{}: expected {}=N, got \"{}\"", directive, key, tokens_[i]));
        }
        fail(fmt::format("{}: expected {}=N or {}=N, got \"{}\"", directive, key, other,
                         tokens_[i]));
      }
      if (value) fail(fmt::format("{}: expected {}= once, got it twice", directive, key));
      value = tokens_[i].substr(eq + 1);
    }
    if (required && !value) {
      fail(fmt::format("{}: expected {}=N after the name, got nothing", directive, key));
    }
    return value;
  }

  void read_queue() {
    if (count_ != 2) {
      fail(
          fmt::format(".queue: expected one queue name (mem, vxm, mxm), got {} words", count_ - 1));
    }
    queue_ = parse_unit(tokens_[1]);
    if (!queue_) fail(fmt::format(".queue: expected mem, vxm or mxm, got \"{}\"", tokens_[1]));
  }

  void read_space(bool buffer) {
    const std::string_view directive = buffer ? ".buffer" : ".region";
    const std::string_view name = declared_name(directive);
    NameTable& table = buffer ? buffers_ : regions_;
    check_new(table, directive, name);
    const std::string_view other = buffer ? "live" : "place";
    const std::uint64_t bytes =
        parse_offset("bytes", *directive_operand(directive, "bytes", true, other));
    const auto live_text = buffer ? directive_operand(directive, "live", false, "bytes")
                                  : std::optional<std::string_view>{};
    const std::uint64_t live = live_text ? parse_u64("live", *live_text) : 0;
    const auto place = buffer ? std::optional<std::string_view>{}
                              : directive_operand(directive, "place", false, "bytes");
    if (place && *place != "sram" && *place != "memory") {
      fail(fmt::format(".region: place: expected sram or memory, got \"{}\"", *place));
    }
    const std::size_t declared = buffer ? program_.buffers.size() : program_.regions.size();
    if (declared >= View::kMaxSpaces) {
      fail(fmt::format("{}: expected at most {} of them, got more", directive, View::kMaxSpaces));
    }
    if (buffer) {
      table.add(name, static_cast<std::uint32_t>(program_.buffers.size()), line_);
      program_.buffers.push_back({std::string(name), bytes, live});
    } else {
      table.add(name, static_cast<std::uint32_t>(program_.regions.size()), line_);
      program_.regions.push_back({std::string(name), bytes, place && *place == "sram"});
    }
  }

  void read_semaphore() {
    const std::string_view name = declared_name(".sem");
    check_new(semaphores_, ".sem", name);
    const auto init = directive_operand(".sem", "init", false);
    const std::uint32_t initial = init ? parse_u32("init", *init) : 0;
    if (initial > AsmLimits::kMaxSemaphoreInit) {
      fail(fmt::format(".sem: init: expected at most {}, got {}", AsmLimits::kMaxSemaphoreInit,
                       initial));
    }
    total_initial_ += initial;
    if (total_initial_ > AsmLimits::kMaxTotalSemaphoreInit) {
      fail(fmt::format(".sem: init: expected the semaphores' init= to sum to at most {}, got {}",
                       AsmLimits::kMaxTotalSemaphoreInit, total_initial_));
    }
    if (program_.semaphores.size() >= AsmLimits::kMaxSemaphores) {
      fail(
          fmt::format(".sem: expected at most {} semaphores, got more", AsmLimits::kMaxSemaphores));
    }
    semaphores_.add(name, static_cast<std::uint32_t>(program_.semaphores.size()), line_);
    program_.semaphores.push_back({std::string(name), initial});
  }

  void read_tag() {
    const std::string_view name = declared_name(".tag");
    check_new(tags_, ".tag", name);
    if (count_ > 2) fail(fmt::format(".tag: expected only a name, got \"{}\"", tokens_[2]));
    if (program_.tags.size() > AsmLimits::kMaxTags)  // tags[0] is "no tag"
      fail(fmt::format(".tag: expected at most {} tags, got more", AsmLimits::kMaxTags));
    tags_.add(name, static_cast<std::uint32_t>(program_.tags.size()), line_);
    program_.tags.emplace_back(name);
  }

  // ---- instructions ----
  void read_instruction() {
    if (!queue_) {
      fail(fmt::format("expected a .queue directive before the first instruction, got \"{}\"",
                       tokens_[0]));
    }
    if (instructions_ == AsmLimits::kMaxInstructions) {
      fail(fmt::format("expected at most {} instructions in a program, got more",
                       AsmLimits::kMaxInstructions));
    }
    Instruction inst = parse_mnemonic_token(tokens_[0]);
    const OpcodeInfo& info = opcode_info(inst.opcode);
    collect_operands(info);
    fill_numbers(inst, info.operands);
    fill_names(inst, info.operands);
    const std::string problem = check_instruction(program_, *queue_, inst);
    if (!problem.empty()) fail(fmt::format("{}: {}", instruction_name(inst), problem));
    program_.queue(*queue_).push_back(inst);
    ++instructions_;
  }

  Instruction parse_mnemonic_token(std::string_view token) const {
    const std::size_t dot = token.find('.');
    const std::string_view base = token.substr(0, dot);
    const auto opcode = parse_mnemonic(base);
    if (!opcode) {
      const std::string_view close = closest_mnemonic(base);
      const std::string hint =
          close.empty() ? std::string() : fmt::format(" (did you mean {}?)", close);
      fail(fmt::format("expected an instruction mnemonic, got \"{}\"{}; known: {}", base, hint,
                       mnemonic_list()));
    }
    Instruction inst;
    inst.opcode = *opcode;
    if (dot == std::string_view::npos) return inst;
    std::string_view rest = token.substr(dot + 1);
    const std::size_t dot2 = rest.find('.');
    inst.type = parse_type(token, rest.substr(0, dot2));
    if (dot2 != std::string_view::npos) inst.src_type = parse_type(token, rest.substr(dot2 + 1));
    return inst;
  }

  ElemType parse_type(std::string_view token, std::string_view name) const {
    const auto type = parse_elem_type(name);
    if (!type) {
      fail(fmt::format("{}: expected a type suffix ({}), got \"{}\"", token, type_list(), name));
    }
    return *type;
  }

  void collect_operands(const OpcodeInfo& info) {
    values_.fill(std::nullopt);
    const std::uint32_t allowed = allowed_keys(info.operands);
    for (std::size_t i = 1; i < count_; ++i) {
      const std::string_view t = tokens_[i];
      const std::size_t eq = t.find('=');
      const auto key = eq == std::string_view::npos ? std::nullopt : parse_key(t.substr(0, eq));
      if (!key || !(allowed & (1u << *key))) {
        fail(fmt::format("{}: expected operands {}, got \"{}\"", info.mnemonic, key_list(allowed),
                         t));
      }
      if (values_[*key]) {
        fail(fmt::format("{}: expected {}= once, got it twice", info.mnemonic, kKeyNames[*key]));
      }
      values_[*key] = t.substr(eq + 1);
    }
    const std::uint32_t required = required_keys(info.operands);
    for (int k = 0; k < kKeyCount; ++k) {
      if ((required & (1u << k)) && !values_[static_cast<std::size_t>(k)]) {
        fail(fmt::format("{}: expected operand {}= (operands: {}), got none", info.mnemonic,
                         kKeyNames[static_cast<std::size_t>(k)], key_list(allowed)));
      }
    }
    if ((info.operands & kOpB) && values_[kB].has_value() == values_[kImm].has_value()) {
      fail(fmt::format("{}: expected exactly one of b= and imm=, got {}", info.mnemonic,
                       values_[kB] ? "both" : "neither"));
    }
  }

  void fill_numbers(Instruction& inst, std::uint32_t ops) const {
    if (ops & kOpShape) parse_shape(inst, *values_[kN]);
    if (ops & kOpCycles) inst.n0 = parse_u32("n", *values_[kN]);
    if (ops & kOpBytes) {
      inst.bytes = parse_u32("bytes", *values_[kBytes]);
      inst.n0 = values_[kRows] ? parse_u32("rows", *values_[kRows]) : 1;
    }
    if (ops & kOpMatmul) {
      inst.m = parse_u32("m", *values_[kM]);
      inst.k = parse_u32("k", *values_[kK]);
      inst.n = parse_u32("n", *values_[kN]);
      if (values_[kKgroup]) inst.kgroup = parse_u32("kgroup", *values_[kKgroup]);
    }
    if (values_[kRep]) inst.rep = parse_u32("rep", *values_[kRep]);
    for (int o = 0; o < kOperandCount; ++o) {
      const auto key = static_cast<std::size_t>(kDstRs + o);
      if (values_[key]) {
        inst.rep_stride[static_cast<std::size_t>(o)] = parse_stride(kKeyNames[key], *values_[key]);
      }
    }
    if (values_[kImm]) {
      inst.b_is_imm = true;
      inst.imm = parse_double("imm", *values_[kImm]);
    }
  }

  void parse_shape(Instruction& inst, std::string_view text) const {
    const std::size_t x = text.find('x');
    if (x == std::string_view::npos) {
      inst.n0 = 1;
      inst.n1 = parse_u32("n", text);
      return;
    }
    inst.n0 = parse_u32("n", text.substr(0, x));
    inst.n1 = parse_u32("n", text.substr(x + 1));
  }

  void fill_names(Instruction& inst, std::uint32_t ops) const {
    if (ops & kOpSem) inst.sem = lookup(semaphores_, "sem", "semaphore", *values_[kSem]);
    if (values_[kTag]) inst.tag = lookup(tags_, "tag", "tag", *values_[kTag]);
    if (values_[kDst]) inst.dst = resolve_view(inst, Operand::kDst, "dst", *values_[kDst]);
    if (values_[kA]) inst.a = resolve_view(inst, Operand::kA, "a", *values_[kA]);
    if (values_[kB]) inst.b = resolve_view(inst, Operand::kB, "b", *values_[kB]);
    if ((ops & kOpBytes) && values_[kStride]) {
      View& memory = inst.opcode == Opcode::kLoad ? inst.a : inst.dst;
      memory.row_stride = parse_stride("stride", *values_[kStride]);
    }
  }

  std::uint32_t lookup(const NameTable& table, std::string_view key, std::string_view kind,
                       std::string_view name) const {
    const auto id = table.find(name);
    if (!id) fail(fmt::format("{}: expected a declared {}, got \"{}\"", key, kind, name));
    return *id;
  }

  RawView parse_view(std::string_view key, std::string_view text) const {
    RawView v;
    const std::size_t colon = text.find(':');
    std::string_view head = text.substr(0, colon);
    const std::size_t plus = head.find('+');
    v.name = head.substr(0, plus);
    if (v.name.empty()) {
      fail(fmt::format("{}: expected NAME[+OFFSET][:COL[:ROW]], got \"{}\"", key, text));
    }
    if (plus != std::string_view::npos) v.offset = parse_offset(key, head.substr(plus + 1));
    if (colon == std::string_view::npos) return v;
    const std::string_view strides = text.substr(colon + 1);
    const std::size_t colon2 = strides.find(':');
    v.col = parse_stride(key, strides.substr(0, colon2));
    if (colon2 != std::string_view::npos) v.row = parse_stride(key, strides.substr(colon2 + 1));
    return v;
  }

  View resolve_view(const Instruction& inst, Operand operand, std::string_view key,
                    std::string_view text) const {
    const OperandShape shape = operand_shape(inst, operand);
    const RawView raw = parse_view(key, text);
    const bool transfer = opcode_info(inst.opcode).cost == CostClass::kTransfer;
    if (transfer && raw.col) {
      fail(
          fmt::format("{}: expected NAME[+OFFSET] (a transfer's row stride is stride=), got "
                      "\"{}\"",
                      key, text));
    }
    const std::uint32_t space = shape.in_region ? lookup(regions_, key, "region", raw.name)
                                                : lookup(buffers_, key, "buffer", raw.name);
    const std::int64_t col = raw.col.value_or(shape.contiguous_col());
    const std::int64_t row = raw.row.value_or(static_cast<std::int64_t>(shape.cols) * col);
    check_stride(key, row);  // the default row stride may not fit
    return View{space, raw.offset, col, row};
  }

  std::string_view text_;
  const std::string& file_;
  int line_ = 0;
  Program program_;
  std::optional<Unit> queue_;
  NameTable buffers_, regions_, semaphores_, tags_;
  std::array<std::string_view, kMaxTokens> tokens_{};
  std::size_t count_ = 0;
  std::array<std::optional<std::string_view>, kKeyCount> values_{};
  std::size_t instructions_ = 0;
  std::uint64_t total_initial_ = 0;
};

}  // namespace

Program read_asm(std::string_view text, const std::string& filename) {
  return Reader(text, filename).read();
}

}  // namespace lpusim
