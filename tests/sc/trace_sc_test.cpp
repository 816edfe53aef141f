// Perfetto / Chrome traces of runs on the SystemC chip: every event well formed, per-track slices
// ordered and disjoint, busy sums equal to the report to the femtosecond, windows, layer filters
// and the event limit recording exactly what they promise, and byte-identical repeats.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "kernels/gemm_kernel.h"
#include "models/chip.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/llm/workload.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_hw.h"
#include "traces/chrome_trace.h"
#include "traces/chrome_trace_run.h"
#include "traces/trace_reader.h"

namespace lpusim {
namespace {

std::string source(const std::string& path) { return std::string(LPUSIM_SOURCE_DIR) + path; }

HwConfig seed_chip() { return load_hw_config(source("/configs/hw/seed-80gbps.yaml")); }

// A decode step of llama2-7b: every layer kind, tags layer0 .. layer31, ~37k instructions.
const Program& llm_program() {
  static const Program program = [] {
    WorkloadSpec s;
    s.model = load_model_config(source("/configs/models/llama2-7b.yaml"));
    s.format = parse_format("q3.5");
    s.context = 256;
    return build_workload(s, seed_chip()).program;
  }();
  return program;
}

Program gemm_program(const HwConfig& hw) {
  GemmSpec spec;
  spec.name = "gemm";
  spec.m = 2;
  spec.k = 512;
  spec.n = 192;
  spec.format = parse_format("q3.5");
  return build_gemm_program(spec, hw).program;
}

struct Traced {
  ChipRunResult result;
  std::string text;
  std::vector<TraceEvent> events;
  nlohmann::json other;
};

Traced trace_run(const Program& program, const HwConfig& hw,
                 const ChromeTraceOptions& options = {}) {
  testing::TempDir dir;
  const std::string path = dir.file("trace.json");
  Traced t;
  {
    ChromeTraceWriter writer(path, options);
    auto run = writer.begin_run(program, hw, "test");
    SimRunOptions run_options;
    run_options.sinks = {run.get()};
    t.result = testing::run_on_test_chip(program, hw, run_options);
    run->finish();
    writer.finish();
  }
  t.text = testing::read_file(path);
  t.other = read_chrome_trace(path, [&](const TraceEvent& e) { t.events.push_back(e); });
  return t;
}

using SliceKey = std::tuple<int, Femtoseconds, Femtoseconds, std::string>;  // tid, ts, dur, name
std::vector<SliceKey> slice_keys(const std::vector<TraceEvent>& events) {
  std::vector<SliceKey> keys;
  for (const TraceEvent& e : events) {
    if (e.ph == 'X') keys.emplace_back(e.tid, e.ts, e.dur, e.name);
  }
  return keys;
}

std::map<int, Femtoseconds> busy_per_track(const std::vector<TraceEvent>& events) {
  std::map<int, Femtoseconds> busy;
  for (const TraceEvent& e : events) {
    if (e.ph == 'X') busy[e.tid] += e.dur;
  }
  return busy;
}

TEST(ChromeTrace, EveryEvent_HasTheFieldsItsPhaseRequires) {
  const HwConfig hw = testing::round_number_chip();
  const Traced t = trace_run(gemm_program(hw), hw);
  const nlohmann::json j = nlohmann::json::parse(t.text);
  ASSERT_TRUE(j["traceEvents"].is_array());
  std::set<std::string> phases;
  for (const nlohmann::json& e : j["traceEvents"]) {
    const std::string ph = e.at("ph");
    phases.insert(ph);
    EXPECT_TRUE(e.at("name").is_string()) << e;
    EXPECT_TRUE(e.at("pid").is_number_integer()) << e;
    EXPECT_TRUE(e.at("args").is_object()) << e;
    if (ph == "X") {
      for (const char* key : {"cat", "ts", "dur", "tid"}) EXPECT_TRUE(e.contains(key)) << key << e;
      EXPECT_GE(e["dur"].get<double>(), 0) << e;
      EXPECT_TRUE(e["args"].contains("index")) << e;
    } else if (ph == "C") {
      EXPECT_TRUE(e.at("ts").is_number()) << e;
      ASSERT_EQ(e["args"].size(), 1u) << e;
      EXPECT_TRUE(e["args"].begin()->is_number()) << e;
    } else {
      EXPECT_EQ(ph, "M") << e;
      EXPECT_TRUE(e.at("tid").is_number_integer()) << e;
    }
  }
  EXPECT_EQ(phases, (std::set<std::string>{"C", "M", "X"}));
  EXPECT_EQ(j["otherData"]["truncated"], false);
}

TEST(ChromeTrace, Metadata_NamesTheRunAndEveryTrack) {
  const HwConfig hw = testing::round_number_chip();
  const Traced t = trace_run(gemm_program(hw), hw);
  std::map<int, std::string> threads;
  std::string process;
  for (const TraceEvent& e : t.events) {
    if (e.ph == 'M' && e.name == "thread_name") threads[e.tid] = e.arg_name;
    if (e.ph == 'M' && e.name == "process_name") process = e.arg_name;
  }
  EXPECT_EQ(process, "test-1ghz: test");
  const std::map<int, std::string> expected = {
      {1, "mem"}, {2, "mem sync"}, {3, "vxm"},           {4, "vxm sync"},
      {5, "mxm"}, {6, "mxm sync"}, {7, "memory channel"}};
  EXPECT_EQ(threads, expected);
  for (const TraceEvent& e : t.events) {
    if (e.ph == 'X') {
      EXPECT_EQ(threads.count(e.tid), 1u) << e.tid;
    }
  }
}

TEST(ChromeTrace, SlicesOfEachTrack_AreInTimeOrderAndNeverOverlap) {
  const Traced t = trace_run(llm_program(), seed_chip());
  std::map<int, Femtoseconds> track_end;
  std::uint64_t checked = 0;
  for (const TraceEvent& e : t.events) {
    if (e.ph != 'X') continue;
    EXPECT_GE(e.ts, track_end[e.tid]) << "track " << e.tid << " slice " << e.name;
    track_end[e.tid] = e.ts + e.dur;
    ++checked;
  }
  EXPECT_GT(checked, t.result.instructions);  // plus transfers and stalls
}

TEST(ChromeTrace, BusySumOfEachUnitTrack_EqualsTheReportsBusyTimeToTheFemtosecond) {
  for (const bool llm : {false, true}) {
    const HwConfig hw = llm ? seed_chip() : testing::round_number_chip();
    const Traced t = trace_run(llm ? llm_program() : gemm_program(hw), hw);
    const std::map<int, Femtoseconds> busy = busy_per_track(t.events);
    for (Unit u : {Unit::kMem, Unit::kVxm, Unit::kMxm}) {
      EXPECT_EQ(busy.at(busy_track(u)), t.result.unit(u).busy_fs) << unit_name(u) << " llm " << llm;
    }
    EXPECT_EQ(busy.at(kTrackMemoryChannel), t.result.memory.busy_fs) << "llm " << llm;
  }
}

TEST(ChromeTrace, Window_RecordsExactlyTheSlicesThatOverlapIt) {
  const HwConfig hw = seed_chip();
  const Traced full = trace_run(llm_program(), hw);
  ChromeTraceOptions options;
  options.filter.window = TimeWindow{full.result.elapsed_fs / 3, full.result.elapsed_fs / 2};
  const Traced part = trace_run(llm_program(), hw, options);
  std::vector<SliceKey> expected;
  for (const TraceEvent& e : full.events) {
    if (e.ph == 'X' && options.filter.window.overlaps(e.ts, e.ts + e.dur)) {
      expected.emplace_back(e.tid, e.ts, e.dur, e.name);
    }
  }
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(slice_keys(part.events), expected);
  for (const TraceEvent& e : part.events) {
    if (e.ph == 'C' && e.name != "SRAM allocated") {
      EXPECT_TRUE(options.filter.window.contains(e.ts)) << e.name << " at " << e.ts;
    }
  }
}

TEST(ChromeTrace, Layers_RecordExactlyTheInstructionsOfThoseLayers) {
  const HwConfig hw = seed_chip();
  const Traced full = trace_run(llm_program(), hw);
  ChromeTraceOptions options;
  options.filter.layers = LayerRange{3, 4};
  const Traced part = trace_run(llm_program(), hw, options);
  const nlohmann::json all = nlohmann::json::parse(full.text);
  std::vector<SliceKey> expected;
  std::size_t x = 0;
  for (const nlohmann::json& e : all["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const TraceEvent* parsed = nullptr;
    while (x < full.events.size() && full.events[x].ph != 'X') ++x;
    parsed = &full.events[x++];
    const int layer = e["args"].value("layer", -1);
    if (layer == 3 || layer == 4)
      expected.emplace_back(parsed->tid, parsed->ts, parsed->dur, parsed->name);
  }
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(slice_keys(part.events), expected);
}

TEST(ChromeTrace, EventLimit_KeepsEverySliceBeforeTheCutAndSaysSo) {
  const HwConfig hw = seed_chip();
  const Traced full = trace_run(llm_program(), hw);
  ChromeTraceOptions options;
  options.event_limit = 5000;
  const Traced part = trace_run(llm_program(), hw, options);
  EXPECT_EQ(part.other["truncated"], true);
  EXPECT_LE(part.other["events"].get<double>(), 5000 + 16);
  const Femtoseconds cut =
      *parse_microseconds(nlohmann::json(part.other["complete_before_us"]).dump());
  EXPECT_GT(cut, 0u);
  auto before_cut = [&](const std::vector<TraceEvent>& events) {
    std::vector<SliceKey> keys;
    for (const SliceKey& k : slice_keys(events)) {
      if (std::get<1>(k) < cut) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  EXPECT_EQ(before_cut(part.events), before_cut(full.events));
  // The simulation itself ran to the end.
  EXPECT_EQ(part.result.elapsed_fs, full.result.elapsed_fs);
}

TEST(ChromeTrace, SameRunTwice_GivesByteIdenticalTraces) {
  const HwConfig hw = seed_chip();
  ChromeTraceOptions options;
  options.merge = true;
  EXPECT_EQ(trace_run(llm_program(), hw).text, trace_run(llm_program(), hw).text);
  EXPECT_EQ(trace_run(llm_program(), hw, options).text, trace_run(llm_program(), hw, options).text);
}

TEST(ChromeTrace, Merge_KeepsEachTracksBusySum) {
  const HwConfig hw = seed_chip();
  const Traced full = trace_run(llm_program(), hw);
  ChromeTraceOptions options;
  options.merge = true;
  const Traced merged = trace_run(llm_program(), hw, options);
  EXPECT_LT(merged.events.size(), full.events.size());
  EXPECT_EQ(busy_per_track(merged.events), busy_per_track(full.events));
}

TEST(ChromeTrace, TracingARun_DoesNotChangeItsResults) {
  const HwConfig hw = seed_chip();
  const ChipRunResult plain = testing::run_on_test_chip(llm_program(), hw);
  const ChipRunResult traced = trace_run(llm_program(), hw).result;
  EXPECT_EQ(plain.elapsed_fs, traced.elapsed_fs);
  EXPECT_EQ(plain.bandwidth_bound_fs, traced.bandwidth_bound_fs);
  EXPECT_EQ(plain.memory.busy_fs, traced.memory.busy_fs);
  for (Unit u : {Unit::kMem, Unit::kVxm, Unit::kMxm}) {
    EXPECT_EQ(plain.unit(u).busy_fs, traced.unit(u).busy_fs);
    EXPECT_EQ(plain.unit(u).wait_fs, traced.unit(u).wait_fs);
  }
}

TEST(ChromeTrace, TwoRunsInOneTrace_AreTwoProcessesEachStartingAtZero) {
  const HwConfig hw = testing::round_number_chip();
  const Program program = gemm_program(hw);
  testing::TempDir dir;
  {
    ChromeTraceWriter writer(dir.file("t.json"), {});
    for (const char* label : {"first", "second"}) {
      auto run = writer.begin_run(program, hw, label);
      SimRunOptions options;
      options.sinks = {run.get()};
      testing::run_on_test_chip(program, hw, options);
      run->finish();
    }
    writer.finish();
  }
  std::map<int, std::string> names;
  std::map<int, std::vector<SliceKey>> slices;
  read_chrome_trace(dir.file("t.json"), [&](const TraceEvent& e) {
    if (e.ph == 'M' && e.name == "process_name") names[e.pid] = e.arg_name;
    if (e.ph == 'X') slices[e.pid].emplace_back(e.tid, e.ts, e.dur, e.name);
  });
  EXPECT_EQ(names, (std::map<int, std::string>{{1, "test-1ghz: first"}, {2, "test-1ghz: second"}}));
  EXPECT_EQ(slices[1], slices[2]);
}

}  // namespace
}  // namespace lpusim
