// `lpusim run` end to end: every number of its JSON report checked against a value derived from
// the shipped config's own figures (seed-80gbps: 80 GB/s, 900 MHz, 4 x 320 x 320 MXM, 30 W
// static) and the tiny test model's shapes, on a KV-heavy decode where the KV bytes dominate.
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::run_lpusim;
using testing::TempDir;

constexpr double kRelTol = 1e-9;  // the JSON prints doubles round-trip exact; this is margin
#define EXPECT_CLOSE(actual, expected) EXPECT_NEAR((actual), (expected), kRelTol*(expected))

constexpr double kBandwidth = 80e9;            // seed-80gbps memory.bandwidth
constexpr double kPeakMacs = 4.0 * 320 * 320;  // planes x rows x cols
constexpr double kClock = 900e6;               // clock
constexpr double kStaticW = 30;                // energy.static default
constexpr std::uint64_t kBatch = 16;
constexpr std::uint64_t kContext = 400;
// tests/data/sweeps/tiny-model.yaml: 2 layers, 2 KV heads of 64; fp16 K and V.
constexpr std::uint64_t kKvBytesPerToken = 2 * 2 * 64 * 2;  // K and V, 2 heads x 64, 2 B
constexpr std::uint64_t kLayers = 2;

nlohmann::json kv_heavy_report() {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--hw", "seed-80gbps", "--model", "tests/data/sweeps/tiny-model.yaml",
                  "--quant", "int4", "--batch", std::to_string(kBatch), "--context",
                  std::to_string(kContext), "--prompt", "8", "--format", "json"},
                 dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

const nlohmann::json& report() {
  static const nlohmann::json j = kv_heavy_report();
  return j;
}

double num(const nlohmann::json& j, const char* key) { return j.at(key).get<double>(); }

TEST(RunDerivedCli, KvBytes_AreEveryLayerReadingEveryCachedTokenOfEverySequence) {
  // each layer reads K and V of the whole context, for each of the 16 sequences
  EXPECT_EQ(report().at("kv_bytes").get<std::uint64_t>(),
            kLayers * kBatch * kKvBytesPerToken * kContext);
  EXPECT_EQ(report().at("kv_write_bytes").get<std::uint64_t>(),
            kLayers * kBatch * kKvBytesPerToken);
}

TEST(RunDerivedCli, BandwidthFloor_CountsWeightAndKvBytesAtTheConfigsBandwidth) {
  const nlohmann::json& j = report();
  const double bytes = num(j, "weight_bytes") + num(j, "kv_bytes");
  EXPECT_GT(num(j, "kv_bytes"), num(j, "weight_bytes"));  // the KV-heavy case the floor must see
  EXPECT_CLOSE(num(j, "bandwidth_floor_s"), bytes / kBandwidth);
  EXPECT_CLOSE(num(j, "weight_transfer_s"), num(j, "weight_bytes") / kBandwidth);
  // f16 MACs (attention here: the weights are quantized) take 4 int8 MAC slots each
  EXPECT_GT(num(j, "f16_macs"), 0);
  EXPECT_LT(num(j, "f16_macs"), num(j, "macs"));
  const double slots = num(j, "macs") - num(j, "f16_macs") + 4 * num(j, "f16_macs");
  EXPECT_CLOSE(num(j, "mac_floor_s"), slots / (kPeakMacs * kClock));
  EXPECT_GE(num(j, "per_token_latency_s"), num(j, "bandwidth_floor_s"));
  EXPECT_GE(num(j, "per_token_latency_s"), num(j, "mac_floor_s"));
}

TEST(RunDerivedCli, LatencyAndThroughput_AreTheStepTimesAndTheBatch) {
  const nlohmann::json& j = report();
  EXPECT_EQ(num(j, "per_token_latency_s"), num(j, "seconds"));
  EXPECT_CLOSE(num(j, "throughput_tok_s"), kBatch / num(j, "seconds"));
  EXPECT_EQ(num(j, "first_token_latency_s"), num(j.at("prefill"), "seconds"));
}

// One decode step gives each of the 16 users one token.
TEST(RunDerivedCli, AtBatchB_EachUserGetsOneTokenPerStep_TheSystemBTokens) {
  const nlohmann::json& j = report();
  const double step = num(j, "seconds");
  EXPECT_EQ(num(j, "step_latency_s"), step);
  EXPECT_EQ(num(j, "user_token_latency_s"), step);
  EXPECT_CLOSE(num(j, "user_tok_s"), 1 / step);
  EXPECT_CLOSE(num(j, "system_tok_s"), kBatch / step);
  EXPECT_CLOSE(num(j, "energy_j_per_generated_token"), num(j, "energy_j") / kBatch);
  // The names of earlier reports are aliases.
  EXPECT_EQ(num(j, "per_token_latency_s"), num(j, "step_latency_s"));
  EXPECT_EQ(num(j, "throughput_tok_s"), num(j, "system_tok_s"));
}

TEST(RunDerivedCli, TextReport_NamesTheStepLatencyAndBothRates) {
  TempDir dir;
  const testing::CliResult r =
      run_lpusim({"run", "--hw", "seed-80gbps", "--model", "tests/data/sweeps/tiny-model.yaml",
                  "--quant", "int4", "--batch", std::to_string(kBatch), "--context",
                  std::to_string(kContext), "--no-prefill"},
                 dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* label :
       {"step latency (between a user's tokens)", "tokens/s (system)", "tokens/s per user"}) {
    EXPECT_NE(r.out.find(label), std::string::npos) << label;
  }
  EXPECT_EQ(r.out.find("per-token latency"), std::string::npos);
}

TEST(RunDerivedCli, Reports_NameTheGroupSize_Int8DefaultsToPerChannel) {
  TempDir dir;
  const std::vector<std::string> int8 = {
      "run", "--model",     "tests/data/sweeps/tiny-model.yaml", "--quant", "int8", "--context",
      "64",  "--no-prefill"};
  const testing::CliResult text = run_lpusim(int8, dir);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("(per-channel, batch 1"), std::string::npos) << text.out;
  std::vector<std::string> json_args = int8;
  json_args.insert(json_args.end(), {"--format", "json"});
  const testing::CliResult json = run_lpusim(json_args, dir);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).at("group_size"), 0);  // 0: per channel
  EXPECT_EQ(report().at("group_size"), 128);                       // int4's default
}

TEST(RunDerivedCli, Utilizations_AreBusyOverStepTime_BetweenZeroAndOne_AndBoundTheBusiest) {
  for (const nlohmann::json* step : {&report(), &report().at("prefill")}) {
    const double seconds = num(*step, "seconds");
    double busiest = -1;
    std::string bound;
    for (const auto& [name, unit] : step->at("units").items()) {
      SCOPED_TRACE(name);
      const double busy = num(unit, "busy_s");
      EXPECT_CLOSE(num(unit, "utilization"), busy / seconds);
      EXPECT_GE(num(unit, "utilization"), 0);
      EXPECT_LE(num(unit, "utilization"), 1);
      if (name != "mem" && busy > busiest) {
        busiest = busy;
        bound = name;
      }
    }
    EXPECT_EQ(num(step->at("units").at("memory"), "busy_s"), num(*step, "memory_busy_s"));
    // The busiest resource bounds the step when busy at least 80% of it; latency otherwise.
    EXPECT_EQ(step->at("bound"), busiest >= 0.8 * seconds ? bound : std::string("latency"));
  }
}

TEST(RunDerivedCli, Energy_IsAtLeastStaticPower_AndSplitsPerToken) {
  const nlohmann::json& j = report();
  EXPECT_GE(num(j, "energy_j"), kStaticW * num(j, "seconds"));
  EXPECT_CLOSE(num(j, "energy_j_per_token"), num(j, "energy_j") / kBatch);
  EXPECT_CLOSE(num(j, "avg_power_w"), num(j, "energy_j") / num(j, "seconds"));
  const nlohmann::json& p = j.at("prefill");
  EXPECT_CLOSE(num(p, "energy_j_per_token"), num(p, "energy_j") / (kBatch * 8));
}

TEST(RunDerivedCli, Breakdown_AddsUpToTheUnitsBusyTimes) {
  for (const nlohmann::json* step : {&report(), &report().at("prefill")}) {
    double memory = 0;
    double vxm = 0;
    double mxm = 0;
    for (const auto& [kind, k] : step->at("breakdown").items()) {
      memory += num(k, "memory_s");
      vxm += num(k, "vxm_s");
      mxm += num(k, "mxm_s");
    }
    EXPECT_CLOSE(memory, num(*step, "memory_busy_s"));
    EXPECT_CLOSE(vxm, num(step->at("units").at("vxm"), "busy_s"));
    EXPECT_CLOSE(mxm, num(step->at("units").at("mxm"), "busy_s"));
  }
}

}  // namespace
}  // namespace lpusim
