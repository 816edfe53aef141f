// The Chrome trace writer driven by hand-made instruction callbacks (no SystemC): slices of each
// instruction kind, merging, counters, the event limit's clean cut, gzip, and files left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "kernels/error.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_hw.h"
#include "traces/chrome_trace.h"
#include "traces/chrome_trace_run.h"
#include "traces/step_counter.h"
#include "traces/trace_reader.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

Instruction make(Opcode opcode, std::uint32_t tag = 0) {
  Instruction inst;
  inst.opcode = opcode;
  inst.tag = tag;
  if (opcode == Opcode::kAdd) inst.type = ElemType::kI32;
  if (opcode == Opcode::kLoad) inst.bytes = 640;
  return inst;
}

Program tagged_program() {
  Program p;
  p.tags = {"", "layer1.mlp.up", "layer2.mlp.down", "lm_head"};
  p.semaphores = {{"full", 0}};
  p.buffers = {{"b", 4096}};
  return p;
}

std::vector<TraceEvent> read_events(const std::string& path, nlohmann::json* other = nullptr) {
  std::vector<TraceEvent> events;
  const nlohmann::json o =
      read_chrome_trace(path, [&](const TraceEvent& e) { events.push_back(e); });
  if (other) *other = o;
  return events;
}

std::vector<TraceEvent> slices(const std::vector<TraceEvent>& events, int track = 0) {
  std::vector<TraceEvent> out;
  for (const TraceEvent& e : events) {
    if (e.ph == 'X' && (track == 0 || e.tid == track)) out.push_back(e);
  }
  return out;
}

// Runs `emit` against a fresh writer on `path` and finishes the trace.
template <typename Emit>
void write_trace(const std::string& path, ChromeTraceOptions options, const Program& program,
                 Emit emit) {
  ChromeTraceWriter writer(path, options);
  auto run = writer.begin_run(program, testing::round_number_chip(), "test run");
  emit(*run);
  run->finish();
  writer.finish();
}

// The event of an instruction reached at `issue` that ends at `end` (a LOAD/STORE issues at
// `slot` with `transfer`).
InstructionEvent event(Unit unit, std::uint32_t index, const Instruction& inst, Femtoseconds issue,
                       Femtoseconds end, Femtoseconds slot = 0, TransferTiming transfer = {}) {
  InstructionEvent e;
  e.unit = unit;
  e.index = index;
  e.inst = &inst;
  e.issue_fs = issue;
  e.start_fs = slot != 0 ? slot : issue;
  e.end_fs = end;
  e.complete_fs = end;
  e.transfer = transfer;
  e.on_channel = inst.opcode == Opcode::kLoad || inst.opcode == Opcode::kStore;
  return e;
}

TEST(TraceWriter, VectorOp_IsOneSliceOnTheVxmTrackWithArgs) {
  testing::TempDir dir;
  const Program p = tagged_program();
  Instruction add = make(Opcode::kAdd, 1);
  add.n0 = 4;
  add.n1 = 16;
  write_trace(dir.file("t.json"), {}, p, [&](ChromeTraceRun& run) {
    run.on_instruction(event(Unit::kVxm, 7, add, 10 * kCycle, 14 * kCycle));
  });
  const nlohmann::json j = nlohmann::json::parse(testing::read_file(dir.file("t.json")));
  const nlohmann::json* slice = nullptr;
  for (const nlohmann::json& e : j["traceEvents"]) {
    if (e["ph"] == "X") slice = &e;
  }
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ((*slice)["name"], "ADD.i32");
  EXPECT_EQ((*slice)["cat"], "vector");
  EXPECT_EQ((*slice)["tid"], busy_track(Unit::kVxm));
  EXPECT_DOUBLE_EQ((*slice)["ts"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ((*slice)["dur"].get<double>(), 0.004);
  EXPECT_EQ((*slice)["args"]["index"], 7);
  EXPECT_EQ((*slice)["args"]["op"], "layer1.mlp.up");
  EXPECT_EQ((*slice)["args"]["layer"], 1);
  EXPECT_EQ((*slice)["args"]["elements"], 64);
}

TEST(TraceWriter, StalledLoad_IsAStallASlotOnMemAndATransferOnTheChannel) {
  testing::TempDir dir;
  const Program p = tagged_program();
  const Instruction load = make(Opcode::kLoad, 1);
  TransferTiming t;
  t.start = 20 * kCycle;
  t.last_byte = 27 * kCycle;
  t.complete = 127 * kCycle;
  write_trace(dir.file("t.json"), {}, p, [&](ChromeTraceRun& run) {
    // The slot is free at cycle 5; the queue issues for one cycle.
    run.on_instruction(event(Unit::kMem, 0, load, 0, 6 * kCycle, 5 * kCycle, t));
  });
  const std::vector<TraceEvent> events = read_events(dir.file("t.json"));
  const std::vector<TraceEvent> stall = slices(events, sync_track(Unit::kMem));
  const std::vector<TraceEvent> issue = slices(events, busy_track(Unit::kMem));
  const std::vector<TraceEvent> channel = slices(events, kTrackMemoryChannel);
  ASSERT_EQ(stall.size(), 1u);
  ASSERT_EQ(issue.size(), 1u);
  ASSERT_EQ(channel.size(), 1u);
  EXPECT_EQ(stall[0].ts, 0u);
  EXPECT_EQ(stall[0].dur, 5 * kCycle);
  EXPECT_EQ(issue[0].ts, 5 * kCycle);
  EXPECT_EQ(issue[0].dur, kCycle);
  EXPECT_EQ(channel[0].ts, 20 * kCycle);
  EXPECT_EQ(channel[0].dur, 7 * kCycle);
  std::vector<std::pair<Femtoseconds, std::string>> counters;
  for (const TraceEvent& e : events) {
    if (e.ph == 'C') counters.emplace_back(e.ts, e.name);
  }
  // SRAM at 0; outstanding 0 at 0, 1 from the issue slot, 0 at completion; bandwidth on/off.
  EXPECT_EQ(counters.size(), 7u);
}

TEST(TraceWriter, Merge_CombinesBackToBackIdenticalInstructionsWithACount) {
  testing::TempDir dir;
  const Program p = tagged_program();
  const Instruction add = make(Opcode::kAdd, 1);
  ChromeTraceOptions options;
  options.merge = true;
  write_trace(dir.file("t.json"), options, p, [&](ChromeTraceRun& run) {
    for (std::uint32_t i = 0; i < 5; ++i)
      run.on_instruction(event(Unit::kVxm, i, add, i * kCycle, (i + 1) * kCycle));
    run.on_instruction(event(Unit::kVxm, 5, add, 7 * kCycle, 8 * kCycle));  // a gap: a new slice
  });
  const nlohmann::json j = nlohmann::json::parse(testing::read_file(dir.file("t.json")));
  std::vector<nlohmann::json> merged;
  for (const nlohmann::json& e : j["traceEvents"]) {
    if (e["ph"] == "X") merged.push_back(e);
  }
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0]["args"]["count"], 5);
  EXPECT_EQ(merged[0]["args"]["index"], 0);
  EXPECT_DOUBLE_EQ(merged[0]["dur"].get<double>(), 0.005);
  EXPECT_FALSE(merged[1]["args"].contains("count"));
  EXPECT_EQ(j["otherData"]["merge"], true);
}

TEST(TraceWriter, LayerFilter_DropsInstructionsOfOtherLayersAndUntaggedOnes) {
  testing::TempDir dir;
  const Program p = tagged_program();
  ChromeTraceOptions options;
  options.filter.layers = LayerRange{2, 2};
  write_trace(dir.file("t.json"), options, p, [&](ChromeTraceRun& run) {
    for (std::uint32_t tag = 0; tag < 4; ++tag) {
      run.on_instruction(
          event(Unit::kVxm, tag, make(Opcode::kAdd, tag), tag * kCycle, (tag + 1) * kCycle));
    }
  });
  const std::vector<TraceEvent> x = slices(read_events(dir.file("t.json")));
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[0].ts, 2 * kCycle);
}

TEST(TraceWriter, EventLimit_KeepsEverythingBeforeTheCutAndSaysSo) {
  testing::TempDir dir;
  const Program p = tagged_program();
  ChromeTraceOptions options;
  options.event_limit = 20;
  const Instruction add = make(Opcode::kAdd, 1);
  // The VXM runs ahead in local time of the MXM, as the queues do on the chip.
  write_trace(dir.file("t.json"), options, p, [&](ChromeTraceRun& run) {
    for (std::uint32_t i = 0; i < 40; ++i) {
      run.on_instruction(event(Unit::kVxm, i, add, i * kCycle, (i + 1) * kCycle));
      if (i % 2 == 0)
        run.on_instruction(event(Unit::kMxm, i / 2, add, i / 2 * kCycle, (i / 2 + 1) * kCycle));
    }
  });
  nlohmann::json other;
  const std::vector<TraceEvent> events = read_events(dir.file("t.json"), &other);
  EXPECT_EQ(other["truncated"], true);
  const auto cut = parse_microseconds(nlohmann::json(other["complete_before_us"]).dump());
  ASSERT_TRUE(cut);
  EXPECT_GT(*cut, 0u);
  EXPECT_GE(other["events"].get<double>(), 20);
  EXPECT_LE(other["events"].get<double>(), 22);  // plus the few that complete the cut
  // Every slice that starts before the cut is there, on both tracks.
  for (int track : {busy_track(Unit::kVxm), busy_track(Unit::kMxm)}) {
    std::uint64_t before_cut = 0;
    for (const TraceEvent& e : slices(events, track)) before_cut += e.ts < *cut ? 1 : 0;
    EXPECT_EQ(before_cut, *cut / kCycle) << track;
  }
  EXPECT_NE(other["truncation"].get<std::string>().find("event limit of 20"), std::string::npos);
}

TEST(TraceWriter, GzipTrace_ReadsBackLikeThePlainOne) {
  testing::TempDir dir;
  const Program p = tagged_program();
  auto emit = [&](ChromeTraceRun& run) {
    for (std::uint32_t i = 0; i < 100; ++i) {
      run.on_instruction(event(Unit::kVxm, i, make(Opcode::kAdd, 1), i * kCycle, (i + 1) * kCycle));
    }
  };
  write_trace(dir.file("t.json"), {}, p, emit);
  write_trace(dir.file("t.json.gz"), {}, p, emit);
  const std::string gz = testing::read_file(dir.file("t.json.gz"));
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(slices(read_events(dir.file("t.json.gz"))).size(), 100u);
  EXPECT_EQ(read_events(dir.file("t.json.gz")).size(), read_events(dir.file("t.json")).size());
}

TEST(TraceWriter, UnfinishedTrace_LeavesNoFileBehind) {
  testing::TempDir dir;
  {
    ChromeTraceWriter writer(dir.file("t.json"), {});
    auto run = writer.begin_run(tagged_program(), testing::round_number_chip(), "x");
  }  // a simulation error would unwind like this
  EXPECT_TRUE(dir.entries().empty());
}

TEST(TraceWriter, MissingDirectory_IsAnInputError) {
  testing::TempDir dir;
  EXPECT_THROW(ChromeTraceWriter(dir.file("missing/t.json"), {}), InputError);
}

TEST(TraceReader, NotATrace_IsAnInputErrorNamingTheFile) {
  testing::TempDir dir;
  std::ofstream(dir.file("a.json")) << "{\"x\": 1}";
  std::ofstream(dir.file("b.json")) << "{\"traceEvents\": [";
  for (const char* name : {"a.json", "b.json", "none.json"}) {
    try {
      read_events(dir.file(name));
      ADD_FAILURE() << name;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

TEST(StepCounter, ChangesAtTheSameTime_AreOneSample) {
  std::vector<std::pair<Femtoseconds, std::int64_t>> samples;
  StepCounter c(TimeWindow{}, [&](Femtoseconds t, std::int64_t v) { samples.emplace_back(t, v); });
  c.add(10, 1);
  c.add(30, -1);  // a scheduled end
  c.add(20, 1);
  c.add(30, 1);  // starts as the first ends: no change at 30
  c.add(40, -1);
  c.add(50, -1);
  c.finish();
  const std::vector<std::pair<Femtoseconds, std::int64_t>> expected = {
      {0, 0}, {10, 1}, {20, 2}, {40, 1}, {50, 0}};
  EXPECT_EQ(samples, expected);
}

TEST(StepCounter, Window_StartsWithTheValueAtItsStart) {
  std::vector<std::pair<Femtoseconds, std::int64_t>> samples;
  StepCounter c(TimeWindow{15, 45},
                [&](Femtoseconds t, std::int64_t v) { samples.emplace_back(t, v); });
  c.add(10, 1);
  c.add(20, 1);
  c.add(40, -1);
  c.add(50, -1);
  c.finish();
  const std::vector<std::pair<Femtoseconds, std::int64_t>> expected = {{15, 1}, {20, 2}, {40, 1}};
  EXPECT_EQ(samples, expected);
}

}  // namespace
}  // namespace lpusim
