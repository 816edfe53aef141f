// Properties every report must have, on every shipped hardware config, for the decode step and
// the prefill of the tiny model: utilizations in [0, 1], never faster than either floor, busy
// and bound times within the step, energy at least the static part, more bandwidth or more MXM
// planes never slower, and the same numbers every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/hw_config.h"
#include "sim/llm/llm_run.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

// Room for the last rounding of a double computed two ways.
constexpr double kSlack = 1e-12;

std::vector<std::string> shipped_hw_configs() {
  std::vector<std::string> paths;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(LPUSIM_SOURCE_DIR) + "/configs/hw")) {
    if (e.path().extension() == ".yaml") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

WorkloadSpec tiny_spec(const std::string& quant) {
  WorkloadSpec s;
  s.model = testing::tiny_model();
  s.format = parse_format(quant);
  s.batch = 2;
  s.context = 200;
  s.prompt = 16;
  return s;
}

void expect_invariants(const PhaseResult& phase, const HwConfig& hw) {
  const StepMetrics& m = phase.metrics;
  ASSERT_GT(m.seconds, 0);
  EXPECT_GE(m.seconds * (1 + kSlack), m.bandwidth_floor_s);
  EXPECT_GE(m.seconds * (1 + kSlack), m.mac_floor_s);
  EXPECT_GT(m.bandwidth_floor_s, 0);
  EXPECT_GT(m.mac_floor_s, 0);
  EXPECT_LE(m.memory_busy_s, m.seconds * (1 + kSlack));
  EXPECT_LE(m.bandwidth_bound_s, m.seconds * (1 + kSlack));
  EXPECT_GE(m.bandwidth_bound_s, 0);
  // the channel moved at least the bytes the floor counts, in whole bursts
  EXPECT_GE(m.memory_bytes, m.work.weight_bytes + m.work.kv_bytes);
  EXPECT_EQ(m.memory_bytes % hw.memory.burst.count, 0u);
  EXPECT_GE(m.memory_busy_s * (1 + kSlack),
            static_cast<double>(m.memory_bytes) / hw.memory.bandwidth.value);
  const UnitMetrics* busiest = nullptr;
  for (const UnitMetrics& u : m.units) {
    SCOPED_TRACE(u.name);
    EXPECT_GE(u.utilization, 0);
    EXPECT_LE(u.utilization, 1 + kSlack);
    EXPECT_NEAR(u.utilization, u.busy_s / m.seconds, kSlack);
    if (u.name != "mem" && (!busiest || u.busy_s > busiest->busy_s)) busiest = &u;
  }
  ASSERT_NE(busiest, nullptr);
  EXPECT_EQ(m.bound,
            busiest->busy_s >= kBoundBusyShare * m.seconds ? busiest->name : kLatencyBound);
  EXPECT_GE(m.latency_s, 0);
  EXPECT_LE(m.latency_s + m.bandwidth_bound_s, m.seconds * (1 + kSlack));
  EXPECT_GE(m.energy_j * (1 + kSlack), hw.energy.static_w * m.seconds);
  EXPECT_NEAR(m.energy_j_per_token * static_cast<double>(phase.tokens), m.energy_j,
              kSlack * m.energy_j);
  EXPECT_NEAR(m.avg_power_w * m.seconds, m.energy_j, kSlack * m.energy_j);
  EXPECT_GE(m.avg_power_w * (1 + kSlack), hw.energy.static_w);
}

class EveryShippedConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryShippedConfig, DecodeAndPrefill_KeepEveryInvariant) {
  const HwConfig hw = load_hw_config(GetParam());
  for (const char* quant : {"int4", "q3.5", "fp16"}) {
    SCOPED_TRACE(quant);
    const LlmRunResult r = run_llm(testing::test_simulation(), tiny_spec(quant), hw, true);
    {
      SCOPED_TRACE("decode");
      expect_invariants(r.decode, hw);
    }
    ASSERT_TRUE(r.prefill.has_value());
    {
      SCOPED_TRACE("prefill");
      expect_invariants(*r.prefill, hw);
    }
    EXPECT_NEAR(r.throughput_tok_s() * r.per_token_latency_s(), 2.0, 2 * kSlack);
  }
}

TEST_P(EveryShippedConfig, SameRunTwice_GivesTheSameReport) {
  const HwConfig hw = load_hw_config(GetParam());
  const LlmRunResult a = run_llm(testing::test_simulation(), tiny_spec("int4"), hw, true);
  const LlmRunResult b = run_llm(testing::test_simulation(), tiny_spec("int4"), hw, true);
  EXPECT_EQ(llm_run_json(a, hw).dump(), llm_run_json(b, hw).dump());
}

TEST_P(EveryShippedConfig, MoreBandwidth_IsNeverSlower) {
  const HwConfig hw = load_hw_config(GetParam());
  HwConfig faster = hw;
  faster.memory.bandwidth.value *= 2;
  const LlmRunResult a = run_llm(testing::test_simulation(), tiny_spec("int4"), hw, true);
  const LlmRunResult b = run_llm(testing::test_simulation(), tiny_spec("int4"), faster, true);
  EXPECT_LE(b.per_token_latency_s(), a.per_token_latency_s());
  EXPECT_LE(b.first_token_latency_s(), a.first_token_latency_s());
  EXPECT_NEAR(b.decode.metrics.bandwidth_floor_s * 2, a.decode.metrics.bandwidth_floor_s,
              kSlack * a.decode.metrics.bandwidth_floor_s);
}

TEST_P(EveryShippedConfig, MoreMxmPlanes_IsNeverSlower) {
  const HwConfig hw = load_hw_config(GetParam());
  HwConfig wider = hw;
  wider.mxm.planes *= 2;
  const LlmRunResult a = run_llm(testing::test_simulation(), tiny_spec("int4"), hw, true);
  const LlmRunResult b = run_llm(testing::test_simulation(), tiny_spec("int4"), wider, true);
  EXPECT_LE(b.per_token_latency_s(), a.per_token_latency_s());
  EXPECT_LE(b.first_token_latency_s(), a.first_token_latency_s());
  EXPECT_NEAR(b.prefill->metrics.mac_floor_s * 2, a.prefill->metrics.mac_floor_s,
              kSlack * a.prefill->metrics.mac_floor_s);
}

INSTANTIATE_TEST_SUITE_P(Shipped, EveryShippedConfig, ::testing::ValuesIn(shipped_hw_configs()),
                         [](const auto& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (c == '-' || c == '.') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lpusim
