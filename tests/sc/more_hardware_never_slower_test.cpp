// Monotonicity of the hardware knobs over random chips and small workloads of the tiny model
// (seeded, so every run draws the same cases): more memory bandwidth, more MXM planes, more VXM
// lanes, a faster weight install, a faster issue or a shorter MXM latency never makes the decode
// step or the prefill slower. A failure prints the chip, the workload and both times.
// More SRAM is not here: it can make a step a few percent slower (2 MiB -> 4 MiB on a 64 x 64
// MXM slows the tiny model's prefill by 2.5%): the GEMM kernel widens its strips with the SRAM.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "sim/config/hw_config.h"
#include "sim/llm/llm_run.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/tiny_model.h"

namespace lpusim {
namespace {

constexpr int kCases = 100;
constexpr unsigned kSeed = 20261207;
// Room for the last rounding of a double summed in another order.
constexpr double kSlack = 1e-12;

struct Case {
  HwConfig hw;
  WorkloadSpec spec;
};

template <typename T>
T pick(std::mt19937& rng, std::initializer_list<T> values) {
  std::uniform_int_distribution<std::size_t> index(0, values.size() - 1);
  return *(values.begin() + index(rng));
}

// A chip around the TSP v1 core with every timing knob drawn from a range that keeps the tiny
// model's buffers within SRAM, and a small decode + prefill workload.
Case random_case(std::mt19937& rng) {
  Case c;
  HwConfig& hw = c.hw;
  hw = load_hw_config(std::string(LPUSIM_SOURCE_DIR) + "/configs/hw/seed-80gbps.yaml");
  hw.weights = pick(rng, {WeightPlacement::kStreamed, WeightPlacement::kResident});
  hw.memory.bandwidth.value = pick(rng, {10e9, 80e9, 400e9, 3.35e12});
  hw.memory.latency.value = pick(rng, {0.0, 100e-9, 1e-6});
  hw.memory.burst.count = pick<std::uint64_t>(rng, {32, 64, 256});
  hw.memory.outstanding = pick(rng, {1, 2, 4, 64});
  hw.sram.capacity.count = pick<std::uint64_t>(rng, {16ull << 20, 64ull << 20, 220ull << 20});
  hw.sram.bytes_per_cycle = pick(rng, {4096.0, 56320.0});
  hw.mxm.planes = pick(rng, {1, 2, 4});
  hw.mxm.rows = pick(rng, {64, 320});
  hw.mxm.cols = pick(rng, {64, 320});
  hw.mxm.weight_load_bytes_per_cycle = pick(rng, {1024.0, 10240.0});
  hw.mxm.latency_cycles = pick(rng, {0, 128, 640, 2000});
  hw.vxm.lanes = pick(rng, {16, 64, 320});
  hw.vxm.alus_per_lane = pick(rng, {1, 4, 16});
  hw.dispatch.issue_per_cycle = pick(rng, {1, 2});

  WorkloadSpec& s = c.spec;
  s.model = testing::tiny_model(pick(rng, {1, 2}));
  s.format = parse_format(pick<const char*>(rng, {"int4", "q3.5", "int8", "fp16"}));
  s.batch = pick<std::uint64_t>(rng, {1, 2, 4});
  s.context = pick<std::uint64_t>(rng, {16, 200, 1000});
  s.prompt = pick<std::uint64_t>(rng, {4, 16, 64});
  s.kv = pick(rng, {KvFormat::kFp16, KvFormat::kInt8});
  return c;
}

std::string describe(const Case& c) {
  return dump_hw_config(c.hw) + "workload: tiny model, layers " +
         std::to_string(c.spec.model.layers) + ", format " + c.spec.format.name + ", batch " +
         std::to_string(c.spec.batch) + ", context " + std::to_string(c.spec.context) +
         ", prompt " + std::to_string(c.spec.prompt) + ", kv " +
         (c.spec.kv == KvFormat::kInt8 ? "int8" : "fp16");
}

// Runs every case on its chip and on `better(chip)`; the better chip is never slower. Returns
// in how many cases it was strictly faster, decode or prefill.
int expect_never_slower(const std::function<void(HwConfig&)>& better) {
  std::mt19937 rng(kSeed);
  int faster = 0;
  for (int i = 0; i < kCases; ++i) {
    const Case c = random_case(rng);
    HwConfig improved = c.hw;
    better(improved);
    const LlmRunResult a = run_llm(testing::test_simulation(), c.spec, c.hw, true);
    const LlmRunResult b = run_llm(testing::test_simulation(), c.spec, improved, true);
    SCOPED_TRACE("case " + std::to_string(i) + "\n" + describe(c));
    EXPECT_LE(b.per_token_latency_s(), a.per_token_latency_s() * (1 + kSlack));
    EXPECT_LE(b.first_token_latency_s(), a.first_token_latency_s() * (1 + kSlack));
    faster += b.per_token_latency_s() < a.per_token_latency_s() ||
              b.first_token_latency_s() < a.first_token_latency_s();
  }
  return faster;
}

TEST(MoreHardwareNeverSlower, MoreMemoryBandwidth) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.memory.bandwidth.value *= 2; }), 0)
      << "the knob mattered in no case";
}

TEST(MoreHardwareNeverSlower, MoreMxmPlanes) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.mxm.planes *= 2; }), 0)
      << "the knob mattered in no case";
}

TEST(MoreHardwareNeverSlower, MoreVxmLanes) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.vxm.lanes *= 2; }), 0)
      << "the knob mattered in no case";
}

TEST(MoreHardwareNeverSlower, FasterWeightLoad) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.mxm.weight_load_bytes_per_cycle *= 2; }), 0)
      << "the knob mattered in no case";
}

TEST(MoreHardwareNeverSlower, FasterIssue) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.dispatch.issue_per_cycle *= 2; }), 0)
      << "the knob mattered in no case";
}

TEST(MoreHardwareNeverSlower, ShorterMxmLatency) {
  EXPECT_GT(expect_never_slower([](HwConfig& hw) { hw.mxm.latency_cycles /= 2; }), 0)
      << "the knob mattered in no case";
}

}  // namespace
}  // namespace lpusim
