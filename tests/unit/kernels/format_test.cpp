// Weight formats of docs/FORMATS.md: names, sizes, effective bits, the bit layout (golden vectors
// packed by hand), representability of codes, and round trips through the fast and generic paths.
#include "kernels/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace lpusim {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Bytes8 = std::vector<std::uint8_t>;
using Codes = std::vector<std::int8_t>;

// Packs with pack_row (the fast path for built-in formats) and checks the generic path writes the
// same bytes and both unpack paths give the codes back.
Bytes8 pack_and_check_paths(const std::string& name, const Codes& codes) {
  const WeightFormat f = parse_format(name);
  Bytes8 fast(f.row_bytes(codes.size()));
  Bytes8 generic(fast.size());
  pack_row(f, codes.data(), codes.size(), fast.data());
  pack_row_generic(f, codes.data(), codes.size(), generic.data());
  EXPECT_EQ(fast, generic) << name;
  Codes unpacked(codes.size());
  unpack_row(f, fast.data(), codes.size(), unpacked.data());
  EXPECT_EQ(unpacked, codes) << name;
  Codes unpacked_generic(codes.size());
  unpack_row_generic(f, fast.data(), codes.size(), unpacked_generic.data());
  EXPECT_EQ(unpacked_generic, codes) << name;
  return fast;
}

// --- names -----------------------------------------------------------------------------------

TEST(ParseFormat, BuiltinNamesHaveTheDesignPatterns) {
  struct Case {
    const char* name;
    std::vector<int> slots;
    bool padded;
  };
  const Case cases[] = {{"int8", {8}, false},      {"int4", {4}, false}, {"q3.5", {4, 3}, false},
                        {"q3.5-b8", {4, 3}, true}, {"q3", {3}, false},   {"q2.5", {3, 2}, false},
                        {"fp16", {}, false}};
  for (const auto& c : cases) {
    const WeightFormat f = parse_format(c.name);
    EXPECT_EQ(f.name, c.name);
    EXPECT_EQ(f.slot_bits, c.slots) << c.name;
    EXPECT_EQ(f.pad_pattern_to_byte, c.padded) << c.name;
  }
  EXPECT_THAT(builtin_format_names(),
              ElementsAreArray({"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5", "fp16"}));
  EXPECT_TRUE(parse_format("fp16").is_float());
}

TEST(ParseFormat, PatternAcceptsWidthsOneToEight) {
  const WeightFormat f = parse_format("pattern:8,2,5");
  EXPECT_EQ(f.name, "pattern:8,2,5");
  EXPECT_EQ(f.slot_bits, (std::vector<int>{8, 2, 5}));
  EXPECT_EQ(f.max_bits(), 8);
  EXPECT_EQ(f.pattern_length(), 3);
  EXPECT_EQ(f.pattern_bits(), 15);
  EXPECT_EQ(f.slot_shift(0), 0);
  EXPECT_EQ(f.slot_shift(1), 6);
  EXPECT_EQ(f.slot_shift(2), 3);
  EXPECT_EQ(parse_format("pattern:1").slot_bits, std::vector<int>{1});
  EXPECT_EQ(parse_format("pattern:1,2,3,4,5,6,7,8,8,7,6,5,4,3,2,1").pattern_length(), 16);
}

TEST(ParseFormat, UnknownNameListsTheAcceptedOnes) {
  try {
    parse_format("int3");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("int3"));
    EXPECT_THAT(e.what(), HasSubstr("q3.5-b8"));
    EXPECT_THAT(e.what(), HasSubstr("pattern:"));
  }
}

TEST(ParseFormat, BadPatternsAreInputErrors) {
  for (const char* bad :
       {"pattern:", "pattern:0", "pattern:9", "pattern:4,,3", "pattern:4,3,", "pattern:a",
        "pattern: 4", "pattern:-1", "pattern:1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"}) {
    EXPECT_THROW(parse_format(bad), InputError) << bad;
  }
}

TEST(ParseGroupSize, AcceptsPositiveIntegerOrPerChannel) {
  EXPECT_EQ(parse_group_size("128"), 128);
  EXPECT_EQ(parse_group_size("1"), 1);
  EXPECT_EQ(parse_group_size("per-channel"), kPerChannel);
  for (const char* bad : {"", "0", "-1", "12x", "abc", "1e3", " 128", "99999999999"}) {
    EXPECT_THROW(parse_group_size(bad), InputError) << bad;
  }
}

// --- sizes -----------------------------------------------------------------------------------

TEST(GroupCount, IsCeilKOverGAndLastGroupIsShorter) {
  EXPECT_EQ(group_count(256, 128), 2u);
  EXPECT_EQ(group_count(257, 128), 3u);
  EXPECT_EQ(group_count(100, 128), 1u);
  EXPECT_EQ(group_count(4096, kPerChannel), 1u);
  EXPECT_EQ(group_count(0, 128), 0u);
  EXPECT_THROW(group_count(128, -1), InputError);
}

TEST(RowBytes, PatternCodesPackDenselyFromAByteBoundary) {
  EXPECT_EQ(parse_format("int8").row_bytes(5), 5u);
  EXPECT_EQ(parse_format("int4").row_bytes(5), 3u);      // 20 bits
  EXPECT_EQ(parse_format("q3.5").row_bytes(16), 7u);     // 8 codes x 7 bits
  EXPECT_EQ(parse_format("q3.5").row_bytes(4), 2u);      // 14 bits
  EXPECT_EQ(parse_format("q3.5-b8").row_bytes(16), 8u);  // one byte per pair
  EXPECT_EQ(parse_format("q3").row_bytes(8), 3u);
  EXPECT_EQ(parse_format("q2.5").row_bytes(16), 5u);
  EXPECT_EQ(parse_format("pattern:8,2,5").row_bytes(6), 4u);  // 30 bits
  EXPECT_EQ(parse_format("fp16").row_bytes(7), 14u);
}

TEST(RowBytes, KNotAMultipleOfThePatternLengthIsAnInputError) {
  EXPECT_THROW(parse_format("q3.5").row_bytes(7), InputError);
  EXPECT_THROW(parse_format("pattern:8,2,5").row_bytes(4), InputError);
  std::int8_t codes[3] = {};
  std::uint8_t out[4] = {};
  EXPECT_THROW(pack_row(parse_format("q2.5"), codes, 3, out), InputError);
  EXPECT_THROW(unpack_row(parse_format("q2.5"), out, 3, codes), InputError);
}

TEST(EffectiveBits, IncludeThirtyTwoBitsOfMetadataPerGroup) {
  // The examples of docs/FORMATS.md, "Groups and metadata".
  EXPECT_DOUBLE_EQ(parse_format("q3.5").effective_bits_per_weight(4096, 128), 3.75);
  EXPECT_DOUBLE_EQ(parse_format("int4").effective_bits_per_weight(4096, 128), 4.25);
  EXPECT_DOUBLE_EQ(parse_format("fp16").effective_bits_per_weight(4096, 128), 16.0);
  EXPECT_DOUBLE_EQ(parse_format("int8").effective_bits_per_weight(4096, 128), 8.25);
  EXPECT_DOUBLE_EQ(parse_format("q3.5-b8").effective_bits_per_weight(4096, 128), 4.25);
  EXPECT_DOUBLE_EQ(parse_format("q3").effective_bits_per_weight(4096, 128), 3.25);
  EXPECT_DOUBLE_EQ(parse_format("q2.5").effective_bits_per_weight(4096, 128), 2.75);
  EXPECT_DOUBLE_EQ(parse_format("int4").effective_bits_per_weight(4096, kPerChannel),
                   4.0 + 32.0 / 4096);
  // K = 200, G = 128: two groups, the second of 72 weights.
  EXPECT_DOUBLE_EQ(parse_format("int4").effective_bits_per_weight(200, 128), 4.0 + 64.0 / 200);
  EXPECT_DOUBLE_EQ(parse_format("q3.5").code_bits_per_weight(), 3.5);
  EXPECT_DOUBLE_EQ(parse_format("q3.5-b8").code_bits_per_weight(), 4.0);
}

// --- golden vectors, packed by hand -------------------------------------------------------------

TEST(Int8Pack, CodesAreTheirTwosComplementBytes) {
  const Codes codes = {1, -1, 127, -128};
  EXPECT_EQ(pack_and_check_paths("int8", codes), (Bytes8{0x01, 0xFF, 0x7F, 0x80}));
}

TEST(Int4Pack, EvenKInLowNibble) {
  // k:     0     1     2     3     4
  // c:     1    -2     7    -8     3
  // bits: 0001  1110  0111  1000  0011
  // byte0 = k1:k0 = 1110 0001 = 0xE1; byte1 = k3:k2 = 1000 0111 = 0x87; byte2 = 0000 0011.
  const Codes codes = {1, -2, 7, -8, 3};
  EXPECT_EQ(pack_and_check_paths("int4", codes), (Bytes8{0xE1, 0x87, 0x03}));
}

TEST(Q35Pack, SevenBitPairCodesCrossByteBoundaries) {
  // Slots [4, 3], bmax 4: c0 = v0, c1 = v1 << 1. p = ((v0 & 0xF) << 3) | (v1 & 7).
  //   pair (v0, v1)   c0, c1    p
  //   ( 5, -3)         5, -6    0101 101 = 0x2D   row bits 0-6
  //   (-8,  3)        -8,  6    1000 011 = 0x43   row bits 7-13
  //   (-1, -4)        -1, -8    1111 100 = 0x7C   row bits 14-20
  //   ( 7,  0)         7,  0    0111 000 = 0x38   row bits 21-27
  // byte0 = p1 bit 0 | p0           = 1 0101101 = 0xAD
  // byte1 = p2 bits 0-1 | p1 bits 1-6 = 00 100001 = 0x21
  // byte2 = p3 bits 0-2 | p2 bits 2-6 = 000 11111 = 0x1F
  // byte3 = p3 bits 3-6              = 0000 0111 = 0x07
  const Codes codes = {5, -6, -8, 6, -1, -8, 7, 0};
  EXPECT_EQ(pack_and_check_paths("q3.5", codes), (Bytes8{0xAD, 0x21, 0x1F, 0x07}));
}

TEST(Q35B8Pack, EachPairCodeInItsOwnByteWithBitSevenZero) {
  // The same pairs as above: one 7-bit pair code per byte.
  const Codes codes = {5, -6, -8, 6, -1, -8, 7, 0};
  EXPECT_EQ(pack_and_check_paths("q3.5-b8", codes), (Bytes8{0x2D, 0x43, 0x7C, 0x38}));
}

TEST(Q3Pack, ThreeBitCodesPackLsbFirst) {
  // c:     3   -4   -1    1    2    0   -3   -2
  // bits: 011  100  111  001  010  000  101  110   at row bits 0, 3, 6, ..., 21
  // byte0 = (c2 bits 0-1) (c1) (c0)       = 11 100 011 = 0xE3
  // byte1 = (c5 bit 0) (c4) (c3) (c2 bit 2) = 0 010 001 1 = 0x23
  // byte2 = (c7) (c6) (c5 bits 1-2)        = 110 101 00 = 0xD4
  const Codes codes = {3, -4, -1, 1, 2, 0, -3, -2};
  EXPECT_EQ(pack_and_check_paths("q3", codes), (Bytes8{0xE3, 0x23, 0xD4}));
}

TEST(Q25Pack, FiveBitPairCodesThreeBitSlotFirst) {
  // Slots [3, 2], bmax 3: c1 = v1 << 1. p = ((v0 & 7) << 2) | (v1 & 3).
  //   ( 3, -2) -> 011 10 = 0x0E  bits 0-4
  //   (-4,  1) -> 100 01 = 0x11  bits 5-9
  //   (-1, -1) -> 111 11 = 0x1F  bits 10-14
  //   ( 2,  0) -> 010 00 = 0x08  bits 15-19
  // byte0 = p1 bits 0-2 | p0            = 001 01110 = 0x2E
  // byte1 = p3 bit 0 | p2 | p1 bits 3-4 = 0 11111 10 = 0x7E
  // byte2 = p3 bits 1-4                 = 0000 0100 = 0x04
  const Codes codes = {3, -4, -4, 2, -1, -2, 2, 0};
  EXPECT_EQ(pack_and_check_paths("q2.5", codes), (Bytes8{0x2E, 0x7E, 0x04}));
}

TEST(PatternPack, FirstSlotTakesTheMostSignificantBits) {
  // pattern:8,2,5, bmax 8: c0 = v0, c1 = v1 << 6, c2 = v2 << 3; p = v0 << 7 | v1 << 5 | v2.
  //   (-100, 1, -16): 10011100 01 10000 = 0x4E30, row bits 0-14
  //   (   5,-2,  15): 00000101 10 01111 = 0x02CF, row bits 15-29
  // row = 0x02CF << 15 | 0x4E30 = 0x0167CE30 -> bytes 30 CE 67 01
  const Codes codes = {-100, 64, -128, 5, -128, 120};
  EXPECT_EQ(pack_and_check_paths("pattern:8,2,5", codes), (Bytes8{0x30, 0xCE, 0x67, 0x01}));
}

TEST(PatternPack, OneBitSlotsStoreMinusOneAsASetBit) {
  // pattern:1 holds v in [-1, 0]: bits 1 0 0 1 1 1 0 0 | 1 -> 0x39, 0x01.
  const Codes codes = {-1, 0, 0, -1, -1, -1, 0, 0, -1};
  EXPECT_EQ(pack_and_check_paths("pattern:1", codes), (Bytes8{0x39, 0x01}));
}

// --- representability ---------------------------------------------------------------------------

bool representable(const WeightFormat& f, int slot, int c) {
  const int b = f.slot_bits[static_cast<std::size_t>(slot)];
  const int shift = f.slot_shift(slot);
  for (int v = -(1 << (b - 1)); v <= (1 << (b - 1)) - 1; ++v) {
    if (v * (1 << shift) == c) return true;
  }
  return false;
}

TEST(PackRow, AcceptsExactlyTheCodesOfEachSlot) {
  for (const char* name : {"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5", "pattern:1",
                           "pattern:8,2,5", "pattern:5,7,1"}) {
    const WeightFormat f = parse_format(name);
    const int len = f.pattern_length();
    for (int slot = 0; slot < len; ++slot) {
      for (int c = -128; c <= 127; ++c) {
        Codes codes(static_cast<std::size_t>(len), 0);
        codes[static_cast<std::size_t>(slot)] = static_cast<std::int8_t>(c);
        Bytes8 out(f.row_bytes(codes.size()) + 1);
        if (representable(f, slot, c)) {
          EXPECT_NO_THROW(pack_row(f, codes.data(), codes.size(), out.data()))
              << name << " slot " << slot << " c " << c;
        } else {
          EXPECT_THROW(pack_row(f, codes.data(), codes.size(), out.data()), InputError)
              << name << " slot " << slot << " c " << c;
        }
      }
    }
  }
}

TEST(PackRow, OneUnrepresentableCodeAnywhereInALongRowIsFound) {
  // Long rows go through the 8-codes-per-word check; every position, including the tail after
  // the last whole word, must be caught and named.
  std::mt19937 rng(5);
  for (const char* name :
       {"int4", "q3.5", "q3.5-b8", "q3", "q2.5", "pattern:1", "pattern:8,2,5", "pattern:5,7,1"}) {
    const WeightFormat f = parse_format(name);
    const auto len = static_cast<std::size_t>(f.pattern_length());
    const std::size_t k = 37 * len;
    Codes codes(k, 0);
    Bytes8 out(f.row_bytes(k));
    for (std::size_t i = 0; i < k; ++i) {
      const int slot = static_cast<int>(i % len);
      std::vector<int> bad;
      for (int c = -128; c <= 127; ++c) {
        if (!representable(f, slot, c)) bad.push_back(c);
      }
      if (bad.empty()) continue;  // an 8-bit slot holds every int8
      for (int c : {bad.front(), bad.back(), bad[rng() % bad.size()]}) {
        codes[i] = static_cast<std::int8_t>(c);
        try {
          pack_row(f, codes.data(), k, out.data());
          ADD_FAILURE() << name << " accepted c " << c << " at " << i;
        } catch (const InputError& e) {
          EXPECT_THAT(e.what(), HasSubstr("column " + std::to_string(i) + " ")) << name;
        }
      }
      codes[i] = 0;
    }
  }
}

TEST(PackRow, UnrepresentableCodeErrorNamesColumnAndSlot) {
  const WeightFormat f = parse_format("q3.5");
  const Codes codes = {0, 0, 0, 0, 0, 3};  // slot 1 holds multiples of 2 only
  Bytes8 out(f.row_bytes(codes.size()));
  try {
    pack_row(f, codes.data(), codes.size(), out.data());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("column 5"));
    EXPECT_THAT(e.what(), HasSubstr("slot 1"));
    EXPECT_THAT(e.what(), HasSubstr("[-8, 6]"));
  }
  const Codes int4 = {8};
  EXPECT_THROW(pack_row(parse_format("int4"), int4.data(), 1, out.data()), InputError);
}

TEST(PackRow, Fp16HasNoIntegerCodes) {
  std::int8_t codes[2] = {};
  std::uint8_t out[4] = {};
  EXPECT_THROW(pack_row(parse_format("fp16"), codes, 2, out), InputError);
  EXPECT_THROW(unpack_row(parse_format("fp16"), out, 2, codes), InputError);
}

// --- round trips --------------------------------------------------------------------------------

const char* const kRoundTripFormats[] = {
    "int8",      "int4",          "q3.5",        "q3.5-b8",
    "q3",        "q2.5",          "pattern:1",   "pattern:2",
    "pattern:5", "pattern:8,2,5", "pattern:4,3", "pattern:3,3,2",
    "pattern:7", "pattern:6",     "pattern:8,8", "pattern:1,2,3,4,5,6,7,8,8,7,6,5,4,3,2,1"};

Codes random_codes(const WeightFormat& f, std::size_t k, std::mt19937& rng) {
  Codes codes(k);
  const auto len = static_cast<std::size_t>(f.pattern_length());
  for (std::size_t i = 0; i < k; ++i) {
    const int slot = static_cast<int>(i % len);
    const int b = f.slot_bits[static_cast<std::size_t>(slot)];
    std::uniform_int_distribution<int> v(-(1 << (b - 1)), (1 << (b - 1)) - 1);
    codes[i] = static_cast<std::int8_t>(v(rng) * (1 << f.slot_shift(slot)));
  }
  return codes;
}

TEST(RoundTrip, RandomCodesSurvivePackAndUnpackForEveryFormatAndK) {
  std::mt19937 rng(20240601);
  constexpr std::uint8_t kGuard = 0xA5;
  for (const char* name : kRoundTripFormats) {
    const WeightFormat f = parse_format(name);
    const auto len = static_cast<std::size_t>(f.pattern_length());
    for (std::size_t patterns = 0; patterns <= 70; ++patterns) {
      const std::size_t k = patterns * len;
      const Codes codes = random_codes(f, k, rng);
      const std::size_t bytes = f.row_bytes(k);
      // Guard bytes after the row: pack must write exactly row_bytes(k) bytes.
      Bytes8 fast(bytes + 9, kGuard);
      Bytes8 generic(bytes + 9, kGuard);
      pack_row(f, codes.data(), k, fast.data());
      pack_row_generic(f, codes.data(), k, generic.data());
      ASSERT_EQ(fast, generic) << name << " k=" << k;
      for (std::size_t i = bytes; i < fast.size(); ++i) ASSERT_EQ(fast[i], kGuard) << name;
      Codes back(k + 9, 0x5A);
      unpack_row(f, fast.data(), k, back.data());
      ASSERT_EQ(Codes(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(k)), codes)
          << name << " k=" << k;
      for (std::size_t i = k; i < back.size(); ++i) ASSERT_EQ(back[i], 0x5A) << name;
      Codes back_generic(k);
      unpack_row_generic(f, fast.data(), k, back_generic.data());
      ASSERT_EQ(back_generic, codes) << name << " k=" << k;
    }
  }
}

TEST(RoundTrip, LongRowsUseTheFastBlocksAndMatchTheGenericPath) {
  std::mt19937 rng(7);
  for (const char* name : kRoundTripFormats) {
    const WeightFormat f = parse_format(name);
    const auto len = static_cast<std::size_t>(f.pattern_length());
    for (std::size_t k : {std::size_t{4096}, std::size_t{4104}, std::size_t{11008}}) {
      k = k / len * len;
      const Codes codes = random_codes(f, k, rng);
      Bytes8 fast(f.row_bytes(k));
      Bytes8 generic(f.row_bytes(k));
      pack_row(f, codes.data(), k, fast.data());
      pack_row_generic(f, codes.data(), k, generic.data());
      ASSERT_EQ(fast, generic) << name << " k=" << k;
      Codes back(k);
      unpack_row(f, fast.data(), k, back.data());
      ASSERT_EQ(back, codes) << name << " k=" << k;
    }
  }
}

TEST(RoundTrip, UnpackOfArbitraryBytesAgreesBetweenPathsAndRepacksToTheSameBytes) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const char* name : kRoundTripFormats) {
    const WeightFormat f = parse_format(name);
    const auto len = static_cast<std::size_t>(f.pattern_length());
    for (std::size_t patterns = 1; patterns <= 40; ++patterns) {
      const std::size_t k = patterns * len;
      Bytes8 bytes(f.row_bytes(k));
      for (auto& b : bytes) b = static_cast<std::uint8_t>(byte(rng));
      // Bits no code owns (the tail of the last byte, bit 7 of q3.5-b8) are not stored.
      Bytes8 canonical(bytes.size());
      Codes fast(k);
      Codes generic(k);
      unpack_row(f, bytes.data(), k, fast.data());
      unpack_row_generic(f, bytes.data(), k, generic.data());
      ASSERT_EQ(fast, generic) << name << " k=" << k;
      pack_row(f, fast.data(), k, canonical.data());  // every unpacked code is representable
      Codes again(k);
      unpack_row(f, canonical.data(), k, again.data());
      ASSERT_EQ(again, fast) << name;
    }
  }
}

TEST(PackRowUnchecked, MasksEachCodeIntoItsSlotLikeTheGenericPath) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> any(-128, 127);
  for (const char* name : kRoundTripFormats) {
    const WeightFormat f = parse_format(name);
    const std::size_t k = 40 * static_cast<std::size_t>(f.pattern_length());
    Codes codes(k);
    for (auto& c : codes) c = static_cast<std::int8_t>(any(rng));
    Bytes8 fast(f.row_bytes(k));
    Bytes8 generic(f.row_bytes(k));
    pack_row_unchecked(f, codes.data(), k, fast.data());
    pack_row_generic(f, codes.data(), k, generic.data());
    EXPECT_EQ(fast, generic) << name;
  }
}

}  // namespace
}  // namespace lpusim
