// Tests of the safetensors reader and writer: round trips, float conversion, every kind of
// malformed file (a clear InputError naming file and tensor, never a crash), atomic writes.
#include "sim/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lpusim-st-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes 8-byte length + header + data, as a hand-made (possibly malformed) file.
  std::string write_raw(const std::string& header, const std::string& data,
                        const std::string& name = "bad.safetensors") {
    const std::uint64_t length = header.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    return write_bytes(bytes + header + data, name);
  }

  std::string write_bytes(const std::string& bytes, const std::string& name = "bad.safetensors") {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
};

std::string error_of(const std::string& file) {
  try {
    SafetensorsFile reader(file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string bytes_of(const std::vector<std::uint16_t>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 2);
}

// --- round trip -------------------------------------------------------------------------------

TEST_F(SafetensorsTest, WriteThenRead_TensorsBytesAndMetadataSurvive) {
  const std::vector<std::uint8_t> codes = {1, 2, 3, 4, 5, 6};
  const std::vector<float> floats = {1.5f, -2.0f, 0.25f};
  const std::vector<std::uint16_t> halves = {0x3C00, 0xC000};  // 1.0, -2.0
  SafetensorsWriter writer(path("out.safetensors"),
                           {{"codes", Dtype::kU8, {2, 3}},
                            {"floats", Dtype::kF32, {3}},
                            {"halves", Dtype::kF16, {1, 2}}},
                           {{"format", "q3.5"}, {"k", "6"}});
  writer.write("codes", codes.data(), 4);  // in two chunks
  writer.write("codes", codes.data() + 4, 2);
  writer.write("floats", floats.data(), 12);
  writer.write("halves", halves.data(), 4);
  writer.commit();

  SafetensorsFile file(path("out.safetensors"));
  EXPECT_EQ(file.metadata(), (SafetensorsMetadata{{"format", "q3.5"}, {"k", "6"}}));
  ASSERT_EQ(file.tensors().size(), 3u);
  const TensorInfo& info = file.tensor("codes");
  EXPECT_EQ(info.dtype, Dtype::kU8);
  EXPECT_EQ(info.shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(info.begin, 0u);
  EXPECT_EQ(info.end, 6u);
  EXPECT_EQ(std::vector<std::uint8_t>(file.data(info), file.data(info) + 6), codes);
  EXPECT_EQ(file.read_float(file.tensor("floats")), floats);
  EXPECT_EQ(file.read_float(file.tensor("halves")), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(files(), std::vector<std::string>{"out.safetensors"});
}

TEST_F(SafetensorsTest, Header_IsSortedJsonPaddedWithSpacesToAMultipleOf8) {
  const std::string header = SafetensorsWriter::header_json(
      {{"b", Dtype::kU8, {3}}, {"a", Dtype::kF16, {2, 2}}}, {{"format", "int4"}});
  EXPECT_EQ(header.size() % 8, 0u);
  EXPECT_EQ(header.substr(0, header.find_last_not_of(' ') + 1),
            R"({"__metadata__":{"format":"int4"},"a":{"data_offsets":[3,11],"dtype":"F16",)"
            R"("shape":[2,2]},"b":{"data_offsets":[0,3],"dtype":"U8","shape":[3]}})");
}

TEST_F(SafetensorsTest, EmptyFile_WithNoTensorsRoundTrips) {
  SafetensorsWriter writer(path("empty.safetensors"), {}, {});
  writer.commit();
  SafetensorsFile file(path("empty.safetensors"));
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_TRUE(file.metadata().empty());
}

// --- float conversion -------------------------------------------------------------------------

TEST_F(SafetensorsTest, ReadFloat_ConvertsF32F16Bf16AndF64Exactly) {
  const std::vector<float> f32 = {1.5f, -0.375f};
  const std::vector<std::uint16_t> f16 = {0x3E00, 0xB600};   // 1.5, -0.375
  const std::vector<std::uint16_t> bf16 = {0x3FC0, 0xBEC0};  // 1.5, -0.375
  const std::vector<double> f64 = {1.5, -0.375};
  const std::string data = std::string(reinterpret_cast<const char*>(f32.data()), 8) +
                           bytes_of(f16) + bytes_of(bf16) +
                           std::string(reinterpret_cast<const char*>(f64.data()), 16);
  const std::string file_path =
      write_raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
                R"("c":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},)"
                R"("d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}})",
                data, "floats.safetensors");
  SafetensorsFile file(file_path);
  for (const char* name : {"a", "b", "c", "d"}) {
    EXPECT_EQ(file.read_float(file.tensor(name)), f32) << name;
  }
}

TEST_F(SafetensorsTest, ReadFloatRows_ReturnsTheRequestedRowsOnly) {
  const std::vector<std::uint16_t> bf16 = {0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0};
  const std::string file_path =
      write_raw(R"({"w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,12]}})", bytes_of(bf16));
  SafetensorsFile file(file_path);
  std::vector<float> rows(4);
  file.read_float_rows(file.tensor("w"), 1, 2, rows.data());
  EXPECT_EQ(rows, (std::vector<float>{3, 4, 5, 6}));
}

TEST_F(SafetensorsTest, ReadFloat_OfAnIntegerTensorIsAnInputErrorNamingIt) {
  const std::string file_path =
      write_raw(R"({"ids":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", std::string(4, 0));
  SafetensorsFile file(file_path);
  EXPECT_THAT([&] { file.read_float(file.tensor("ids")); },
              ::testing::ThrowsMessage<InputError>(
                  AllOf(HasSubstr(file_path), HasSubstr("'ids'"), HasSubstr("I32"))));
}

TEST_F(SafetensorsTest, MissingTensor_IsAnInputErrorNamingFileAndTensor) {
  const std::string file_path = write_raw("{}", "");
  SafetensorsFile file(file_path);
  EXPECT_THAT([&] { file.tensor("nope"); }, ::testing::ThrowsMessage<InputError>(
                                                AllOf(HasSubstr(file_path), HasSubstr("'nope'"))));
}

TEST_F(SafetensorsTest, SelectFloatMatrices_KeepsNonEmpty2dFloatTensorsMatchingTheRegex) {
  const std::string file_path =
      write_raw(R"({"l0.w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},)"
                R"("l0.b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                R"("l1.w":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},)"
                R"("ids":{"dtype":"I32","shape":[1,1],"data_offsets":[12,16]},)"
                R"("empty":{"dtype":"F32","shape":[0,4],"data_offsets":[16,16]}})",
                std::string(16, 0));
  SafetensorsFile file(file_path);
  auto names = [](const std::vector<const TensorInfo*>& infos) {
    std::vector<std::string> out;
    for (const TensorInfo* info : infos) out.push_back(info->name);
    return out;
  };
  EXPECT_EQ(names(select_float_matrices(file, "")), (std::vector<std::string>{"l0.w", "l1.w"}));
  EXPECT_EQ(names(select_float_matrices(file, "^l1")), std::vector<std::string>{"l1.w"});
  EXPECT_THROW(select_float_matrices(file, "(unclosed"), InputError);
}

// --- malformed files: each an InputError naming the file (and the tensor) ----------------------

TEST_F(SafetensorsTest, FileShorterThan8Bytes_IsRejected) {
  const std::string file_path = write_bytes("abc");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr(file_path), HasSubstr("too short")));
}

TEST_F(SafetensorsTest, MissingFile_IsRejected) {
  EXPECT_THAT(error_of(path("absent.safetensors")),
              AllOf(HasSubstr("absent.safetensors"), HasSubstr("cannot open")));
}

TEST_F(SafetensorsTest, HeaderLengthBeyondTheFile_IsRejected) {
  std::string bytes(8, '\0');
  const std::uint64_t length = 1000;
  std::memcpy(bytes.data(), &length, 8);
  const std::string file_path = write_bytes(bytes + "{}");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr(file_path), HasSubstr("header length 1000")));
}

TEST_F(SafetensorsTest, HugeHeaderLength_IsRejectedWithoutOverflow) {
  const std::string file_path = write_bytes(std::string(8, '\xff') + "{}");
  EXPECT_THAT(error_of(file_path), HasSubstr("header length 18446744073709551615"));
}

TEST_F(SafetensorsTest, TruncatedFile_IsRejected) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  const std::string file_path = write_raw(header, std::string(10, 0));
  EXPECT_THAT(error_of(file_path),
              AllOf(HasSubstr(file_path), HasSubstr("'w'"), HasSubstr("beyond the data area")));
}

TEST_F(SafetensorsTest, BadJson_IsRejected) {
  const std::string file_path = write_raw(R"({"w": {"dtype": "F32",)", "");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr(file_path), HasSubstr("not valid JSON")));
}

TEST_F(SafetensorsTest, NonObjectJson_IsRejected) {
  EXPECT_THAT(error_of(write_raw("[1, 2]", "")), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of(write_raw("", "")), HasSubstr("not a JSON object"));
}

TEST_F(SafetensorsTest, UnknownDtype_IsRejectedListingTheKnownOnes) {
  const std::string file_path =
      write_raw(R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}})", "xx");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr(file_path), HasSubstr("'w'"),
                                         HasSubstr("\"F12\""), HasSubstr("BF16")));
}

TEST_F(SafetensorsTest, ShapeTimesDtypeNotTheByteRange_IsRejected) {
  const std::string file_path =
      write_raw(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(20, 0));
  EXPECT_THAT(error_of(file_path),
              AllOf(HasSubstr("'w'"), HasSubstr("is 24 bytes"), HasSubstr("cover 20")));
}

TEST_F(SafetensorsTest, ShapeProductOverflow_IsRejected) {
  const std::string file_path = write_raw(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", "");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr("'w'"), HasSubstr("overflows")));
}

TEST_F(SafetensorsTest, OffsetsBeyondTheData_AreRejected) {
  const std::string file_path = write_raw(
      R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[18446744073709551612,18446744073709551616]}})",
      "abcd");
  EXPECT_THAT(error_of(file_path), HasSubstr("'w'"));
}

TEST_F(SafetensorsTest, BeginAfterEnd_IsRejected) {
  const std::string file_path =
      write_raw(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", "abcd");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr("'w'"), HasSubstr("begin is after end")));
}

TEST_F(SafetensorsTest, OverlappingRanges_AreRejectedNamingBothTensors) {
  const std::string file_path = write_raw(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                          R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                                          "abcdef");
  EXPECT_THAT(error_of(file_path), AllOf(HasSubstr("'b'"), HasSubstr("overlap tensor 'a'")));
}

TEST_F(SafetensorsTest, UnindexedBytes_AreRejectedAsTheFormatForbidsHoles) {
  const std::string gap = write_raw(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                    R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                                    "abcdef");
  EXPECT_THAT(error_of(gap), HasSubstr("bytes [2, 4)"));
  const std::string tail =
      write_raw(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd", "tail");
  EXPECT_THAT(error_of(tail), HasSubstr("bytes [2, 4)"));
}

TEST_F(SafetensorsTest, BadShapeOrOffsetValues_AreRejected) {
  EXPECT_THAT(error_of(write_raw(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", "")),
              AllOf(HasSubstr("'w'"), HasSubstr("shape")));
  EXPECT_THAT(error_of(write_raw(R"({"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}})", "")),
              HasSubstr("shape"));
  EXPECT_THAT(
      error_of(write_raw(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", "x")),
      HasSubstr("data_offsets"));
  EXPECT_THAT(error_of(write_raw(R"({"w":{"dtype":"U8","shape":[1]}})", "x")),
              AllOf(HasSubstr("'w'"), HasSubstr("missing 'data_offsets'")));
  EXPECT_THAT(error_of(write_raw(R"({"w":[1,2]})", "")), HasSubstr("expected an object"));
  EXPECT_THAT(error_of(write_raw(
                  R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}})", "x")),
              HasSubstr("unknown key 'extra'"));
}

TEST_F(SafetensorsTest, BadMetadata_IsRejected) {
  EXPECT_THAT(error_of(write_raw(R"({"__metadata__":{"format":3}})", "")),
              AllOf(HasSubstr("__metadata__"), HasSubstr("'format'")));
  EXPECT_THAT(error_of(write_raw(R"({"__metadata__":"pt"})", "")), HasSubstr("__metadata__"));
}

TEST_F(SafetensorsTest, InvalidUtf8InTheHeader_IsRejected) {
  EXPECT_THAT(error_of(write_raw("{\"\xff\":1}", "")), HasSubstr("not valid JSON"));
}

// --- writer failures leave nothing behind ------------------------------------------------------

TEST_F(SafetensorsTest, WriterAbandonedBeforeCommit_LeavesNoFile) {
  {
    SafetensorsWriter writer(path("out.safetensors"), {{"w", Dtype::kU8, {4}}}, {});
    EXPECT_EQ(files().size(), 1u);  // the temporary file
    writer.write("w", "ab", 2);
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(SafetensorsTest, WriterCommitOfAnIncompleteTensor_ThrowsAndLeavesNoFile) {
  {
    SafetensorsWriter writer(path("out.safetensors"), {{"w", Dtype::kU8, {4}}}, {});
    writer.write("w", "ab", 2);
    EXPECT_THROW(writer.commit(), std::logic_error);
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(SafetensorsTest, WriterOutOfOrderOrOversizedWrite_Throws) {
  SafetensorsWriter writer(path("out.safetensors"),
                           {{"a", Dtype::kU8, {1}}, {"b", Dtype::kU8, {1}}}, {});
  EXPECT_THROW(writer.write("b", "x", 1), std::logic_error);
  EXPECT_THROW(writer.write("a", "xy", 2), std::logic_error);
}

TEST_F(SafetensorsTest, WriterIntoAMissingDirectory_IsAnInputError) {
  EXPECT_THAT([&] { SafetensorsWriter(path("no/such/dir/out.safetensors"), {}, {}); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("cannot create")));
  EXPECT_TRUE(files().empty());
}

TEST_F(SafetensorsTest, WriterDuplicateOrReservedNames_AreRejected) {
  EXPECT_THROW(SafetensorsWriter(path("o"), {{"a", Dtype::kU8, {1}}, {"a", Dtype::kU8, {1}}}, {}),
               std::invalid_argument);
  EXPECT_THROW(SafetensorsWriter(path("o"), {{"__metadata__", Dtype::kU8, {1}}}, {}),
               std::invalid_argument);
  EXPECT_TRUE(files().empty());
}

TEST_F(SafetensorsTest, WriterReplacingAnExistingFile_OnlyOnCommit) {
  write_bytes("old", "out.safetensors");
  {
    SafetensorsWriter writer(path("out.safetensors"), {{"w", Dtype::kU8, {1}}}, {});
    writer.write("w", "x", 1);
  }
  EXPECT_EQ(fs::file_size(path("out.safetensors")), 3u);
  SafetensorsWriter writer(path("out.safetensors"), {{"w", Dtype::kU8, {1}}}, {});
  writer.write("w", "x", 1);
  writer.commit();
  EXPECT_EQ(SafetensorsFile(path("out.safetensors")).tensors().size(), 1u);
  EXPECT_EQ(files(), std::vector<std::string>{"out.safetensors"});
}

}  // namespace
}  // namespace lpusim
