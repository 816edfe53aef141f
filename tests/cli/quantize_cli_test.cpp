// End-to-end tests of `lpusim quantize`: the file it writes reads back bit for bit as pack_row of
// quantize(), metadata as documented, and every failure exits 2 leaving no file behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/format.h"
#include "kernels/fp16.h"
#include "kernels/quantizer.h"
#include "sim/io/safetensors.h"
#include "sim/quality/quant_error.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

template <typename T>
std::vector<T> values_of(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo& info = file.tensor(name);
  std::vector<T> out(info.byte_size() / sizeof(T));
  std::memcpy(out.data(), file.data(info), info.byte_size());
  return out;
}

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lpusim-qcli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    weights_ = synthetic_weights(SyntheticDistribution::kGaussian, 4, 256, 11);
    embedding_ = synthetic_weights(SyntheticDistribution::kLaplace, 3, 128, 12);
    for (float v : embedding_) embedding_bf16_.push_back(float_to_bf16(v));
    write_input("in.safetensors", weights_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // layer.w F32 [4, 256], layer.b F32 [4], emb BF16 [3, 128], ids I32 [2, 2].
  void write_input(const std::string& name, const std::vector<float>& layer_w) {
    const std::vector<float> bias = {0.5f, -0.5f, 1, 2};
    const std::vector<std::int32_t> ids = {1, 2, 3, 4};
    SafetensorsWriter writer(path(name),
                             {{"layer.w", Dtype::kF32, {4, 256}},
                              {"layer.b", Dtype::kF32, {4}},
                              {"emb", Dtype::kBF16, {3, 128}},
                              {"ids", Dtype::kI32, {2, 2}}},
                             {{"format", "pt"}, {"origin", "test"}});
    writer.write("layer.w", layer_w.data(), layer_w.size() * 4);
    writer.write("layer.b", bias.data(), 16);
    writer.write("emb", embedding_bf16_.data(), embedding_bf16_.size() * 2);
    writer.write("ids", ids.data(), 16);
    writer.commit();
  }

  RunResult run(const std::string& arguments) const {
    const std::string command = "cd '" + dir_.string() + "' && '" LPUSIM_BINARY "' " + arguments +
                                " > stdout.txt 2> stderr.txt";
    const int status = std::system(command.c_str());
    RunResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = slurp(dir_ / "stdout.txt");
    result.err = slurp(dir_ / "stderr.txt");
    fs::remove(dir_ / "stdout.txt");
    fs::remove(dir_ / "stderr.txt");
    return result;
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  // Runs a command that must fail with exit 2 and leave only the listed files.
  std::string expect_bad_input(const std::string& arguments,
                               const std::vector<std::string>& left = {"in.safetensors"}) {
    const RunResult result = run(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    EXPECT_THAT(files(), UnorderedElementsAreArray(left)) << arguments;
    return result.err;
  }

  fs::path dir_;
  std::vector<float> weights_;
  std::vector<float> embedding_;
  std::vector<std::uint16_t> embedding_bf16_;
};

void expect_matches_reference(const SafetensorsFile& out, const std::string& name,
                              const QuantizedMatrix& reference) {
  EXPECT_EQ(values_of<std::uint8_t>(out, name + ".qweight"), reference.qweight) << name;
  EXPECT_EQ(values_of<std::uint16_t>(out, name + ".scales"), reference.scales) << name;
  EXPECT_EQ(values_of<std::uint16_t>(out, name + ".offsets"), reference.offsets) << name;
  const TensorInfo& qweight = out.tensor(name + ".qweight");
  EXPECT_EQ(qweight.dtype, Dtype::kU8);
  EXPECT_EQ(qweight.shape, (std::vector<std::uint64_t>{reference.rows, reference.row_bytes()}));
  EXPECT_EQ(out.tensor(name + ".scales").dtype, Dtype::kF16);
  EXPECT_EQ(out.tensor(name + ".offsets").shape,
            (std::vector<std::uint64_t>{reference.rows, reference.groups_per_row()}));
}

TEST_F(QuantizeCli, Q35_WritesExactlyThePackedCodesScalesAndOffsetsOfQuantize) {
  const RunResult result =
      run("quantize --in in.safetensors --quant q3.5 --group-size 64 --out out.safetensors");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("quantized 2 of 4 tensors to q3.5"));
  EXPECT_THAT(files(), UnorderedElementsAreArray({"in.safetensors", "out.safetensors"}));

  const SafetensorsFile out(path("out.safetensors"));
  const WeightFormat q35 = parse_format("q3.5");
  expect_matches_reference(out, "layer.w", quantize(q35, weights_.data(), 4, 256, 64));
  std::vector<float> embedding;
  for (std::uint16_t bits : embedding_bf16_) embedding.push_back(bf16_to_float(bits));
  expect_matches_reference(out, "emb", quantize(q35, embedding.data(), 3, 128, 64));
  EXPECT_EQ(values_of<float>(out, "layer.b"), (std::vector<float>{0.5f, -0.5f, 1, 2}));
  EXPECT_EQ(values_of<std::int32_t>(out, "ids"), (std::vector<std::int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(out.find("layer.w"), nullptr);
}

TEST_F(QuantizeCli, Metadata_HasTopLevelAndPerTensorKeys) {
  ASSERT_EQ(run("quantize --in in.safetensors --quant int4 --out out.safetensors").exit_code, 0);
  const SafetensorsMetadata metadata = SafetensorsFile(path("out.safetensors")).metadata();
  EXPECT_EQ(metadata.at("format"), "int4");  // replaces the input's "pt"
  EXPECT_EQ(metadata.at("group_size"), "128");
  EXPECT_EQ(metadata.count("k"), 0u);  // the tensors' K differ: 256 and 128
  EXPECT_EQ(metadata.at("layer.w.k"), "256");
  EXPECT_EQ(metadata.at("emb.k"), "128");
  EXPECT_EQ(metadata.at("layer.w.format"), "int4");
  EXPECT_EQ(metadata.at("emb.group_size"), "128");
  EXPECT_EQ(metadata.at("origin"), "test");
}

TEST_F(QuantizeCli, TensorsRegex_QuantizesOnlyMatchingTensors) {
  ASSERT_EQ(run("quantize --in in.safetensors --quant q2.5 --tensors '^layer\\.' --group-size "
                "per-channel --out out.safetensors")
                .exit_code,
            0);
  const SafetensorsFile out(path("out.safetensors"));
  EXPECT_EQ(out.tensor("emb").dtype, Dtype::kBF16);
  EXPECT_EQ(values_of<std::uint16_t>(out, "emb"), embedding_bf16_);
  EXPECT_EQ(out.metadata().at("k"), "256");
  EXPECT_EQ(out.metadata().at("group_size"), "256");  // per-channel: G = K
  expect_matches_reference(out, "layer.w",
                           quantize(parse_format("q2.5"), weights_.data(), 4, 256, kPerChannel));
}

TEST_F(QuantizeCli, Fp16_StoresTheTensorUnderItsOwnNameAsF16) {
  ASSERT_EQ(run("quantize --in in.safetensors --quant fp16 --tensors ^layer --out o.safetensors")
                .exit_code,
            0);
  const SafetensorsFile out(path("o.safetensors"));
  const TensorInfo& info = out.tensor("layer.w");
  EXPECT_EQ(info.dtype, Dtype::kF16);
  std::vector<std::uint16_t> expected;
  for (float v : weights_) expected.push_back(float_to_fp16(v));
  EXPECT_EQ(values_of<std::uint16_t>(out, "layer.w"), expected);
  EXPECT_EQ(out.metadata().at("format"), "fp16");
  EXPECT_EQ(out.metadata().count("group_size"), 0u);
}

TEST_F(QuantizeCli, SameInput_GivesByteIdenticalOutput) {
  ASSERT_EQ(run("quantize --in in.safetensors --quant q3 --out a.safetensors").exit_code, 0);
  ASSERT_EQ(run("quantize --in in.safetensors --quant q3 --out b.safetensors").exit_code, 0);
  EXPECT_EQ(slurp(dir_ / "a.safetensors"), slurp(dir_ / "b.safetensors"));
}

// --- failures: exit 2, a message naming what is wrong, nothing left behind --------------------

TEST_F(QuantizeCli, NanInATensor_NamesFileAndTensorAndLeavesNothing) {
  std::vector<float> bad = weights_;
  bad[300] = std::nanf("");
  write_input("nan.safetensors", bad);
  const std::string err =
      expect_bad_input("quantize --in nan.safetensors --quant q3.5 --out out.safetensors",
                       {"in.safetensors", "nan.safetensors"});
  EXPECT_THAT(err, AllOf(HasSubstr("nan.safetensors"), HasSubstr("'layer.w'"),
                         HasSubstr("row 1, column 44"), HasSubstr("NaN")));
}

TEST_F(QuantizeCli, MalformedInput_NamesTheFile) {
  const std::string bytes = slurp(dir_ / "in.safetensors");
  std::ofstream(path("cut.safetensors"), std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  const std::string err =
      expect_bad_input("quantize --in cut.safetensors --quant int4 --out out.safetensors",
                       {"in.safetensors", "cut.safetensors"});
  EXPECT_THAT(err, AllOf(HasSubstr("cut.safetensors"), HasSubstr("'ids'")));
}

TEST_F(QuantizeCli, EveryKindOfMalformedFile_IsExit2NamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> headers_and_data = {
      {R"({"w": {"dtype": "F32",)", ""},                                            // bad JSON
      {R"(["w"])", ""},                                                             // not an object
      {R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "x"},            // unknown dtype
      {R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", "12345678"},  // size
      {R"({"w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},)"
       R"("v":{"dtype":"F32","shape":[1,1],"data_offsets":[2,6]}})",
       "123456"},                                                                // overlap
      {R"({"w":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})", "1234"},  // past the end
      {R"({"__metadata__":{"k":1}})", ""}};                                      // bad metadata
  for (const auto& [header, data] : headers_and_data) {
    const std::uint64_t length = header.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    std::ofstream(path("bad.safetensors"), std::ios::binary) << bytes << header << data;
    EXPECT_THAT(expect_bad_input("quantize --in bad.safetensors --quant int4 --out o.safetensors",
                                 {"in.safetensors", "bad.safetensors"}),
                HasSubstr("bad.safetensors: "))
        << header;
  }
}

TEST_F(QuantizeCli, MissingInput_IsExit2) {
  EXPECT_THAT(expect_bad_input("quantize --in none.safetensors --quant int4 --out o.safetensors"),
              AllOf(HasSubstr("none.safetensors"), HasSubstr("cannot open")));
}

TEST_F(QuantizeCli, BadOptions_AreExit2WithAMessage) {
  EXPECT_THAT(expect_bad_input("quantize --in in.safetensors --quant int5 --out o.safetensors"),
              HasSubstr("int5"));
  EXPECT_THAT(expect_bad_input(
                  "quantize --in in.safetensors --quant int4 --group-size 0 --out o.safetensors"),
              HasSubstr("--group-size: expected"));
  EXPECT_THAT(expect_bad_input(
                  "quantize --in in.safetensors --quant int4 --tensors '(' --out o.safetensors"),
              AllOf(HasSubstr("--tensors"), HasSubstr("regular expression")));
  EXPECT_THAT(
      expect_bad_input(
          "quantize --in in.safetensors --quant int4 --tensors nomatch --out o.safetensors"),
      HasSubstr("no non-empty 2-D float tensor"));
  expect_bad_input("quantize --in in.safetensors --quant int4");  // --out is required
}

TEST_F(QuantizeCli, OutputSameAsInput_IsRefused) {
  EXPECT_THAT(expect_bad_input("quantize --in in.safetensors --quant int4 --out ./in.safetensors"),
              HasSubstr("--out"));
  const SafetensorsFile still_there(path("in.safetensors"));
  EXPECT_EQ(still_there.tensors().size(), 4u);
}

TEST_F(QuantizeCli, KNotAMultipleOfThePattern_NamesTheTensor) {
  SafetensorsWriter writer(path("odd.safetensors"), {{"odd.w", Dtype::kF32, {1, 3}}}, {});
  const float w[] = {1, 2, 3};
  writer.write("odd.w", w, sizeof(w));
  writer.commit();
  const std::string err =
      expect_bad_input("quantize --in odd.safetensors --quant q3.5 --out o.safetensors",
                       {"in.safetensors", "odd.safetensors"});
  EXPECT_THAT(err, AllOf(HasSubstr("odd.safetensors"), HasSubstr("'odd.w'")));
}

TEST_F(QuantizeCli, OutputIntoAMissingDirectory_IsExit2) {
  EXPECT_THAT(
      expect_bad_input("quantize --in in.safetensors --quant int4 --out no/dir/o.safetensors"),
      HasSubstr("cannot create"));
}

}  // namespace
}  // namespace lpusim
