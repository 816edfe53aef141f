// The LLM report's numbers worked out by hand for the tiny model (tests/support/tiny_model.h) on
// the round-number chip: the bytes and MACs of a decode step from the model's shapes, the floors
// from those and the chip's numbers, and per-token latency, throughput, first-token latency,
// weight transfer time and the per-layer-kind breakdown from the step's own measurements.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sim/llm/llm_run.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/test_hw.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

constexpr double kRelTol = 1e-12;
#define EXPECT_CLOSE(actual, expected) EXPECT_NEAR((actual), (expected), kRelTol*(expected))

// The tiny model's shapes: hidden 256, ffn 512, 2 layers, 4 heads, 2 KV heads of 64, vocab 1000.
constexpr std::uint64_t kHidden = 256;
constexpr std::uint64_t kLayers = 2;
constexpr std::uint64_t kHeads = 4;
constexpr std::uint64_t kKvWidth = 2 * 64;  // kv_heads x head_dim
constexpr std::uint64_t kHeadDim = 64;
constexpr std::uint64_t kVocab = 1000;
// Per layer q 256x256, k 256x128, v 256x128, o 256x256, gate/up 256x512, down 512x256.
constexpr std::uint64_t kLayerParams = 256 * 256 * 2 + 256 * 128 * 2 + 256 * 512 * 3;
constexpr std::uint64_t kLinearParams = kLayers * kLayerParams + kHidden * kVocab;  // + lm_head
constexpr std::uint64_t kNormParams = (2 * kLayers + 1) * kHidden;  // two per layer + final
constexpr std::uint64_t kFp16 = 2;

constexpr std::uint64_t kBatch = 2;
constexpr std::uint64_t kContext = 100;
constexpr std::uint64_t kPrompt = 16;

WorkloadSpec tiny_fp16_spec() {
  WorkloadSpec s;
  s.model = testing::tiny_model();
  s.format = parse_format("fp16");
  s.batch = kBatch;
  s.context = kContext;
  s.prompt = kPrompt;
  return s;
}

const LlmRunResult& tiny_run() {
  static const LlmRunResult r =
      run_llm(testing::test_simulation(), tiny_fp16_spec(), testing::round_number_chip(), true);
  return r;
}

// Every weight once (fp16), every norm weight, and the embedding row of each sequence.
constexpr std::uint64_t kDecodeWeightBytes =
    (kLinearParams + kNormParams + kBatch * kHidden) * kFp16;
// Each layer reads K and V of every cached token, per sequence (the new token's stay on chip).
constexpr std::uint64_t kDecodeKvBytes = kLayers * kBatch * 2 * kKvWidth * kFp16 * kContext;

TEST(LlmDerived, DecodeBytesAndMacs_FollowFromTheModelsShapes) {
  const StepWork& w = tiny_run().decode.metrics.work;
  EXPECT_EQ(w.weight_bytes, kDecodeWeightBytes);
  EXPECT_EQ(w.kv_bytes, kDecodeKvBytes);
  // every linear layer once per sequence, plus Q.K and P.V over context + 1 keys per head
  const std::uint64_t attention = kBatch * kLayers * kHeads * kHeadDim * (kContext + 1) * 2;
  EXPECT_EQ(w.macs, kBatch * kLinearParams + attention);
  // the new token's K and V of every layer and sequence are appended
  EXPECT_EQ(tiny_run().decode.kv_write_bytes, kLayers * kBatch * 2 * kKvWidth * kFp16);
}

TEST(LlmDerived, Int8KvCache_ReadsOneByteCodesAndAnFp16ScalePerTokenAndHead) {
  WorkloadSpec s = tiny_fp16_spec();
  s.kv = KvFormat::kInt8;
  const LlmRunResult r =
      run_llm(testing::test_simulation(), s, testing::round_number_chip(), false);
  // per layer, sequence, K or V and KV head: 100 tokens x (64 one-byte codes + a 2-byte scale)
  const std::uint64_t per_head = kContext * (kHeadDim + 2);
  EXPECT_EQ(r.decode.metrics.work.kv_bytes, kLayers * kBatch * 2 * 2 * per_head);
  EXPECT_EQ(r.decode.kv_write_bytes, kLayers * kBatch * 2 * 2 * (kHeadDim + 2));
  EXPECT_EQ(r.decode.metrics.work.weight_bytes, kDecodeWeightBytes);
}

TEST(LlmDerived, DecodeFloors_AreTheHandCountsOverTheChipsRates) {
  const StepMetrics& m = tiny_run().decode.metrics;
  // 100 GB/s; 2 x 64 x 64 MACs per 1 ns cycle
  EXPECT_CLOSE(m.bandwidth_floor_s,
               static_cast<double>(kDecodeWeightBytes + kDecodeKvBytes) / 1e11);
  // fp16 weights: every MATMUL is f16, at a quarter of the int8 rate
  EXPECT_EQ(m.work.f16_macs, m.work.macs);
  EXPECT_CLOSE(m.mac_floor_s, 4.0 * static_cast<double>(m.work.macs) / (8192 * 1e9));
  EXPECT_GE(m.seconds, m.bandwidth_floor_s);
  EXPECT_GE(m.seconds, m.mac_floor_s);
}

TEST(LlmDerived, LatencyThroughputAndTransferTime_FollowFromTheSteps) {
  const LlmRunResult& r = tiny_run();
  const HwConfig hw = testing::round_number_chip();
  EXPECT_EQ(r.per_token_latency_s(), r.decode.metrics.seconds);
  EXPECT_CLOSE(r.throughput_tok_s(), kBatch / r.decode.metrics.seconds);
  ASSERT_TRUE(r.prefill.has_value());
  EXPECT_EQ(r.first_token_latency_s(), r.prefill->metrics.seconds);
  EXPECT_CLOSE(r.weight_transfer_s(hw), static_cast<double>(kDecodeWeightBytes) / 1e11);
  EXPECT_EQ(r.decode.tokens, kBatch);
  EXPECT_EQ(r.prefill->tokens, kBatch * kPrompt);
  EXPECT_CLOSE(r.decode.metrics.energy_j_per_token, r.decode.metrics.energy_j / kBatch);
}

TEST(LlmDerived, PrefillWork_IsEveryPromptTokenThroughEveryLayer) {
  const StepWork& w = tiny_run().prefill->metrics.work;
  // weights once, plus the embedding row of every prompt token
  EXPECT_EQ(w.weight_bytes, (kLinearParams + kNormParams + kBatch * kPrompt * kHidden) * kFp16);
  // every layer for every prompt token, the LM head for the last token of each sequence only,
  // and Q.K and P.V over the whole prompt square per head
  const std::uint64_t layers = kBatch * kPrompt * kLayers * kLayerParams;
  const std::uint64_t head = kBatch * kHidden * kVocab;
  const std::uint64_t attention = kBatch * kLayers * kHeads * kPrompt * kPrompt * kHeadDim * 2;
  EXPECT_EQ(w.macs, layers + head + attention);
}

TEST(LlmDerived, Json_CarriesTheLlmNumbersUnderTheirKeys) {
  const LlmRunResult& r = tiny_run();
  const HwConfig hw = testing::round_number_chip();
  const nlohmann::json j = llm_run_json(r, hw);
  EXPECT_EQ(j.at("per_token_latency_s").get<double>(), r.decode.metrics.seconds);
  EXPECT_EQ(j.at("throughput_tok_s").get<double>(), r.throughput_tok_s());
  EXPECT_EQ(j.at("first_token_latency_s").get<double>(), r.prefill->metrics.seconds);
  EXPECT_CLOSE(j.at("weight_transfer_s").get<double>(),
               static_cast<double>(kDecodeWeightBytes) / 1e11);
  EXPECT_EQ(j.at("kv_bytes").get<std::uint64_t>(), kDecodeKvBytes);
  EXPECT_EQ(j.at("kv_write_bytes").get<std::uint64_t>(), kLayers * kBatch * 2 * kKvWidth * kFp16);
  EXPECT_EQ(j.at("batch").get<std::uint64_t>(), kBatch);
  EXPECT_EQ(j.at("context").get<std::uint64_t>(), kContext);
  EXPECT_EQ(j.at("prefill").at("seconds").get<double>(), r.prefill->metrics.seconds);
  EXPECT_EQ(j.at("model_fp16_bytes").get<std::uint64_t>(),
            (kLinearParams + kNormParams + kHidden * kVocab) * kFp16);
  EXPECT_EQ(j.at("model_bytes").get<std::uint64_t>(),
            j.at("model_fp16_bytes").get<std::uint64_t>());
}

// The breakdown splits the step's unit busy times among the layer kinds: its columns add up to
// the units' totals, each measured separately.
void expect_breakdown_adds_up(const PhaseResult& phase) {
  double memory = 0;
  double vxm = 0;
  double mxm = 0;
  for (const KindBreakdown& k : phase.breakdown) {
    memory += k.memory_s;
    vxm += k.busy_s(Unit::kVxm);
    mxm += k.busy_s(Unit::kMxm);
  }
  const StepMetrics& m = phase.metrics;
  auto busy = [&](const char* name) {
    for (const UnitMetrics& u : m.units) {
      if (u.name == name) return u.busy_s;
    }
    return -1.0;
  };
  EXPECT_NEAR(memory, m.memory_busy_s, 1e-9 * m.memory_busy_s);
  EXPECT_NEAR(vxm, busy("vxm"), 1e-9 * busy("vxm"));
  EXPECT_NEAR(mxm, busy("mxm"), 1e-9 * busy("mxm"));
}

TEST(LlmDerived, Breakdown_AddsUpToTheUnitsBusyTimes) {
  SCOPED_TRACE("decode");
  expect_breakdown_adds_up(tiny_run().decode);
  SCOPED_TRACE("prefill");
  expect_breakdown_adds_up(*tiny_run().prefill);
}

TEST(LlmDerived, Breakdown_NamesTheKindsOfADecoderBlock) {
  std::vector<std::string> kinds;
  for (const KindBreakdown& k : tiny_run().decode.breakdown) kinds.push_back(k.kind);
  for (const char* kind : {"attention", "mlp", "lm_head", "norm", "embedding"}) {
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
  }
  for (const KindBreakdown& k : tiny_run().decode.breakdown) {
    if (k.kind == "mlp" || k.kind == "attention" || k.kind == "lm_head") {
      EXPECT_GT(k.busy_s(Unit::kMxm), 0) << k.kind;
      EXPECT_GT(k.memory_s, 0) << k.kind;
    }
  }
}

}  // namespace
}  // namespace lpusim
