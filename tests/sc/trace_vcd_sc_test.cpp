// VCD recording by the VcdSink of the event stream: every signal declared, value changes in time
// order at the simulated times they describe (busy flags add up to the report's busy times, a
// semaphore rises when its NOTIFY lands), only inside the window, and results identical with and
// without it. A recording may start after other runs: its time axis starts at 0 all the same.
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "kernels/error.h"
#include "models/chip.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/llm/workload.h"
#include "tests/sc/sc_simulation.h"
#include "tests/support/cli_runner.h"
#include "tests/support/instructions.h"
#include "tests/support/test_hw.h"
#include "traces/vcd_sink.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kCycle = 1'000'000;  // 1 GHz

std::string source(const std::string& path) { return std::string(LPUSIM_SOURCE_DIR) + path; }

Program llm_program(const HwConfig& hw) {
  WorkloadSpec s;
  s.model = load_model_config(source("/configs/models/llama2-7b.yaml"));
  s.format = parse_format("q3.5");
  s.context = 256;
  return build_workload(s, hw).program;
}

// A parsed VCD file: full signal names by id, and value changes after the initial dump.
struct Vcd {
  std::map<std::string, std::string> names;  // id -> "mem.busy"
  std::map<std::string, std::string> initial;
  struct Change {
    Femtoseconds at;
    std::string name;
    std::uint64_t value;
  };
  std::vector<Change> changes;
  std::vector<Femtoseconds> stamps;  // every #time line, in file order
};

std::uint64_t vcd_value(const std::string& token) {
  if (token.empty()) return 0;
  if (token[0] == 'b') return std::stoull(token.substr(1), nullptr, 2);
  return token[0] == '1' ? 1 : 0;
}

Vcd parse_vcd(const std::string& text) {
  Vcd vcd;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> scopes;
  bool dump = false;
  Femtoseconds now = 0;
  bool timed = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "$scope") {
      std::string kind, name;
      words >> kind >> name;
      scopes.push_back(name);
    } else if (first == "$upscope") {
      scopes.pop_back();
    } else if (first == "$var") {
      std::string type, width, id, name;
      words >> type >> width >> id >> name;
      std::string full;
      for (std::size_t i = 1; i < scopes.size(); ++i) full += scopes[i] + ".";  // skip "SystemC"
      vcd.names[id] = full + name;
    } else if (first == "$dumpvars") {
      dump = true;
    } else if (first == "$end") {
      dump = false;
    } else if (!first.empty() && first[0] == '#') {
      now = std::stoull(first.substr(1));
      timed = true;
      vcd.stamps.push_back(now);
    } else if (!first.empty() && (first[0] == 'b' || first[0] == '0' || first[0] == '1')) {
      std::string id;
      if (first[0] == 'b') {
        words >> id;
      } else {
        id = first.substr(1);
      }
      const std::string value = first[0] == 'b' ? first : first.substr(0, 1);
      if (dump) {
        vcd.initial[vcd.names.at(id)] = value;
      } else if (timed) {
        vcd.changes.push_back({now, vcd.names.at(id), vcd_value(value)});
      }
    }
  }
  return vcd;
}

// Time during which a 1-bit signal was high, up to `end`.
Femtoseconds high_time(const Vcd& vcd, const std::string& name, Femtoseconds end) {
  Femtoseconds total = 0;
  bool high = vcd.initial.count(name) && vcd_value(vcd.initial.at(name)) != 0;
  Femtoseconds since = 0;
  for (const Vcd::Change& c : vcd.changes) {
    if (c.name != name) continue;
    if (high && c.value == 0) total += c.at - since;
    if (!high && c.value != 0) since = c.at;
    high = c.value != 0;
  }
  if (high) total += end - since;
  return total;
}

// Records the test simulation's runs into dir/run.vcd from construction until finish().
class VcdRecording {
 public:
  explicit VcdRecording(const testing::TempDir& dir, Femtoseconds from = 0,
                        Femtoseconds to = std::numeric_limits<Femtoseconds>::max())
      : sink_(VcdOptions{dir.file("run.vcd"), from, to, Simulation::kernel_version()}) {
    testing::test_simulation().attach(sink_);
  }
  ~VcdRecording() { testing::test_simulation().detach(sink_); }
  VcdRecording(const VcdRecording&) = delete;
  VcdRecording& operator=(const VcdRecording&) = delete;
  void finish() {
    testing::test_simulation().detach(sink_);
    sink_.finish();
  }

 private:
  VcdSink sink_;
};

TEST(ChipVcd, Header_DeclaresEverySignal) {
  testing::TempDir dir;
  VcdRecording recording(dir);
  const HwConfig hw = testing::round_number_chip();
  Program p;
  p.queue(Unit::kVxm).push_back(Instruction{});
  testing::run_on_test_chip(p, hw);
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  std::set<std::string> names;
  for (const auto& [id, name] : vcd.names) names.insert(name);
  std::set<std::string> expected = {"mem.busy",
                                    "mem.opcode",
                                    "vxm.busy",
                                    "vxm.opcode",
                                    "mxm.busy",
                                    "mxm.opcode",
                                    "memory_channel.outstanding",
                                    "memory_channel.busy"};
  for (int i = 0; i < kVcdSemaphores; ++i) {
    expected.insert("dispatch.sem" + std::string(i < 10 ? "0" : "") + std::to_string(i));
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(vcd.initial.size(), expected.size());
}

TEST(ChipVcd, ValueChanges_AreInTimeOrderAndBusyFlagsAddUpToTheReport) {
  testing::TempDir dir;
  VcdRecording recording(dir);
  const HwConfig hw = load_hw_config(source("/configs/hw/seed-80gbps.yaml"));
  const ChipRunResult r = testing::run_on_test_chip(llm_program(hw), hw);
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  ASSERT_GT(vcd.changes.size(), 1000u);
  for (std::size_t i = 1; i < vcd.stamps.size(); ++i) {
    ASSERT_LT(vcd.stamps[i - 1], vcd.stamps[i]) << "at stamp " << i;
  }
  EXPECT_LE(vcd.stamps.back(), r.elapsed_fs + 1);  // the step that records the final values
  for (Unit u : {Unit::kMem, Unit::kVxm, Unit::kMxm}) {
    EXPECT_EQ(high_time(vcd, std::string(unit_name(u)) + ".busy", r.elapsed_fs), r.unit(u).busy_fs)
        << unit_name(u);
  }
  EXPECT_EQ(high_time(vcd, "memory_channel.busy", r.elapsed_fs), r.memory.busy_fs);
}

TEST(ChipVcd, Recording_LeavesEveryResultUnchanged) {
  testing::TempDir dir;
  VcdRecording recording(dir);
  const HwConfig hw = load_hw_config(source("/configs/hw/seed-80gbps.yaml"));
  const Program program = llm_program(hw);
  const ChipRunResult recorded = testing::run_on_test_chip(program, hw);
  recording.finish();
  const ChipRunResult plain = testing::run_on_test_chip(program, hw);
  EXPECT_EQ(recorded.elapsed_fs, plain.elapsed_fs);
  EXPECT_EQ(recorded.cycles, plain.cycles);
  EXPECT_EQ(recorded.bandwidth_bound_fs, plain.bandwidth_bound_fs);
  EXPECT_EQ(recorded.memory_in_flight_fs, plain.memory_in_flight_fs);
  EXPECT_EQ(recorded.memory.busy_fs, plain.memory.busy_fs);
  EXPECT_EQ(recorded.memory.stall_fs, plain.memory.stall_fs);
  for (Unit u : {Unit::kMem, Unit::kVxm, Unit::kMxm}) {
    EXPECT_EQ(recorded.unit(u).busy_fs, plain.unit(u).busy_fs) << unit_name(u);
    EXPECT_EQ(recorded.unit(u).wait_fs, plain.unit(u).wait_fs) << unit_name(u);
    EXPECT_EQ(recorded.unit(u).finish_fs, plain.unit(u).finish_fs) << unit_name(u);
  }
}

TEST(ChipVcd, Semaphore_RisesWhenItsNotifyLandsAndFallsWhenTaken) {
  testing::TempDir dir;
  VcdRecording recording(dir);
  Program p;
  p.semaphores = {{"ready", 0}};
  Instruction nop;
  nop.opcode = Opcode::kNop;
  nop.n0 = 10;
  Instruction notify;
  notify.opcode = Opcode::kNotify;
  Instruction wait;
  wait.opcode = Opcode::kWait;
  Instruction long_nop = nop;
  long_nop.n0 = 20;
  p.queue(Unit::kVxm) = {nop, notify};     // NOTIFY issues in cycle 10, lands at 11
  p.queue(Unit::kMxm) = {long_nop, wait};  // the WAIT takes it at 20
  testing::run_on_test_chip(p, testing::round_number_chip());
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  std::vector<std::pair<Femtoseconds, std::uint64_t>> sem;
  for (const Vcd::Change& c : vcd.changes) {
    if (c.name == "dispatch.sem00") sem.emplace_back(c.at, c.value);
  }
  const std::vector<std::pair<Femtoseconds, std::uint64_t>> expected = {{11 * kCycle, 1},
                                                                        {20 * kCycle, 0}};
  EXPECT_EQ(sem, expected);
}

TEST(ChipVcd, Window_RecordsValueChangesOnlyInsideIt) {
  testing::TempDir dir;
  const Femtoseconds from = 2'000'000'000;  // 2 us .. 5 us of the run
  const Femtoseconds to = 5'000'000'000;
  VcdRecording recording(dir, from, to);
  const HwConfig hw = load_hw_config(source("/configs/hw/seed-80gbps.yaml"));
  testing::run_on_test_chip(llm_program(hw), hw);
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  ASSERT_FALSE(vcd.changes.empty());
  for (const Vcd::Change& c : vcd.changes) {
    EXPECT_GE(c.at, from) << c.name;
    EXPECT_LT(c.at, to) << c.name;
  }
}

TEST(ChipVcd, Window_OpensWithTheStateAtItsStart) {
  testing::TempDir dir;
  VcdRecording recording(dir, 50 * kCycle, 80 * kCycle);
  Program p;
  Instruction nop;
  nop.opcode = Opcode::kNop;
  nop.n0 = 100;  // busy from 0 to 100 ns, across the whole window
  p.queue(Unit::kVxm) = {nop};
  testing::run_on_test_chip(p, testing::round_number_chip());
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  std::vector<std::tuple<Femtoseconds, std::string, std::uint64_t>> vxm;
  for (const Vcd::Change& c : vcd.changes) {
    if (c.name.rfind("vxm.", 0) == 0) vxm.emplace_back(c.at, c.name, c.value);
  }
  const std::vector<std::tuple<Femtoseconds, std::string, std::uint64_t>> expected = {
      {50 * kCycle, "vxm.busy", 1}, {50 * kCycle, "vxm.opcode", 1}};  // NOP = opcode 0, code 1
  EXPECT_EQ(vxm, expected);
}

// One NOP of 7 cycles on the VXM.
Program seven_cycle_nop() {
  Program p;
  p.queue(Unit::kVxm) = {testing::nop(7)};
  return p;
}

TEST(ChipVcd, RecordingStartedAfterAnotherRun_StartsItsTimeAxisAtZero) {
  testing::run_on_test_chip(Program{}, testing::round_number_chip());  // not recorded
  testing::TempDir dir;
  VcdRecording recording(dir);
  const Program p = seven_cycle_nop();
  testing::run_on_test_chip(p, testing::round_number_chip());
  recording.finish();
  const Vcd vcd = parse_vcd(testing::read_file(dir.file("run.vcd")));
  // Busy from 0 (the initial dump) to 7 ns; the file closes 1 fs after the queue's end.
  EXPECT_EQ(vcd_value(vcd.initial.at("vxm.busy")), 1u);
  const std::vector<Femtoseconds> stamps = {7 * kCycle, 7 * kCycle + 1};
  EXPECT_EQ(vcd.stamps, stamps);
}

TEST(ChipVcd, SecondRun_StartsOneFemtosecondAfterTheFirstRunsLastActivity) {
  testing::TempDir dir;
  VcdRecording recording(dir);
  const Program p = seven_cycle_nop();
  testing::run_on_test_chip(p, testing::round_number_chip());
  testing::run_on_test_chip(p, testing::round_number_chip());
  recording.finish();
  const std::string text = testing::read_file(dir.file("run.vcd"));
  // Run 1: busy [0, 7 ns), its last activity the queue's end at 7 ns. Run 2 starts 1 fs later,
  // busy again until 14 ns + 1 fs; the file closes 1 fs after that.
  EXPECT_NE(text.find("run 2 starts at 7000001 fs"), std::string::npos);
  const Vcd vcd = parse_vcd(text);
  std::vector<std::pair<Femtoseconds, std::uint64_t>> busy;
  for (const Vcd::Change& c : vcd.changes) {
    if (c.name == "vxm.busy") busy.emplace_back(c.at, c.value);
  }
  const std::vector<std::pair<Femtoseconds, std::uint64_t>> expected = {
      {7 * kCycle, 0}, {7 * kCycle + 1, 1}, {14 * kCycle + 1, 0}};
  EXPECT_EQ(busy, expected);
  EXPECT_EQ(vcd.stamps.back(), 14 * kCycle + 2);
}

}  // namespace
}  // namespace lpusim
