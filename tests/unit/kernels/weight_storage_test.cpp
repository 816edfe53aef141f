// What a weight format stores, owned by the format alone: its metadata fields, the bytes a matrix
// occupies (stored_bytes, checked against counts by hand) and the element sizes used to lay out
// weights and activations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/format.h"
#include "kernels/isa.h"
#include "kernels/quantizer.h"

namespace lpusim {
namespace {

using ::testing::ElementsAre;

TEST(ElemSizes, NamedSizesAreTheIsaElementSizes) {
  EXPECT_EQ(kFp16Bytes, elem_bytes(ElemType::kF16));
  EXPECT_EQ(kF32Bytes, elem_bytes(ElemType::kF32));
  EXPECT_EQ(kInt32Bytes, elem_bytes(ElemType::kI32));
  EXPECT_EQ(kInt8Bytes, elem_bytes(ElemType::kI8));
  EXPECT_EQ(kU16Bytes, elem_bytes(ElemType::kU16));
}

TEST(MetadataLayout, EveryIntegerFormatStoresAnFp16ScaleThenAnFp16OffsetPerGroup) {
  for (const std::string& name : builtin_format_names()) {
    const WeightFormat f = parse_format(name);
    if (f.is_float()) continue;
    ASSERT_EQ(f.metadata.size(), 2u) << name;
    EXPECT_EQ(f.metadata[0].name, "scales") << name;
    EXPECT_EQ(f.metadata[0].type, ElemType::kF16) << name;
    EXPECT_EQ(f.metadata[1].name, "offsets") << name;
    EXPECT_EQ(f.metadata[1].type, ElemType::kF16) << name;
    EXPECT_EQ(f.metadata_bytes_per_group(), 4u) << name;
  }
  EXPECT_EQ(parse_format("pattern:4,3").metadata, scale_offset_metadata());
}

TEST(MetadataLayout, Fp16StoresNoMetadata) {
  const WeightFormat f = parse_format("fp16");
  EXPECT_TRUE(f.metadata.empty());
  EXPECT_EQ(f.metadata_bytes_per_group(), 0u);
}

TEST(MetadataLayout, StoredTensorSuffixesAreTheCodesThenEveryMetadataField) {
  EXPECT_THAT(
      stored_tensor_suffixes(),
      ElementsAre("qweight", "scales", "offsets", "channel_scales", "group_scales", "group_zeros"));
}

TEST(StoredBytes, AreCodesPlusMetadataCountedByHand) {
  // 4096 x 4096, G = 128: 4096 / 128 = 32 groups a row, each an fp16 scale + fp16 offset =
  // 4 bytes, so 32 * 4 = 128 metadata bytes a row and 4096 * 128 = 524288 for the matrix.
  constexpr std::uint64_t kMeta = 4096ull * 32 * (2 + 2);
  static_assert(kMeta == 524288, "hand count");
  // int4: two codes a byte, 4096 * 4096 / 2 = 8388608 code bytes.
  EXPECT_EQ(parse_format("int4").stored_bytes(4096, 4096, 128), 8388608u + kMeta);
  // q3.5: 2048 seven-bit pair codes a row = 14336 bits = 1792 bytes; 4096 rows = 7340032.
  EXPECT_EQ(parse_format("q3.5").stored_bytes(4096, 4096, 128), 7340032u + kMeta);
  // q3.5-b8: one byte a pair code, 2048 bytes a row, as int4.
  EXPECT_EQ(parse_format("q3.5-b8").stored_bytes(4096, 4096, 128), 8388608u + kMeta);
  // int8: one byte a code, 16777216 code bytes.
  EXPECT_EQ(parse_format("int8").stored_bytes(4096, 4096, 128), 16777216u + kMeta);
  // q3: 4096 * 3 bits = 1536 bytes a row; q2.5: 2048 five-bit pair codes = 1280 bytes a row.
  EXPECT_EQ(parse_format("q3").stored_bytes(4096, 4096, 128), 4096u * 1536 + kMeta);
  EXPECT_EQ(parse_format("q2.5").stored_bytes(4096, 4096, 128), 4096u * 1280 + kMeta);
  // fp16: 2 bytes a weight, no metadata.
  EXPECT_EQ(parse_format("fp16").stored_bytes(4096, 4096, 128), 33554432u);
}

TEST(StoredBytes, PerChannelIsOneGroupAndAShortLastGroupStillCarriesMetadata) {
  // int8 per channel: 4096 * 4096 code bytes + 4096 rows * 1 group * 4 bytes.
  EXPECT_EQ(parse_format("int8").stored_bytes(4096, 4096, kPerChannel), 16777216u + 16384u);
  // int4 [3, 200], G = 128: 100 code bytes a row, groups of 128 and 72 = 8 metadata bytes a row,
  // 3 * 108 = 324.
  EXPECT_EQ(parse_format("int4").stored_row_bytes(200, 128), 108u);
  EXPECT_EQ(parse_format("int4").stored_bytes(3, 200, 128), 324u);
  // q2.5 [2, 10], G = 4: 5 pair codes * 5 bits = 25 bits = 4 bytes; ceil(10 / 4) = 3 groups =
  // 12 metadata bytes; 2 * 16 = 32.
  EXPECT_EQ(parse_format("q2.5").stored_bytes(2, 10, 4), 32u);
  EXPECT_EQ(parse_format("q2.5").metadata_row_bytes(scale_offset_metadata()[1], 10, 4), 6u);
}

TEST(StoredBytes, QuantizedMatrixOccupiesWhatItsFormatSays) {
  const std::vector<float> w(6 * 40, 0.25f);
  for (const std::string& name : builtin_format_names()) {
    const WeightFormat f = parse_format(name);
    const QuantizedMatrix q = quantize(f, w.data(), 6, 40, 16);
    const std::size_t arrays =
        q.qweight.size() + sizeof(std::uint16_t) * (q.scales.size() + q.offsets.size());
    EXPECT_EQ(q.stored_bytes(), arrays) << name;
    EXPECT_EQ(q.stored_bytes(), f.stored_bytes(6, 40, 16)) << name;
  }
}

}  // namespace
}  // namespace lpusim
