// The opcode table: one entry per opcode in enum order, unique mnemonics that parse back, every
// opcode on the queue its operands imply, and the type / unit name helpers.
#include "kernels/isa.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

namespace lpusim {
namespace {

TEST(Isa, Table_HasOneEntryPerOpcodeInEnumOrder) {
  const auto& table = opcode_table();
  ASSERT_EQ(table.size(), static_cast<std::size_t>(kOpcodeCount));
  for (int i = 0; i < kOpcodeCount; ++i) {
    EXPECT_EQ(static_cast<int>(table[static_cast<std::size_t>(i)].opcode), i);
    EXPECT_EQ(&opcode_info(static_cast<Opcode>(i)), &table[static_cast<std::size_t>(i)]);
  }
}

TEST(Isa, Mnemonics_AreUniqueUpperCaseAndParseBack) {
  std::set<std::string> seen;
  for (const OpcodeInfo& info : opcode_table()) {
    EXPECT_FALSE(info.mnemonic.empty());
    for (char c : info.mnemonic) EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(seen.insert(std::string(info.mnemonic)).second) << info.mnemonic;
    EXPECT_EQ(parse_mnemonic(info.mnemonic), info.opcode);
    EXPECT_EQ(mnemonic(info.opcode), info.mnemonic);
  }
  EXPECT_FALSE(parse_mnemonic("shl").has_value());
  EXPECT_FALSE(parse_mnemonic("SHR.u16").has_value());
}

TEST(Isa, EveryOpcode_RunsOnTheQueueItsOperandsImply) {
  for (const OpcodeInfo& info : opcode_table()) {
    switch (info.cost) {
      case CostClass::kDispatch:
        EXPECT_FALSE(info.unit.has_value()) << info.mnemonic;
        EXPECT_EQ(info.types, TypeRule::kNone);
        break;
      case CostClass::kTransfer:
        EXPECT_EQ(info.unit, Unit::kMem) << info.mnemonic;
        EXPECT_TRUE(info.operands & kOpBytes);
        break;
      case CostClass::kVectorAlu:
      case CostClass::kTranscendental:
        EXPECT_EQ(info.unit, Unit::kVxm) << info.mnemonic;
        EXPECT_TRUE(info.operands & kOpShape);
        EXPECT_TRUE(info.operands & kOpType);
        break;
      case CostClass::kMatmul:
        EXPECT_EQ(info.unit, Unit::kMxm) << info.mnemonic;
        EXPECT_TRUE(info.operands & kOpMatmul);
        break;
    }
  }
  EXPECT_EQ(opcode_info(Opcode::kCvt).types, TypeRule::kConvert);
  EXPECT_TRUE(opcode_info(Opcode::kCvt).operands & kOpSrcType);
  EXPECT_EQ(opcode_info(Opcode::kShl).types, TypeRule::kInteger);
  EXPECT_EQ(opcode_info(Opcode::kRecip).cost, CostClass::kTranscendental);
  EXPECT_TRUE(is_reduction(Opcode::kRsum));
  EXPECT_TRUE(is_shift(Opcode::kSar));
  EXPECT_FALSE(is_shift(Opcode::kAnd));
}

TEST(Isa, UnitAndTypeNames_RoundTrip) {
  for (int u = 0; u < kUnitCount; ++u) {
    EXPECT_EQ(parse_unit(unit_name(static_cast<Unit>(u))), static_cast<Unit>(u));
  }
  EXPECT_FALSE(parse_unit("alu").has_value());
  const ElemType types[] = {ElemType::kI8,  ElemType::kU8,  ElemType::kI16, ElemType::kU16,
                            ElemType::kI32, ElemType::kU32, ElemType::kF16, ElemType::kF32};
  const int bytes[] = {1, 1, 2, 2, 4, 4, 2, 4};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(parse_elem_type(elem_type_name(types[i])), types[i]);
    EXPECT_EQ(elem_bytes(types[i]), bytes[i]);
  }
  EXPECT_FALSE(parse_elem_type("").has_value());
  EXPECT_FALSE(parse_elem_type("i64").has_value());
  EXPECT_TRUE(is_float(ElemType::kF16));
  EXPECT_FALSE(is_float(ElemType::kI32));
}

TEST(Isa, ClosestMnemonic_SuggestsWithinTwoEdits) {
  EXPECT_EQ(closest_mnemonic("SHLL"), "SHL");
  EXPECT_EQ(closest_mnemonic("matmull"), "MATMUL");
  EXPECT_EQ(closest_mnemonic("NOTFY"), "NOTIFY");
  EXPECT_EQ(closest_mnemonic("XYZZYQ"), "");
}

}  // namespace
}  // namespace lpusim
