// The shape grid: every shipped model on every shipped streamed chip, batch 1 to 256, decode and
// prefill, runs (exit 0) and every phase obeys the physical floors: never faster than its bytes
// over the memory bandwidth or its MACs at the MXM's peak. On the resident TSP v1 no shipped model
// fits one chip, and the refusal says how many chips the weights need.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::run_lpusim;
using testing::TempDir;

const char* const kStreamed[] = {"seed-80gbps", "hbm3-3tbps"};

// Short prompts and contexts keep the grid to seconds per point; the long ones are in the
// benchmarks (bench/shape_targets.sh) and tests/cli/prefill_chunks_cli_test.cpp.
struct Shape {
  int batch;
  int context;
  int prompt;
};
const Shape kShapes[] = {{1, 511, 64}, {7, 64, 16}, {64, 32, 4}, {256, 16, 2}};

void expect_above_floors(const nlohmann::json& phase, const std::string& what) {
  const double seconds = phase.at("seconds").get<double>();
  const double slack = 1 - 1e-12;  // the floors and the time are computed apart, in doubles
  EXPECT_GE(seconds, slack * phase.at("bandwidth_floor_s").get<double>()) << what;
  EXPECT_GE(seconds, slack * phase.at("mac_floor_s").get<double>()) << what;
  EXPECT_GT(phase.at("instructions").get<double>(), 0) << what;
}

void run_grid(const std::string& model) {
  TempDir dir;
  for (const char* hw : kStreamed) {
    for (const Shape& s : kShapes) {
      const std::string what = model + " on " + hw + " batch " + std::to_string(s.batch);
      const testing::CliResult r =
          run_lpusim({"run", "--model", model, "--hw", hw, "--quant", "int8", "--batch",
                      std::to_string(s.batch), "--context", std::to_string(s.context), "--prompt",
                      std::to_string(s.prompt), "--format", "json"},
                     dir);
      ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
      const nlohmann::json j = nlohmann::json::parse(r.out);
      expect_above_floors(j, what + " decode");  // the decode step is the top level
      expect_above_floors(j.at("prefill"), what + " prefill");
    }
  }
  const testing::CliResult resident =
      run_lpusim({"run", "--model", model, "--hw", "groq-tsp-v1", "--no-prefill"}, dir);
  EXPECT_EQ(resident.exit_code, 3) << resident.err;
  EXPECT_THAT(resident.err, HasSubstr("such chips"));
}

// The benchmarks' batch-256 decode at the default context (2048) and format (q3.5): it stopped
// fitting once when the attention rings took more SRAM, which the short contexts above missed.
TEST(ShapeGrid, DefaultModelBatch256AtContext2048_Decodes) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--batch", "256", "--no-prefill", "--format", "json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_above_floors(nlohmann::json::parse(r.out), "llama2-70b q3.5 batch 256 decode");
}

// LLaMA-3-70B's decode at batch 256 holds 126 MB of activations and a 131 MB f32 logits buffer
// (256 x 128,256 vocab), more than the 220 MiB SRAM together: it fits only because the SRAM is
// planned by live ranges (the logits live in the LM head alone, the MLP's activations in the MLP).
TEST(ShapeGrid, Llama3_70bBatch256_FitsByLiveRanges) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--model", "llama3-70b", "--quant", "int8", "--batch", "256", "--context",
                  "2048", "--no-prefill", "--format", "json"},
                 dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  expect_above_floors(j, "llama3-70b int8 batch 256 decode at context 2048");
}

TEST(ShapeGrid, Llama2_7b) { run_grid("llama2-7b"); }
TEST(ShapeGrid, Llama2_13b) { run_grid("llama2-13b"); }
TEST(ShapeGrid, Llama2_70b) { run_grid("llama2-70b"); }
TEST(ShapeGrid, Llama3_8b) { run_grid("llama3-8b"); }
TEST(ShapeGrid, Llama3_70b) { run_grid("llama3-70b"); }

}  // namespace
}  // namespace lpusim
