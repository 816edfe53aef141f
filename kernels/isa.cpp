// The opcode table of the simulated chip as data (queue, operands, cost class, accepted types)
// and the name <-> enum helpers declared in kernels/isa.h.
#include "kernels/isa.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace lpusim {
namespace {

constexpr std::uint32_t kBinary = kOpType | kOpDst | kOpA | kOpB | kOpShape;
constexpr std::uint32_t kUnary = kOpType | kOpDst | kOpA | kOpShape;
constexpr std::uint32_t kConvertOps = kUnary | kOpSrcType;
constexpr std::uint32_t kTransferOps = kOpDst | kOpA | kOpBytes;
constexpr std::uint32_t kMatmulOps = kOpType | kOpMatmul;
constexpr std::optional<Unit> kAnyQueue = std::nullopt;

std::vector<OpcodeInfo> make_table() {
  using O = Opcode;
  using C = CostClass;
  using T = TypeRule;
  const Unit mem = Unit::kMem;
  const Unit vxm = Unit::kVxm;
  const Unit mxm = Unit::kMxm;
  return {
      {O::kNop, "NOP", kAnyQueue, kOpCycles, C::kDispatch, T::kNone},
      {O::kNotify, "NOTIFY", kAnyQueue, kOpSem, C::kDispatch, T::kNone},
      {O::kWait, "WAIT", kAnyQueue, kOpSem, C::kDispatch, T::kNone},
      {O::kHalt, "HALT", kAnyQueue, 0, C::kDispatch, T::kNone},
      {O::kLoad, "LOAD", mem, kTransferOps, C::kTransfer, T::kNone},
      {O::kStore, "STORE", mem, kTransferOps, C::kTransfer, T::kNone},
      {O::kAdd, "ADD", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kSub, "SUB", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kMul, "MUL", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kMad, "MAD", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kMin, "MIN", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kMax, "MAX", vxm, kBinary, C::kVectorAlu, T::kNumeric},
      {O::kAnd, "AND", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kOr, "OR", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kXor, "XOR", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kShl, "SHL", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kShr, "SHR", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kSar, "SAR", vxm, kBinary, C::kVectorAlu, T::kInteger},
      {O::kMov, "MOV", vxm, kUnary, C::kVectorAlu, T::kNumeric},
      {O::kAbs, "ABS", vxm, kUnary, C::kVectorAlu, T::kNumeric},
      {O::kNeg, "NEG", vxm, kUnary, C::kVectorAlu, T::kNumeric},
      {O::kCvt, "CVT", vxm, kConvertOps, C::kVectorAlu, T::kConvert},
      {O::kExp, "EXP", vxm, kUnary, C::kTranscendental, T::kFloat},
      {O::kRsqrt, "RSQRT", vxm, kUnary, C::kTranscendental, T::kFloat},
      {O::kRecip, "RECIP", vxm, kUnary, C::kTranscendental, T::kFloat},
      {O::kRsum, "RSUM", vxm, kUnary, C::kVectorAlu, T::kNumeric},
      {O::kRmax, "RMAX", vxm, kUnary, C::kVectorAlu, T::kNumeric},
      {O::kMatmul, "MATMUL", mxm, kMatmulOps, C::kMatmul, T::kMatmul},
  };
}

constexpr std::array<UnitInfo, kUnitCount> kUnits = {{
    {Unit::kMem, "mem", UnitKind::kMemoryIssue, "mem sync", false,
     "issues LOAD/STORE between off-chip memory and SRAM"},
    {Unit::kVxm, "vxm", UnitKind::kVector, "vxm sync", true,
     "vector unit: element-wise, conversion and reduction ops"},
    {Unit::kMxm, "mxm", UnitKind::kMatrix, "mxm sync", true,
     "matrix unit: MATMUL on int8 or fp16 operands"},
}};

struct TypeName {
  ElemType type;
  std::string_view name;
  int bytes;
};
constexpr std::array<TypeName, 9> kTypeNames = {{{ElemType::kNone, "", 0},
                                                 {ElemType::kI8, "i8", 1},
                                                 {ElemType::kU8, "u8", 1},
                                                 {ElemType::kI16, "i16", 2},
                                                 {ElemType::kU16, "u16", 2},
                                                 {ElemType::kI32, "i32", 4},
                                                 {ElemType::kU32, "u32", 4},
                                                 {ElemType::kF16, "f16", 2},
                                                 {ElemType::kF32, "f32", 4}}};

// Case-insensitive Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::toupper(static_cast<unsigned char>(a[i - 1])) ==
                        std::toupper(static_cast<unsigned char>(b[j - 1]));
      const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

}  // namespace

constexpr bool units_in_order() {
  for (std::size_t i = 0; i < kUnits.size(); ++i) {
    if (static_cast<std::size_t>(kUnits[i].unit) != i) return false;
  }
  return true;
}
static_assert(units_in_order(), "the unit table is indexed by Unit");

const std::array<UnitInfo, kUnitCount>& unit_table() { return kUnits; }

const UnitInfo& unit_info(Unit unit) { return kUnits.at(static_cast<std::size_t>(unit)); }

std::string_view unit_name(Unit unit) { return unit_info(unit).name; }

std::optional<Unit> parse_unit(std::string_view name) {
  for (const UnitInfo& info : kUnits) {
    if (info.name == name) return info.unit;
  }
  return std::nullopt;
}

std::string_view elem_type_name(ElemType type) {
  return kTypeNames.at(static_cast<std::size_t>(type)).name;
}

std::optional<ElemType> parse_elem_type(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const TypeName& t : kTypeNames) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

int elem_bytes(ElemType type) { return kTypeNames.at(static_cast<std::size_t>(type)).bytes; }

bool is_float(ElemType type) { return type == ElemType::kF16 || type == ElemType::kF32; }

const std::vector<OpcodeInfo>& opcode_table() {
  static const std::vector<OpcodeInfo> table = make_table();
  return table;
}

const OpcodeInfo& opcode_info(Opcode opcode) {
  // Called several times per instruction built, validated and run: one guarded reference to the
  // table instead of a call to opcode_table() each time.
  static const std::vector<OpcodeInfo>& table = opcode_table();
  return table.at(static_cast<std::size_t>(opcode));
}

std::optional<Opcode> parse_mnemonic(std::string_view mnemonic) {
  for (const OpcodeInfo& info : opcode_table()) {
    if (info.mnemonic == mnemonic) return info.opcode;
  }
  return std::nullopt;
}

std::string_view mnemonic(Opcode opcode) { return opcode_info(opcode).mnemonic; }

bool is_reduction(Opcode opcode) { return opcode == Opcode::kRsum || opcode == Opcode::kRmax; }

bool is_shift(Opcode opcode) {
  return opcode == Opcode::kShl || opcode == Opcode::kShr || opcode == Opcode::kSar;
}

std::string_view closest_mnemonic(std::string_view text) {
  constexpr std::size_t kMaxTypos = 2;
  std::string_view best;
  std::size_t best_distance = kMaxTypos + 1;
  for (const OpcodeInfo& info : opcode_table()) {
    const std::size_t d = edit_distance(text, info.mnemonic);
    if (d < best_distance) {
      best = info.mnemonic;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace lpusim
