// safetensors and packed files a user got wrong or made on purpose: numbers JSON cannot hold,
// deep nesting, non-regular files, NaN or infinite floats, fp16 scales, offsets and weights are an
// InputError naming the file (and the byte or the tensor), never an internal error or a NaN.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/format.h"
#include "kernels/quantizer.h"
#include "sim/io/packed_weights.h"
#include "sim/io/safetensors.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::string write_raw(const TempDir& dir, const std::string& header, const std::string& data = "") {
  const std::uint64_t length = header.size();
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &length, 8);
  std::ofstream(dir.file("x.safetensors"), std::ios::binary) << bytes << header << data;
  return dir.file("x.safetensors");
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile file(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsHostile, NumberBeyondDouble_IsAnInputErrorWithTheByte) {
  TempDir dir;
  const std::string path =
      write_raw(dir, R"({"w":{"dtype":"U8","shape":[1e400],"data_offsets":[0,0]}})");
  const std::string message = error_of(path);
  EXPECT_THAT(message, HasSubstr(path + ": header is not valid JSON: byte "));
  EXPECT_THAT(message, HasSubstr("number overflow parsing '1e400'"));
}

TEST(SafetensorsHostile, DeepNesting_IsRefused) {
  TempDir dir;
  const std::string path =
      write_raw(dir, "{\"__metadata__\":" + std::string(5000, '[') + std::string(5000, ']') + "}");
  EXPECT_THAT(error_of(path), HasSubstr(": header nests deeper than 16 levels (lpusim's limit)"));
}

TEST(SafetensorsHostile, HugeErrorValue_IsCutInTheMessage) {
  TempDir dir;
  const std::string path = write_raw(dir, R"({"w":")" + std::string(10'000, 'x') + "\"}");
  const std::string message = error_of(path);
  EXPECT_THAT(message, HasSubstr("expected an object"));
  EXPECT_LT(message.size(), 400u);
}

TEST(SafetensorsHostile, DevZeroAndFifo_AreRefusedWithoutReading) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("p").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(error_of("/dev/zero"), HasSubstr("is a character device"));
  EXPECT_THAT(error_of(dir.file("p")), HasSubstr("is a FIFO"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(SafetensorsHostile, ReadFloatOfANaNOrAnF64BeyondFloat_IsRefusedNamingTheElement) {
  TempDir dir;
  const std::vector<float> f32 = {1.0f, 2.0f, 3.0f, std::nanf("")};
  const std::vector<double> f64 = {1e300};
  const std::string path = write_raw(dir,
                                     R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                                     R"("b":{"dtype":"F64","shape":[1,1],"data_offsets":[16,24]}})",
                                     std::string(reinterpret_cast<const char*>(f32.data()), 16) +
                                         std::string(reinterpret_cast<const char*>(f64.data()), 8));
  const SafetensorsFile file(path);
  try {
    file.read_float(file.tensor("a"));
    ADD_FAILURE() << "NaN read";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tensor 'a': element [1, 1] is NaN; expected finite values"));
  }
  EXPECT_THROW(file.read_float(file.tensor("b")), InputError);
}

// An int4 file as `lpusim quantize` writes it, with one fp16 value of `part` replaced.
std::string packed_file(const TempDir& dir, const std::string& part, std::uint16_t bits,
                        const std::string& group_size = "32") {
  constexpr std::size_t kRows = 4;
  constexpr std::size_t kCols = 64;
  std::vector<float> w(kRows * kCols);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) - 3.0f;
  const WeightFormat format = parse_format("int4");
  QuantizedMatrix q = quantize(format, w.data(), kRows, kCols, 32);
  if (part == "scales") q.scales[5] = bits;
  if (part == "offsets") q.offsets[2] = bits;
  const std::uint64_t groups = q.groups_per_row();
  const std::string path = dir.file("p.safetensors");
  SafetensorsWriter writer(path,
                           {{"w.qweight", Dtype::kU8, {kRows, format.row_bytes(kCols)}},
                            {"w.scales", Dtype::kF16, {kRows, groups}},
                            {"w.offsets", Dtype::kF16, {kRows, groups}}},
                           {{"w.format", "int4"}, {"w.k", "64"}, {"w.group_size", group_size}});
  writer.write("w.qweight", q.qweight.data(), q.qweight.size());
  writer.write("w.scales", q.scales.data(), q.scales.size() * 2);
  writer.write("w.offsets", q.offsets.data(), q.offsets.size() * 2);
  writer.commit();
  return path;
}

std::string packed_error(const std::string& path) {
  try {
    read_packed_tensor(SafetensorsFile(path), "w");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(PackedWeights, FiniteFile_Reads) {
  TempDir dir;
  EXPECT_EQ(packed_error(packed_file(dir, "", 0)), "");
}

TEST(PackedWeights, NaNScale_IsRefusedNamingTensorAndElement) {
  TempDir dir;
  const std::string path = packed_file(dir, "scales", 0x7E00);
  EXPECT_THAT(packed_error(path),
              HasSubstr(path + ": tensor 'w': 'w.scales' [2, 1] is NaN; expected finite fp16"));
}

TEST(PackedWeights, InfiniteOffset_IsRefused) {
  TempDir dir;
  EXPECT_THAT(packed_error(packed_file(dir, "offsets", 0xFC00)),
              HasSubstr("'w.offsets' [1, 0] is infinite"));
}

TEST(PackedWeights, GroupSizeBeyondInt_IsRefusedNotWrappedToPerChannel) {
  TempDir dir;
  EXPECT_THAT(packed_error(packed_file(dir, "", 0, "4294967296")),
              HasSubstr("metadata 'group_size' must be an integer from 1 to 2147483647, got "
                        "\"4294967296\""));
}

}  // namespace
}  // namespace lpusim
