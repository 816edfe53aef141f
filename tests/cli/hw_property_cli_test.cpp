// Property: hardware configs drawn at random within every key's documented range (fixed seed)
// are either simulated (exit 0) with every reported number finite and the per-token latency at
// or above its bandwidth and compute floors, or refused as unrepresentable (exit 3). Never exit
// 2 (the ranges are the documented ones), never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "sim/config/config_keys.h"
#include "sim/config/hw_config.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::CliResult;
using testing::run_lpusim;
using testing::TempDir;

constexpr int kConfigs = 40;
constexpr std::uint64_t kSeed = 20261207;
constexpr double kRelativeTolerance = 1e-9;

// Log-uniform in [lo, hi] (lo > 0), so that every decade of a wide range is visited.
double log_uniform(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return std::exp(u(rng));
}

// A value of `spec` inside its range, in the key's canonical text.
std::string draw(std::mt19937_64& rng, const KeySpec& spec) {
  const bool whole = spec.kind == KeyKind::kCount || spec.kind == KeyKind::kBytes;
  // memory.capacity only refuses runs (exit 3): half the draws leave it unchecked (0 B) so that
  // enough configs simulate.
  if (whole && spec.min == 0 && std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
    return format_key(spec, KeyValue{0, {}, {}});
  }
  if (whole) {
    const double v = std::floor(log_uniform(rng, std::max(spec.min, 1.0), spec.max + 1));
    return format_key(spec, KeyValue{std::min(v, spec.max), {}, {}});
  }
  if (spec.min == 0 && std::uniform_int_distribution<int>(0, 7)(rng) == 0) {
    return format_key(spec, KeyValue{0, {}, {}});
  }
  // Keep clear of the bounds so that the canonical text's rounding stays inside the range.
  const double lo = spec.min == 0 ? spec.max * 1e-12 : spec.min * 1.01;
  return format_key(spec, KeyValue{log_uniform(rng, lo, spec.max * 0.99), {}, {}});
}

std::vector<std::string> random_overrides(std::mt19937_64& rng) {
  std::vector<std::string> args;
  for (const KeySpec& spec : hw_key_catalogue()) {
    std::string value;
    if (spec.kind == KeyKind::kEnum) {
      value = std::uniform_int_distribution<int>(0, 1)(rng) == 0 ? "streamed" : "resident";
    } else if (!range_text(spec).empty()) {
      value = draw(rng, spec);
    } else {
      continue;
    }
    args.push_back("--set");
    args.push_back(std::string(spec.path) + "=" + value);
  }
  return args;
}

// Every number in the report is finite; JSON has no way to write NaN or infinity but null.
void expect_all_finite(const nlohmann::json& j, const std::string& path) {
  if (j.is_null()) {
    ADD_FAILURE() << path << " is null (a non-finite number)";
  }
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << path;
  }
  if (j.is_object() || j.is_array()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      expect_all_finite(*it, path + "." + (j.is_object() ? it.key() : std::string("[]")));
    }
  }
}

std::string tiny_model(const TempDir& dir) {
  const std::string path = dir.file("tiny.yaml");
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(
      "name: tiny\nhidden: 256\nffn: 512\nlayers: 2\nheads: 4\nkv_heads: 2\nhead_dim: 64\n"
      "vocab: 1000\nmax_context: 4096\nnorm: rmsnorm\nmlp: swiglu\nposition: rope\n"
      "tied_embeddings: false\n",
      f);
  std::fclose(f);
  return path;
}

TEST(HwProperty, RandomConfigsInRange_GiveFiniteNumbersAboveTheirFloorsOrExit3) {
  TempDir dir;
  const std::string model = tiny_model(dir);
  std::mt19937_64 rng(kSeed);
  int simulated = 0;
  for (int i = 0; i < kConfigs; ++i) {
    std::vector<std::string> args = {"run",       "--model", model,      "--prompt", "64",
                                     "--context", "512",     "--format", "json"};
    const std::vector<std::string> overrides = random_overrides(rng);
    args.insert(args.end(), overrides.begin(), overrides.end());
    std::string described;
    for (const std::string& a : overrides) described += " " + a;
    const CliResult r = run_lpusim(args, dir);
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.exit_code << described << "\n" << r.err;
    if (r.exit_code == 3) {
      if (std::getenv("LPUSIM_TEST_VERBOSE") != nullptr) std::printf("exit 3: %s", r.err.c_str());
      continue;
    }
    ++simulated;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    expect_all_finite(j, "report");
    const double latency = j.at("per_token_latency_s").get<double>();
    EXPECT_GE(latency, j.at("bandwidth_floor_s").get<double>() * (1 - kRelativeTolerance))
        << described;
    EXPECT_GE(latency, j.at("mac_floor_s").get<double>() * (1 - kRelativeTolerance)) << described;
    EXPECT_GT(j.at("first_token_latency_s").get<double>(), 0) << described;
    EXPECT_GT(j.at("simulated_cycles").get<std::uint64_t>(), 0u) << described;
  }
  // The ranges are wide, but most draws must still be simulated for the property to mean much.
  EXPECT_GE(simulated, kConfigs / 4);
  std::printf("%d of %d random configs simulated, the others exit 3\n", simulated, kConfigs);
}

// The decode step's per-token latency (seconds) of `args` with `key=value` set, or -1 (failure
// recorded) when the run does not exit 0.
double latency_with(const std::vector<std::string>& args, const std::string& key,
                    const std::string& value) {
  TempDir dir;
  std::vector<std::string> all = args;
  all.insert(all.end(), {"--set", key + "=" + value, "--format", "json"});
  const CliResult r = run_lpusim(all, dir);
  EXPECT_EQ(r.exit_code, 0) << key << "=" << value << "\n" << r.err;
  if (r.exit_code != 0) return -1;
  return nlohmann::json::parse(r.out).at("per_token_latency_s").get<double>();
}

// memory.outstanding counts bursts in flight. Below bandwidth x latency / burst (5,235 bursts of
// 64 B on hbm3-3tbps, 125 on seed-80gbps) a streamed decode step slows; above it nothing changes;
// raising it never makes the step slower.
TEST(HwProperty, MemoryOutstanding_BelowBandwidthTimesLatency_SlowsAStreamedDecode) {
  struct Case {
    std::string hw;
    std::uint64_t needed;  // ceil(bandwidth x latency / burst) + 1
  };
  for (const Case& c : {Case{"hbm3-3tbps", 5236}, Case{"seed-80gbps", 126}}) {
    const std::vector<std::string> run = {"run",       "--hw",    c.hw,   "--model",
                                          "llama2-7b", "--quant", "int8", "--no-prefill"};
    double previous = -1;
    for (const std::uint64_t outstanding :
         {std::uint64_t{1}, std::uint64_t{4}, c.needed / 8, c.needed / 2, c.needed - 2, c.needed,
          2 * c.needed, std::uint64_t{65536}}) {
      const double latency = latency_with(run, "memory.outstanding", std::to_string(outstanding));
      if (previous > 0) {
        EXPECT_LE(latency, previous * (1 + kRelativeTolerance))
            << c.hw << " outstanding " << outstanding << " is slower than fewer";
      }
      if (outstanding <= c.needed / 2) {
        // Half the needed depth or less: at most half the bandwidth, well above the floor.
        EXPECT_GT(latency, 1.5 * latency_with(run, "memory.outstanding", "65536"))
            << c.hw << " outstanding " << outstanding;
      }
      previous = latency;
    }
    EXPECT_EQ(latency_with(run, "memory.outstanding", std::to_string(c.needed)),
              latency_with(run, "memory.outstanding", "65536"))
        << c.hw << ": from bandwidth x latency / burst + 1 on, the channel is never throttled";
  }
}

}  // namespace
}  // namespace lpusim
