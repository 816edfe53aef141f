// The attention of a decode step keeps the chip's units busy: independent (sequence, KV head)
// blocks overlap through the rings, so a batch-64 LLaMA-2-70B step on an HBM-class chip lands near
// its floor instead of adding up two MXM pipeline latencies per block; and the keys of a context
// too long for SRAM are cut into tiles, so every context up to the model's maximum runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using testing::run_lpusim;
using testing::TempDir;

nlohmann::json run_json(const std::vector<std::string>& args) {
  TempDir dir;
  std::vector<std::string> full = args;
  full.insert(full.end(), {"--no-prefill", "--format", "json"});
  const testing::CliResult r = run_lpusim(full, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

double floor_of(const nlohmann::json& step) {
  return std::max(step["bandwidth_floor_s"].get<double>(), step["mac_floor_s"].get<double>());
}

// The step the attention pipeline was built for: the memory channel streams weights and KV cache
// while the MXM and VXM work on blocks already loaded. Before, each block waited for its QK^T and
// P V results (640 cycles each) in turn and the step took 1.94x its floor.
TEST(AttentionPipelineCli, Llama70bBatch64OnHbm3_WithinAQuarterOfTheFloor) {
  for (const char* kv : {"fp16", "int8"}) {
    SCOPED_TRACE(kv);
    const nlohmann::json step =
        run_json({"run", "--model", "llama2-70b", "--hw", "hbm3-3tbps", "--quant", "int8",
                  "--batch", "64", "--context", "2048", "--kv-format", kv});
    ASSERT_TRUE(step.contains("seconds"));
    EXPECT_EQ(step["group_size"], 0);  // int8 weights: per channel
    EXPECT_GE(step["seconds"].get<double>(), floor_of(step));
    EXPECT_LE(step["seconds"].get<double>(), 1.25 * floor_of(step));
  }
}

// LLaMA-3-70B at its maximum context and batch 128: four ring slots of whole 8192-key blocks do
// not fit next to the activations, so each block runs as two key tiles of 4096 (online softmax)
// in a ring of seven slots, and the step stays near the memory channel's floor. Before, each
// block was one dependent chain and the step took 1.44x its floor.
TEST(AttentionPipelineCli, MaxContextAtBatch128_InKeyTilesWithinAQuarterOfTheFloor) {
  const nlohmann::json step = run_json({"run", "--model", "llama3-70b", "--context", "8191",
                                        "--batch", "128", "--quant", "int8", "--hw", "hbm3-3tbps"});
  ASSERT_TRUE(step.contains("seconds"));
  EXPECT_GE(step["seconds"].get<double>(), floor_of(step));
  EXPECT_LE(step["seconds"].get<double>(), 1.25 * floor_of(step));
}

}  // namespace
}  // namespace lpusim
