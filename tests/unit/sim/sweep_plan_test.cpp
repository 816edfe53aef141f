// Sweep files and their expansion: the grid is the product of the axes, explicit points follow it,
// every mistake is reported at its file:line, hashes are stable, shards partition the points.
#include "sim/sweep/sweep_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "sim/sweep/sweep_file.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

const std::string kTinyModel =
    std::string(LPUSIM_SOURCE_DIR) + "/tests/data/sweeps/tiny-model.yaml";

// Writes `text` as sweep.yaml next to a copy of the tiny model; returns the sweep's path.
std::string write_sweep(const TempDir& dir, const std::string& text) {
  fs::copy_file(kTinyModel, dir.file("tiny-model.yaml"), fs::copy_options::overwrite_existing);
  std::ofstream(dir.file("sweep.yaml")) << text;
  return dir.file("sweep.yaml");
}

SweepPlan plan_of(const TempDir& dir, const std::string& text) {
  return expand_sweep(read_sweep_file(write_sweep(dir, text)));
}

// The InputError message of expanding `text`, or "" when it expands.
std::string error_of(const TempDir& dir, const std::string& text) {
  try {
    plan_of(dir, text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kBase = "model: tiny-model.yaml\ncontext: 64\nprefill: false\n";

TEST(SweepPlan, Grid_IsTheProductOfTheAxes_FirstAxisVaryingSlowest) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) +
                                          "axes:\n"
                                          "  quant: [int4, q3.5, int8]\n"
                                          "  memory.bandwidth: [80 GB/s, 1 TB/s]\n");
  ASSERT_EQ(plan.points.size(), 6u);
  EXPECT_EQ(plan.points[0].label(), "quant=int4 memory.bandwidth=80 GB/s");
  EXPECT_EQ(plan.points[1].label(), "quant=int4 memory.bandwidth=1 TB/s");
  EXPECT_EQ(plan.points[5].label(), "quant=int8 memory.bandwidth=1 TB/s");
  EXPECT_EQ(plan.points[5].spec.format.name, "int8");
  EXPECT_DOUBLE_EQ(plan.points[5].hw.memory.bandwidth.value, 1e12);
  EXPECT_EQ(plan.hw_axes, std::vector<std::string>{"memory.bandwidth"});
  for (std::size_t i = 0; i < plan.points.size(); ++i) EXPECT_EQ(plan.points[i].index, i);
}

TEST(SweepPlan, ExplicitPoints_FollowTheGrid_EachOnTopOfTheBase) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) +
                                          "batch: 2\n"
                                          "axes:\n  quant: [int4, q3]\n"
                                          "points:\n"
                                          "  - {quant: int8, mxm.planes: 2}\n"
                                          "  - {hw: groq-tsp-v1}\n");
  ASSERT_EQ(plan.points.size(), 4u);
  EXPECT_EQ(plan.points[2].spec.format.name, "int8");
  EXPECT_EQ(plan.points[2].hw.mxm.planes, 2);
  EXPECT_EQ(plan.points[2].spec.batch, 2u);
  EXPECT_EQ(plan.points[3].spec.format.name, "q3.5");  // the default, not a grid value
  EXPECT_EQ(plan.points[3].hw.name, "groq-tsp-v1");
  EXPECT_EQ(plan.hw_axes, std::vector<std::string>{"mxm.planes"});
}

TEST(SweepPlan, OnlyExplicitPoints_GiveOnlyThosePoints) {
  TempDir dir;
  const SweepPlan plan =
      plan_of(dir, std::string(kBase) + "points:\n  - {quant: int4}\n  - {quant: q3}\n");
  ASSERT_EQ(plan.points.size(), 2u);
  EXPECT_EQ(plan.points[1].spec.format.name, "q3");
}

TEST(SweepPlan, NoAxesAndNoPoints_IsOnePoint_TheBase) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) + "quant: int4\n");
  ASSERT_EQ(plan.points.size(), 1u);
  EXPECT_EQ(plan.points[0].label(), "base");
  EXPECT_EQ(plan.points[0].spec.format.name, "int4");
}

TEST(SweepPlan, NestedSectionsAndSet_ReadLikeDottedKeys) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) +
                                          "set:\n  memory:\n    latency: 50 ns\n"
                                          "axes:\n  memory:\n    bandwidth: [1 TB/s]\n");
  ASSERT_EQ(plan.points.size(), 1u);
  EXPECT_DOUBLE_EQ(plan.points[0].hw.memory.latency.value, 50e-9);
  EXPECT_DOUBLE_EQ(plan.points[0].hw.memory.bandwidth.value, 1e12);
}

TEST(SweepPlan, PointsWithTheSameEffectiveConfig_CollapseByHash) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) +
                                          "axes:\n  memory.bandwidth: [80 GB/s, 80000 MB/s]\n"
                                          "points:\n  - {quant: q3.5}\n");
  EXPECT_EQ(plan.points.size(), 1u);
  EXPECT_EQ(plan.duplicates, 2u);
}

TEST(SweepPlan, RunArguments_SimulateThePoint) {
  TempDir dir;
  const SweepPlan plan =
      plan_of(dir, std::string(kBase) + "points:\n  - {memory.bandwidth: 1 TB/s}\n");
  const std::vector<std::string>& args = plan.points[0].run_args;
  EXPECT_EQ(args.front(), "run");
  EXPECT_THAT(args, ::testing::Contains("memory.bandwidth=\"1 TB/s\""));
  EXPECT_THAT(args, ::testing::Contains("--no-prefill"));
  // The group kernel is passed on, so that a point runs what its hash says.
  const auto kernel = std::find(args.begin(), args.end(), "--group-kernel");
  ASSERT_NE(kernel, args.end());
  EXPECT_EQ(*std::next(kernel), "auto");
  EXPECT_THAT(args, ::testing::Contains(dir.file("tiny-model.yaml")));
}

TEST(SweepPlan, UnknownAxis_IsAnErrorAtItsLine_WithTheClosestName) {
  TempDir dir;
  const std::string message =
      error_of(dir, std::string(kBase) + "axes:\n  quant: [int4]\n  memory.bandwith: [1 TB/s]\n");
  EXPECT_THAT(message, HasSubstr(dir.file("sweep.yaml") + ":6: memory.bandwith: unknown axis"));
  EXPECT_THAT(message, HasSubstr("did you mean `memory.bandwidth`"));
}

TEST(SweepPlan, BadHardwareValue_IsAnErrorAtTheValuesOwnLine) {
  TempDir dir;
  const std::string message = error_of(
      dir, std::string(kBase) + "axes:\n  memory.bandwidth:\n    - 80 GB/s\n    - eighty\n");
  EXPECT_THAT(message, HasSubstr("sweep.yaml:7: memory.bandwidth: expected a bandwidth"));
  EXPECT_THAT(message, HasSubstr("\"eighty\""));
}

TEST(SweepPlan, BadWorkloadValues_AreErrorsAtTheirLines) {
  TempDir dir;
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  quant: [int4, int5]\n"),
              HasSubstr("sweep.yaml:5: quant: "));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "points:\n  - {batch: 0}\n"),
              HasSubstr("sweep.yaml:5: batch: expected a whole number in [1, 65536], got \"0\""));
  // The same ranges as the run flags: a batch the CLI refuses is refused in a sweep file too.
  EXPECT_THAT(
      error_of(dir, std::string(kBase) + "points:\n  - {batch: 65537}\n"),
      HasSubstr("sweep.yaml:5: batch: expected a whole number in [1, 65536], got \"65537\""));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  context: [2147483647]\n"),
              HasSubstr("sweep.yaml:5: context: expected a whole number in [0, 2147483646]"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  prompt: [-1]\n"),
              HasSubstr("sweep.yaml:5: prompt: expected a whole number in [1, 2147483647]"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  prefill: [yes]\n"),
              HasSubstr("sweep.yaml:5: prefill: expected true or false"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  group_kernel: [auto, 2-level]\n"),
              HasSubstr("sweep.yaml:5: group_kernel: group kernel \"2-level\": expected auto, "
                        "per-group or two-level"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  model: [no-such-model]\n"),
              HasSubstr("sweep.yaml:5: model: no model config named \"no-such-model\""));
}

TEST(SweepPlan, ShapeMistakes_AreErrorsAtTheirLines) {
  TempDir dir;
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  quant: []\n"),
              HasSubstr("sweep.yaml:5: quant: expected a non-empty list"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  memory: [1]\n"),
              HasSubstr("sweep.yaml:5: memory: is a section"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "set:\n  quant: int4\n"),
              HasSubstr("sweep.yaml:5: quant: `set:` takes hardware keys"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "memory.bandwidth: 1 TB/s\n"),
              HasSubstr("sweep.yaml:4: memory.bandwidth: hardware keys go under"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axse:\n  quant: [int4]\n"),
              HasSubstr("sweep.yaml:4: axse: unknown key; did you mean `axes`?"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "axes:\n  quant: [int4]\n  quant: [q3]\n"),
              HasSubstr("sweep.yaml:6: quant: duplicate key (first at line 5)"));
  EXPECT_THAT(error_of(dir, std::string(kBase) + "quant: [int4\n"),
              HasSubstr("sweep.yaml:5: invalid YAML"));
}

TEST(SweepPlan, ContextBeyondTheModel_IsAnErrorNamingThePoint) {
  TempDir dir;
  const std::string message = error_of(dir, std::string(kBase) + "axes:\n  context: [64, 4000]\n");
  EXPECT_THAT(message, HasSubstr("sweep.yaml:5: point 1 (context=4000)"));
  EXPECT_THAT(message, HasSubstr("max_context 512"));
}

// The hash of a fixed point. It changes only when the effective config text changes: a new
// hardware or model key (its default joins the dump) or a change of the canonical format. Then
// update the constant: results files written before hold other hashes and are rerun.
TEST(SweepHash, FixedPoint_HasAFixedHash) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir,
                                 "hw: seed-80gbps\nmodel: tiny-model.yaml\nquant: int4\n"
                                 "group_size: 128\nbatch: 1\ncontext: 64\nprompt: 8\n"
                                 "kv_format: fp16\nprefill: false\n");
  ASSERT_EQ(plan.points.size(), 1u);
  EXPECT_EQ(plan.points[0].hash, "89fd8bfbf8d02050") << plan.points[0].canonical;
}

TEST(SweepHash, DoesNotDependOnWhereTheFilesAre_OrHowValuesAreSpelled) {
  TempDir a;
  TempDir b;
  const std::string text = std::string(kBase) + "axes:\n  memory.bandwidth: [1 TB/s]\n";
  std::string spelled = text;
  spelled.replace(spelled.find("1 TB/s"), 6, "1000 GB/s");
  EXPECT_EQ(plan_of(a, text).points[0].hash, plan_of(b, spelled).points[0].hash);
  EXPECT_EQ(plan_of(a, text).points[0].canonical.find(a.path().string()), std::string::npos);
}

// The base is itself a point (context: 64 restates it), and every other point changes one
// field of it. A field left out of the hash would make its point collapse into the base.
TEST(SweepHash, ChangesWithEveryParameter) {
  TempDir dir;
  const std::vector<std::string> one_field = {
      "{context: 64}",  // the base
      // the workload
      "{quant: int4}", "{quant: q3}", "{batch: 2}", "{context: 65}", "{prompt: 9}",
      "{kv_format: int8}", "{prefill: true}", "{group_size: 64}", "{group_kernel: per-group}",
      "{model: llama2-7b}", "{hw: hbm3-3tbps}",
      // every hardware key
      "{clock: 901 MHz}", "{weights: resident}", "{memory.bandwidth: 81 GB/s}",
      "{memory.latency: 101 ns}", "{memory.burst: 128 B}", "{memory.outstanding: 9}",
      "{sram.capacity: 200 MiB}", "{sram.bandwidth: 4096 B/cycle}", "{mxm.planes: 3}",
      "{mxm.rows: 128}", "{mxm.cols: 128}", "{mxm.weight_load: 2048 B/cycle}", "{vxm.lanes: 160}",
      "{vxm.alus_per_lane: 8}", "{dispatch.issue_per_cycle: 2}", "{energy.memory: 150 pJ/B}",
      "{energy.sram: 1 pJ/B}", "{energy.mac_int8: 0.4 pJ}", "{energy.vxm_op: 0.3 pJ}",
      "{energy.static: 7 W}"};
  std::string text = std::string(kBase) + "points:\n";
  for (const std::string& p : one_field) text += "  - " + p + "\n";
  const SweepPlan plan = plan_of(dir, text);
  EXPECT_EQ(plan.duplicates, 0u);
  ASSERT_EQ(plan.points.size(), one_field.size());
  // Every pair differs in one field (a variant and the base) or in two (two variants), so every
  // pair must hash differently.
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    for (std::size_t j = i + 1; j < plan.points.size(); ++j) {
      EXPECT_NE(plan.points[i].hash, plan.points[j].hash)
          << one_field[i] << " and " << one_field[j];
    }
  }
}

TEST(SweepShard, EveryPoint_IsInExactlyOneShard) {
  TempDir dir;
  const SweepPlan plan = plan_of(dir, std::string(kBase) +
                                          "axes:\n  quant: [int4, q3.5, q3]\n"
                                          "  batch: [1, 2, 3, 4, 5, 6, 7]\n");
  for (std::size_t count = 1; count <= 5; ++count) {
    std::vector<int> owners(plan.points.size(), 0);
    for (std::size_t index = 1; index <= count; ++index) {
      const Shard shard = parse_shard(std::to_string(index) + "/" + std::to_string(count));
      for (const SweepPoint& p : plan.points) owners[p.index] += shard.contains(p) ? 1 : 0;
    }
    for (int owner_count : owners) EXPECT_EQ(owner_count, 1) << "N = " << count;
  }
}

TEST(SweepShard, BadShards_AreInputErrors) {
  for (const char* bad : {"0/2", "3/2", "1/0", "1", "a/b", "/2", "1/"}) {
    EXPECT_THROW(parse_shard(bad), InputError) << bad;
  }
  EXPECT_EQ(parse_shard("2/3").index, 2u);
  EXPECT_EQ(parse_shard("2/3").count, 3u);
}

}  // namespace
}  // namespace lpusim
