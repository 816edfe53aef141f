// The q3.5 kernel run on weights packed by `lpusim quantize` reproduces quant-error's output
// error: the same W_hat and the same activations give the same error, and the chip adds only
// the error of its int8 activations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/io/safetensors.h"
#include "sim/quality/quant_error.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::run_lpusim;
using testing::TempDir;

void write_weights(const std::string& path) {
  const std::vector<float> w = synthetic_weights(SyntheticDistribution::kLlm, 200, 1024, 9);
  SafetensorsWriter writer(path, {{"mlp.w", Dtype::kF32, {200, 1024}}}, {});
  writer.write("mlp.w", w.data(), w.size() * sizeof(float));
  writer.commit();
}

TEST(GemmOnPackedWeights, Q35Kernel_ReproducesQuantErrorsOutputError) {
  TempDir dir;
  const std::string in = dir.file("w.safetensors");
  const std::string packed = dir.file("p.safetensors");
  write_weights(in);
  ASSERT_EQ(run_lpusim({"quantize", "--in", in, "--quant", "q3.5", "--out", packed}, dir).exit_code,
            0);
  const testing::CliResult qe = run_lpusim(
      {"quant-error", "--in", in, "--quant", "q3.5", "--seed", "4", "--format", "json"}, dir);
  ASSERT_EQ(qe.exit_code, 0) << qe.err;
  const double want =
      nlohmann::json::parse(qe.out)["schemes"][0]["overall"]["output_relative_error"];

  const testing::CliResult chip = run_lpusim({"gemm", "--weights", packed, "--tensor", "mlp.w",
                                              "--reference", in, "--seed", "4", "--format", "json"},
                                             dir);
  ASSERT_EQ(chip.exit_code, 0) << chip.err;
  const nlohmann::json f = nlohmann::json::parse(chip.out)["functional"];
  EXPECT_EQ(f["integer_exact"], true);
  // Same W_hat, same X: the weights' share of the error is quant-error's figure.
  EXPECT_NEAR(f["weight_only_rel_error"].get<double>(), want, 1e-12);
  // The chip's int8 activations add a little error on top (well under 5% of it here).
  EXPECT_GE(f["rel_error"].get<double>(), 0.95 * want);
  EXPECT_LE(f["rel_error"].get<double>(), 1.05 * want);
}

TEST(GemmOnPackedWeights, MissingTensor_IsExit2NamingFileAndTensor) {
  TempDir dir;
  const std::string in = dir.file("w.safetensors");
  const std::string packed = dir.file("p.safetensors");
  write_weights(in);
  ASSERT_EQ(run_lpusim({"quantize", "--in", in, "--quant", "int4", "--out", packed}, dir).exit_code,
            0);
  const testing::CliResult r = run_lpusim({"gemm", "--weights", packed, "--tensor", "attn.q"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr("p.safetensors"));
  EXPECT_THAT(r.err, ::testing::HasSubstr("attn.q"));
}

TEST(GemmOnPackedWeights, UnquantizedFileAsWeights_IsExit2) {
  TempDir dir;
  const std::string in = dir.file("w.safetensors");
  write_weights(in);
  const testing::CliResult r = run_lpusim({"gemm", "--weights", in, "--tensor", "mlp.w"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr("lpusim quantize"));
}

}  // namespace
}  // namespace lpusim
