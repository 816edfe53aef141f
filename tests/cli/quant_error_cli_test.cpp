// End-to-end tests of `lpusim quant-error`: the default run, every output format, determinism
// (same seed, same bytes), safetensors input, and exit code 2 with a message on bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/io/safetensors.h"
#include "sim/quality/quant_error.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

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

class QuantErrorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lpusim-qecli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  RunResult run(const std::string& arguments) const {
    const std::string command = "cd '" + dir_.string() + "' && '" LPUSIM_BINARY "' " + arguments +
                                " > stdout.txt 2> stderr.txt";
    const int status = std::system(command.c_str());
    RunResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = slurp(dir_ / "stdout.txt");
    result.err = slurp(dir_ / "stderr.txt");
    return result;
  }

  std::string expect_bad_input(const std::string& arguments) const {
    const RunResult result = run(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.out;
    EXPECT_TRUE(result.out.empty()) << arguments;
    return result.err;
  }

  void write_weights(const std::string& name, const std::vector<float>& a,
                     const std::vector<float>& b) {
    SafetensorsWriter writer(path(name),
                             {{"a.w", Dtype::kF32, {8, 128}}, {"b.w", Dtype::kF32, {4, 256}}}, {});
    writer.write("a.w", a.data(), a.size() * 4);
    writer.write("b.w", b.data(), b.size() * 4);
    writer.commit();
  }

  fs::path dir_;
};

constexpr const char* kSmall = "quant-error --synthetic gaussian --shape 32x256";

TEST_F(QuantErrorCli, NoArguments_RunsTheDefaultLlmComparison) {
  const RunResult result = run("quant-error");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("synthetic llm [4096, 4096], seed 1, group size 128"),
                                HasSubstr("int8"), HasSubstr("int4"), HasSubstr("q3.5"),
                                HasSubstr("q3 "), HasSubstr("q2.5"), HasSubstr("3.750")));
}

TEST_F(QuantErrorCli, Json_ParsesAndHasTheMetricsOfEveryScheme) {
  const RunResult result = run(std::string(kSmall) + " --quant int4,q3.5 --format json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["group_size"], 128);
  EXPECT_EQ(report["source"]["distribution"], "gaussian");
  ASSERT_EQ(report["schemes"].size(), 2u);
  const nlohmann::json& q35 = report["schemes"][1];
  EXPECT_EQ(q35["scheme"], "q3.5");
  EXPECT_DOUBLE_EQ(q35["overall"]["effective_bits_per_weight"].get<double>(), 3.75);
  for (const char* key : {"relative_frobenius_error", "mean_relative_error", "max_abs_error",
                          "sqnr_db", "output_relative_error"}) {
    EXPECT_TRUE(q35["overall"][key].is_number()) << key;
  }
  EXPECT_LT(report["schemes"][0]["overall"]["relative_frobenius_error"].get<double>(),
            q35["overall"]["relative_frobenius_error"].get<double>());
}

TEST_F(QuantErrorCli, SameSeed_SameOutput_DifferentSeed_DifferentOutput) {
  const std::string args = std::string(kSmall) + " --quant q3 --format csv --seed ";
  const RunResult first = run(args + "5");
  const RunResult second = run(args + "5");
  const RunResult other = run(args + "6");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_NE(first.out, other.out);
}

TEST_F(QuantErrorCli, Csv_HasAHeaderAndOneRowPerScheme) {
  const RunResult result = run(std::string(kSmall) + " --quant int8,q2.5 --format csv");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("tensor,scheme,bits_per_weight,rel_frobenius_pct,mean_rel_pct,"
                                    "max_abs_error,sqnr_db,output_rel_pct\n(all),int8,8.250,"));
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 3);
}

TEST_F(QuantErrorCli, Markdown_IsAPipeTable) {
  const RunResult result = run(std::string(kSmall) + " --quant int4 --format markdown");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("| scheme | bits_per_weight |"));
}

TEST_F(QuantErrorCli, Symmetric_LabelsTheSchemes) {
  const RunResult result = run(std::string(kSmall) + " --quant int4 --symmetric --format csv");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("(all),int4-sym,"));
}

TEST_F(QuantErrorCli, SafetensorsInput_ReportsEachTensorAndOverall) {
  write_weights("w.safetensors", synthetic_weights(SyntheticDistribution::kGaussian, 8, 128, 1),
                synthetic_weights(SyntheticDistribution::kGaussian, 4, 256, 2));
  const RunResult result = run("quant-error --in w.safetensors --quant int4 --format json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  const nlohmann::json& tensors = report["schemes"][0]["tensors"];
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0]["name"], "a.w");
  EXPECT_EQ(tensors[1]["shape"], nlohmann::json({4, 256}));
  const RunResult only_b = run("quant-error --in w.safetensors --tensors '^b' --format csv");
  ASSERT_EQ(only_b.exit_code, 0) << only_b.err;
  EXPECT_THAT(only_b.out, Not(HasSubstr("a.w")));
}

TEST_F(QuantErrorCli, NanInAFileTensor_NamesFileAndTensor) {
  std::vector<float> b = synthetic_weights(SyntheticDistribution::kGaussian, 4, 256, 2);
  b[3] = INFINITY;
  write_weights("inf.safetensors", synthetic_weights(SyntheticDistribution::kGaussian, 8, 128, 1),
                b);
  EXPECT_THAT(expect_bad_input("quant-error --in inf.safetensors --quant int4"),
              AllOf(HasSubstr("inf.safetensors"), HasSubstr("'b.w'"), HasSubstr("inf")));
}

TEST_F(QuantErrorCli, BadArguments_AreExit2WithAMessage) {
  EXPECT_THAT(expect_bad_input("quant-error --synthetic cauchy"), HasSubstr("cauchy"));
  EXPECT_THAT(expect_bad_input("quant-error --shape 4096"), HasSubstr("--shape"));
  EXPECT_THAT(expect_bad_input("quant-error --shape 0x16"), HasSubstr("--shape"));
  EXPECT_THAT(expect_bad_input("quant-error --shape 100000x100000"), HasSubstr("2^30"));
  EXPECT_THAT(expect_bad_input(std::string(kSmall) + " --quant int4,int5"), HasSubstr("int5"));
  EXPECT_THAT(expect_bad_input(std::string(kSmall) + " --group-size -3"),
              HasSubstr("--group-size: expected \"per-channel\" or a whole number in [1, "
                        "2147483647], got \"-3\""));
  EXPECT_THAT(expect_bad_input(std::string(kSmall) + " --format xml"), HasSubstr("--format"));
  EXPECT_THAT(expect_bad_input("quant-error --in missing.safetensors"),
              HasSubstr("missing.safetensors"));
  expect_bad_input("quant-error --in a --synthetic llm");  // mutually exclusive
  expect_bad_input("quant-error --tensors x");             // needs --in
}

}  // namespace
}  // namespace lpusim
