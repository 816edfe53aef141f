// LLM inference on the chip obeys physics: never faster than the bandwidth floor or the MAC
// floor, deterministic, memory-bound decode on the 80 GB/s chip sits on its floor, formats scale
// with their bytes, KV reads grow linearly with context, bandwidth halves a memory-bound step.
#include <gtest/gtest.h>

#include <string>

#include "kernels/error.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/llm/llm_run.h"
#include "tests/sc/sc_simulation.h"

namespace lpusim {
namespace {

std::string source(const std::string& path) { return std::string(LPUSIM_SOURCE_DIR) + path; }

HwConfig seed_chip(const std::vector<std::string>& overrides = {}) {
  return load_hw_config(source("/configs/hw/seed-80gbps.yaml"), overrides);
}

WorkloadSpec spec(const std::string& model, const std::string& quant, std::uint64_t context) {
  WorkloadSpec s;
  s.model = load_model_config(source("/configs/models/" + model + ".yaml"));
  s.format = parse_format(quant);
  s.context = context;
  s.prompt = 16;
  return s;
}

double decode_seconds(const WorkloadSpec& s, const HwConfig& hw) {
  return run_llm(testing::test_simulation(), s, hw, false).per_token_latency_s();
}

class EveryModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryModel, DecodeInEveryFormat_NeverBeatsEitherFloorAndRepeatsExactly) {
  const HwConfig hw = seed_chip();
  for (const char* quant : {"int8", "int4", "q3.5", "q3", "q2.5", "fp16"}) {
    for (std::uint64_t context : {128u, 2047u}) {
      SCOPED_TRACE(std::string(quant) + " context " + std::to_string(context));
      const WorkloadSpec s = spec(GetParam(), quant, context);
      const LlmRunResult a = run_llm(testing::test_simulation(), s, hw, false);
      const StepMetrics& m = a.decode.metrics;
      EXPECT_GE(m.seconds, m.bandwidth_floor_s);
      EXPECT_GE(m.seconds, m.mac_floor_s);
      EXPECT_LE(m.memory_busy_s, m.seconds);
      EXPECT_LE(m.bandwidth_bound_s, m.seconds);
      const LlmRunResult b = run_llm(testing::test_simulation(), s, hw, false);
      EXPECT_EQ(m.simulated_cycles, b.decode.metrics.simulated_cycles);
      EXPECT_EQ(m.bandwidth_bound_s, b.decode.metrics.bandwidth_bound_s);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, EveryModel,
                         ::testing::Values("llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b",
                                           "llama3-70b"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(LlmOnSeedChip, Llama2_70bDecode_IsMemoryBoundWithin3PercentOfItsFloor) {
  for (const char* quant : {"int4", "q3.5"}) {
    const LlmRunResult r =
        run_llm(testing::test_simulation(), spec("llama2-70b", quant, 2048), seed_chip(), false);
    EXPECT_EQ(r.decode.metrics.bound, "memory") << quant;
    EXPECT_LE(r.decode.metrics.seconds, 1.03 * r.decode.metrics.bandwidth_floor_s) << quant;
  }
}

TEST(LlmOnSeedChip, Int4OverQ35Latency_MatchesTheirByteRatioWithin1Percent) {
  const HwConfig hw = seed_chip();
  const LlmRunResult int4 =
      run_llm(testing::test_simulation(), spec("llama2-70b", "int4", 2048), hw, false);
  const LlmRunResult q35 =
      run_llm(testing::test_simulation(), spec("llama2-70b", "q3.5", 2048), hw, false);
  const auto bytes = [](const LlmRunResult& r) {
    return static_cast<double>(r.decode.metrics.work.weight_bytes + r.decode.metrics.work.kv_bytes);
  };
  const double byte_ratio = bytes(int4) / bytes(q35);
  EXPECT_NEAR(int4.per_token_latency_s() / q35.per_token_latency_s(), byte_ratio,
              0.01 * byte_ratio);
}

TEST(LlmOnSeedChip, DecodeLatency_GrowsLinearlyWithContextThroughKvReads) {
  const HwConfig hw = seed_chip();
  const double t512 = decode_seconds(spec("llama2-7b", "q3.5", 512), hw);
  const double t1024 = decode_seconds(spec("llama2-7b", "q3.5", 1024), hw);
  const double t2048 = decode_seconds(spec("llama2-7b", "q3.5", 2048), hw);
  const double step1 = t1024 - t512;
  const double step2 = t2048 - t1024;
  EXPECT_GT(step1, 0);
  EXPECT_NEAR(step2, 2 * step1, 0.02 * step2);  // twice the tokens added, twice the time
  // Each added token costs its K and V rows: 2 x 32 layers x 32 heads x 128 x 2 B at 80 GB/s.
  const double per_token = 2.0 * 32 * 32 * 128 * 2 / 80e9;
  EXPECT_NEAR(step1 / 512, per_token, 0.02 * per_token);
}

TEST(LlmOnSeedChip, DoublingMemoryBandwidth_NearlyHalvesAMemoryBoundStep) {
  const WorkloadSpec s = spec("llama2-70b", "q3.5", 2048);
  const double at80 = decode_seconds(s, seed_chip());
  const double at160 = decode_seconds(s, seed_chip({"memory.bandwidth=160 GB/s"}));
  EXPECT_NEAR(at160 / at80, 0.5, 0.01);
}

TEST(LlmOnTsp, ResidentModelThatDoesNotFit_IsASimulationErrorNamingNeedAndHave) {
  const HwConfig tsp = load_hw_config(source("/configs/hw/groq-tsp-v1.yaml"));
  try {
    run_llm(testing::test_simulation(), spec("llama2-70b", "int8", 2048), tsp, false);
    FAIL() << "llama2-70b cannot be resident in 220 MiB";
  } catch (const SimulationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("llama2-70b"), std::string::npos) << message;
    EXPECT_NE(message.find("230686720"), std::string::npos) << message;  // 220 MiB available
  }
}

TEST(LlmPrefill, FirstTokenLatency_NeverBeatsItsFloors) {
  const HwConfig hw = seed_chip();
  const LlmRunResult r =
      run_llm(testing::test_simulation(), spec("llama2-7b", "q3.5", 128), hw, true);
  ASSERT_TRUE(r.prefill.has_value());
  const StepMetrics& p = r.prefill->metrics;
  EXPECT_GE(p.seconds, p.bandwidth_floor_s);
  EXPECT_GE(p.seconds, p.mac_floor_s);
  EXPECT_EQ(r.prefill->tokens, 16u);
}

}  // namespace
}  // namespace lpusim
