// Hardware config loading: every shipped config loads, dump -> load is the identity, and each kind
// of mistake is reported at the right file:line with the key path and what was expected.
#include "sim/config/hw_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A valid config; tests replace one numbered line to make one mistake.
constexpr const char* kValid = R"(name: test-chip
clock: 900 MHz
weights: streamed
memory:
  bandwidth: 80 GB/s
  latency: 100 ns
  burst: 64 B
  outstanding: 64
sram:
  capacity: 220 MiB
  bandwidth: 56320 B/cycle
mxm:
  planes: 4
  rows: 320
  cols: 320
  weight_load: 10240 B/cycle
vxm:
  lanes: 320
  alus_per_lane: 16
)";

std::string replace_line(const std::string& text, int line, const std::string& with) {
  std::istringstream in(text);
  std::string out;
  std::string current;
  for (int number = 1; std::getline(in, current); ++number)
    out += (number == line ? with : current) + "\n";
  return out;
}

// The dump without its header comment (which names the file it was loaded from).
std::string after_first_line(const std::string& text) { return text.substr(text.find('\n')); }

class HwConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("lpusim_hw_config_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "chip.yaml") {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // The InputError thrown by loading `text` with `overrides`.
  InputError error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
      load_hw_config(write(text), overrides);
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return InputError("no error");
  }

  fs::path dir_;
};

void expect_same(const HwConfig& a, const HwConfig& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.clock.value, b.clock.value);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.memory.bandwidth.value, b.memory.bandwidth.value);
  EXPECT_EQ(a.memory.latency.value, b.memory.latency.value);
  EXPECT_EQ(a.memory.burst.count, b.memory.burst.count);
  EXPECT_EQ(a.memory.outstanding, b.memory.outstanding);
  EXPECT_EQ(a.sram.capacity.count, b.sram.capacity.count);
  EXPECT_EQ(a.sram.bytes_per_cycle, b.sram.bytes_per_cycle);
  EXPECT_EQ(a.mxm.planes, b.mxm.planes);
  EXPECT_EQ(a.mxm.rows, b.mxm.rows);
  EXPECT_EQ(a.mxm.cols, b.mxm.cols);
  EXPECT_EQ(a.mxm.weight_load_bytes_per_cycle, b.mxm.weight_load_bytes_per_cycle);
  EXPECT_EQ(a.mxm.latency_cycles, b.mxm.latency_cycles);
  EXPECT_EQ(a.vxm.lanes, b.vxm.lanes);
  EXPECT_EQ(a.vxm.alus_per_lane, b.vxm.alus_per_lane);
  EXPECT_EQ(a.dispatch.issue_per_cycle, b.dispatch.issue_per_cycle);
  EXPECT_EQ(a.energy.memory_pj_per_byte, b.energy.memory_pj_per_byte);
  EXPECT_EQ(a.energy.sram_pj_per_byte, b.energy.sram_pj_per_byte);
  EXPECT_EQ(a.energy.mac_int8_pj, b.energy.mac_int8_pj);
  EXPECT_EQ(a.energy.vxm_op_pj, b.energy.vxm_op_pj);
  EXPECT_EQ(a.energy.static_w, b.energy.static_w);
}

std::vector<fs::path> shipped_hw_configs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(LPUSIM_SOURCE_DIR) / "configs/hw"))
    files.push_back(entry.path());
  return files;
}

// --- shipped configs ------------------------------------------------------------------------

TEST_F(HwConfigTest, EveryShippedConfig_LoadsAndIsNamedAfterItsFile) {
  const std::vector<fs::path> files = shipped_hw_configs();
  EXPECT_GE(files.size(), 3u);
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    EXPECT_EQ(file.extension(), ".yaml");
    EXPECT_EQ(load_hw_config(file.string()).name, file.stem().string());
  }
}

TEST_F(HwConfigTest, EveryShippedConfig_DumpThenLoad_IsIdentical) {
  for (const fs::path& file : shipped_hw_configs()) {
    SCOPED_TRACE(file.string());
    const HwConfig original = load_hw_config(file.string());
    const std::string dump = dump_hw_config(original);
    const HwConfig reloaded = load_hw_config(write(dump, "dump.yaml"));
    expect_same(original, reloaded);
    EXPECT_EQ(after_first_line(dump_hw_config(reloaded)), after_first_line(dump));
  }
}

TEST_F(HwConfigTest, SeedConfig_Is737TopsStreamedOver80GBs) {
  const HwConfig seed = load_hw_config("seed-80gbps");
  EXPECT_EQ(seed.clock.value, 900e6);
  EXPECT_EQ(seed.weights, WeightPlacement::kStreamed);
  EXPECT_EQ(seed.memory.bandwidth.value, 80e9);
  const double tops = 2.0 * seed.mxm.planes * seed.mxm.rows * seed.mxm.cols * seed.clock.value;
  EXPECT_DOUBLE_EQ(tops, 737.28e12);
  EXPECT_EQ(seed.sram.capacity.count, 220u << 20);
}

TEST_F(HwConfigTest, TspV1Config_HasThePublishedFigures) {
  const HwConfig tsp = load_hw_config("groq-tsp-v1");
  EXPECT_EQ(tsp.weights, WeightPlacement::kResident);
  EXPECT_EQ(tsp.sram.capacity.count, 88u * 5 * (1u << 19));  // 88 slices x 2.5 MiB
  EXPECT_EQ(tsp.sram.bytes_per_cycle, 56320.0);
  EXPECT_EQ(tsp.vxm.lanes, 320);
  EXPECT_EQ(tsp.vxm.alus_per_lane, 16);
  const double install_cycles =
      tsp.mxm.planes * tsp.mxm.rows * tsp.mxm.cols / tsp.mxm.weight_load_bytes_per_cycle;
  EXPECT_LE(install_cycles, 40.0);  // 409,600 weights in < 40 cycles
}

TEST_F(HwConfigTest, HbmConfig_Is335TBsWithHbmEnergy) {
  const HwConfig hbm = load_hw_config("hbm3-3tbps");
  EXPECT_EQ(hbm.memory.bandwidth.value, 3.35e12);
  EXPECT_EQ(hbm.weights, WeightPlacement::kStreamed);
  EXPECT_DOUBLE_EQ(hbm.energy.memory_pj_per_byte, 31.2);
}

TEST_F(HwConfigTest, EveryShippedConfig_MxmLatencyIsTheFillAndDrainOfItsPlane) {
  for (const fs::path& file : shipped_hw_configs()) {
    SCOPED_TRACE(file.string());
    const HwConfig hw = load_hw_config(file.string());
    EXPECT_EQ(hw.mxm.latency_cycles, hw.mxm.rows + hw.mxm.cols);
  }
}

TEST_F(HwConfigTest, DefaultedKeys_TakeTheirCatalogueDefaults) {
  const HwConfig config = load_hw_config(write(kValid));
  EXPECT_EQ(config.mxm.latency_cycles, 640);
  EXPECT_EQ(config.dispatch.issue_per_cycle, 1);
  EXPECT_EQ(config.energy.memory_pj_per_byte, 160.0);
  EXPECT_EQ(config.energy.sram_pj_per_byte, 1.25);
  EXPECT_EQ(config.energy.mac_int8_pj, 0.3);
  EXPECT_EQ(config.energy.vxm_op_pj, 0.2);
  EXPECT_EQ(config.energy.static_w, 30.0);
  EXPECT_EQ(config.source, (dir_ / "chip.yaml").string());
}

TEST_F(HwConfigTest, EmptyEnergySection_KeepsTheDefaults) {
  EXPECT_EQ(load_hw_config(write(std::string(kValid) + "energy:\n")).energy.static_w, 30.0);
}

TEST_F(HwConfigTest, OnlyEnergyDispatchMxmLatencyAndMemoryCapacity_HaveDefaults_EachWithASource) {
  for (const KeySpec& spec : hw_key_catalogue()) {
    const std::string path(spec.path);
    if (spec.default_text.empty()) continue;
    EXPECT_TRUE(path.rfind("energy.", 0) == 0 || path == "dispatch.issue_per_cycle" ||
                path == "mxm.latency" || path == "memory.capacity")
        << path;
    EXPECT_FALSE(spec.default_note.empty()) << path;
  }
}

// --- units and clock-relative values --------------------------------------------------------

TEST_F(HwConfigTest, PerCycleAndPerSecondBandwidths_ConvertAtTheClock) {
  std::string text = replace_line(kValid, 5, "  bandwidth: 100 B/cycle");
  text = replace_line(text, 11, "  bandwidth: 90 GB/s");
  text = replace_line(text, 6, "  latency: 90 cycles");
  const HwConfig config = load_hw_config(write(text));
  EXPECT_EQ(config.memory.bandwidth.value, 90e9);
  EXPECT_EQ(config.sram.bytes_per_cycle, 100.0);
  EXPECT_DOUBLE_EQ(config.memory.latency.value, 100e-9);
}

TEST_F(HwConfigTest, PerCycleValues_ConvertAtTheOverriddenClock) {
  const std::string text = replace_line(kValid, 5, "  bandwidth: 100 B/cycle");
  const HwConfig config = load_hw_config(write(text), {"clock=1 GHz"});
  EXPECT_EQ(config.memory.bandwidth.value, 100e9);
}

TEST_F(HwConfigTest, MxmLatency_IsWholeCycles_KeptInCyclesWhenTheClockChanges) {
  EXPECT_EQ(load_hw_config(write(kValid), {"mxm.latency=500 cycles"}).mxm.latency_cycles, 500);
  EXPECT_EQ(load_hw_config(write(kValid), {"mxm.latency=1 cycle"}).mxm.latency_cycles, 1);
  EXPECT_EQ(load_hw_config(write(kValid), {"mxm.latency=0"}).mxm.latency_cycles, 0);
  EXPECT_EQ(load_hw_config(write(kValid), {"mxm.latency=500", "clock=2 GHz"}).mxm.latency_cycles,
            500);
}

TEST_F(HwConfigTest, MxmLatencyInTimeUnitsOrFractionalOrNegative_IsAnError) {
  for (const char* bad : {"500 ns", "500.5 cycles", "cycles"}) {
    const InputError e = error_of(kValid, {std::string("mxm.latency=") + bad});
    EXPECT_THAT(e.what(), HasSubstr(std::string("mxm.latency: expected a number of cycles like "
                                                "\"640 cycles\", got \"") +
                                    bad + "\""));
  }
  EXPECT_THAT(error_of(kValid, {"mxm.latency=-1 cycles"}).what(),
              HasSubstr("expected a number of cycles in [0, 1048576], got \"-1 cycles\""));
}

TEST_F(HwConfigTest, OddValues_SurviveDumpThenLoad) {
  const HwConfig original =
      load_hw_config(write(kValid), {"memory.bandwidth=123.456789 GB/s", "sram.bandwidth=50 GB/s",
                                     "memory.latency=7 cycles", "mxm.latency=77 cycles",
                                     "clock=1.1 GHz", "sram.capacity=2.5 MiB",
                                     "energy.memory=3.9 pJ/bit", "name=\"chip: with a colon\""});
  const HwConfig reloaded = load_hw_config(write(dump_hw_config(original), "dump.yaml"));
  expect_same(original, reloaded);
}

TEST_F(HwConfigTest, Dump_ListsEveryKeyInCanonicalUnits) {
  const std::string dump = dump_hw_config(load_hw_config("seed-80gbps"));
  EXPECT_THAT(dump, HasSubstr("clock: 900 MHz\n"));
  EXPECT_THAT(dump, HasSubstr("  bandwidth: 80 GB/s\n"));
  EXPECT_THAT(dump, HasSubstr("  capacity: 220 MiB\n"));
  EXPECT_THAT(dump, HasSubstr("  weight_load: 10240 B/cycle\n"));
  EXPECT_THAT(dump, HasSubstr("  static: 30 W\n"));
  for (const KeySpec& spec : hw_key_catalogue()) {
    const std::string leaf(spec.path.substr(spec.path.find('.') + 1));
    EXPECT_THAT(dump, HasSubstr(leaf + ":")) << spec.path;
  }
}

// --- mistakes, each at its file:line --------------------------------------------------------

TEST_F(HwConfigTest, UnknownKey_IsReportedAtItsLineWithTheClosestKey) {
  const InputError e = error_of(replace_line(kValid, 5, "  bandwith: 80 GB/s"));
  EXPECT_EQ(e.where().line, 5);
  EXPECT_EQ(e.where().key, "memory.bandwith");
  EXPECT_EQ(std::string(e.what()), (dir_ / "chip.yaml").string() +
                                       ":5: memory.bandwith: unknown key; did you mean "
                                       "`memory.bandwidth`?");
}

TEST_F(HwConfigTest, UnknownSection_SuggestsTheSection) {
  const InputError e = error_of(replace_line(kValid, 4, "memroy:"));
  EXPECT_EQ(e.where().line, 4);
  EXPECT_THAT(e.what(), HasSubstr("memroy: unknown key; did you mean `memory`?"));
}

TEST_F(HwConfigTest, UnknownKeyFarFromAny_ListsTheKeysOfItsSection) {
  const InputError e = error_of(std::string(kValid) + "  frobnicate: 3\n");
  EXPECT_EQ(e.where().line, 20);
  EXPECT_THAT(e.what(), HasSubstr("vxm.frobnicate: unknown key; expected one of: lanes, "
                                  "alus_per_lane"));
}

TEST_F(HwConfigTest, MissingRequiredKey_NamesTheFileAndKey) {
  const InputError e = error_of(replace_line(kValid, 6, ""));
  EXPECT_EQ(e.where().file, (dir_ / "chip.yaml").string());
  EXPECT_EQ(e.where().key, "memory.latency");
  EXPECT_THAT(e.what(), HasSubstr("chip.yaml: memory.latency: missing required key"));
}

TEST_F(HwConfigTest, WrongUnitKind_IsReportedAtItsLine) {
  const InputError e = error_of(replace_line(kValid, 5, "  bandwidth: 80 GB"));
  EXPECT_EQ(e.where().line, 5);
  EXPECT_THAT(e.what(), HasSubstr(":5: memory.bandwidth: expected a bandwidth like \"80 GB/s\", "
                                  "got \"80 GB\" (that is a size)"));
}

TEST_F(HwConfigTest, NotANumber_IsReportedAtItsLine) {
  const InputError e = error_of(replace_line(kValid, 5, "  bandwidth: eighty"));
  EXPECT_EQ(e.where().line, 5);
  EXPECT_THAT(e.what(), HasSubstr("got \"eighty\""));
}

TEST_F(HwConfigTest, NumberWithoutUnit_IsReportedAtItsLine) {
  const InputError e = error_of(replace_line(kValid, 2, "clock: 900000000"));
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().key, "clock");
  EXPECT_THAT(e.what(), HasSubstr("the number needs a unit"));
}

TEST_F(HwConfigTest, ZeroBandwidth_IsOutOfRange) {
  const InputError e = error_of(replace_line(kValid, 5, "  bandwidth: 0 GB/s"));
  EXPECT_EQ(e.where().line, 5);
  EXPECT_THAT(
      e.what(),
      HasSubstr("memory.bandwidth: expected a bandwidth in [1 KB/s, 1000 TB/s], got \"0 GB/s\""));
}

TEST_F(HwConfigTest, NegativeBandwidth_IsOutOfRange) {
  const InputError e = error_of(replace_line(kValid, 16, "  weight_load: -5 B/cycle"));
  EXPECT_EQ(e.where().line, 16);
  EXPECT_THAT(
      e.what(),
      HasSubstr("mxm.weight_load: expected a bandwidth in [0.001 B/cycle, 1000000000 B/cycle]"));
}

TEST_F(HwConfigTest, ZeroPlanes_IsOutOfRange) {
  const InputError e = error_of(replace_line(kValid, 13, "  planes: 0"));
  EXPECT_EQ(e.where().line, 13);
  EXPECT_THAT(e.what(), HasSubstr("mxm.planes: expected a whole number in [1, 1024], got \"0\""));
}

TEST_F(HwConfigTest, ZeroClockAndZeroBurst_AreOutOfRange) {
  EXPECT_EQ(error_of(replace_line(kValid, 2, "clock: 0 Hz")).where().line, 2);
  const InputError e = error_of(replace_line(kValid, 7, "  burst: 0 B"));
  EXPECT_EQ(e.where().line, 7);
  EXPECT_THAT(e.what(), HasSubstr("expected a size in [1 B, 1 MiB], got \"0 B\""));
}

TEST_F(HwConfigTest, FractionalCount_IsAnError) {
  const InputError e = error_of(replace_line(kValid, 18, "  lanes: 320.5"));
  EXPECT_EQ(e.where().line, 18);
  EXPECT_THAT(e.what(), HasSubstr("vxm.lanes: expected a whole number like \"4\", got \"320.5\""));
}

TEST_F(HwConfigTest, BadEnum_ListsTheChoices) {
  const InputError e = error_of(replace_line(kValid, 3, "weights: streaming"));
  EXPECT_EQ(e.where().line, 3);
  EXPECT_THAT(e.what(), HasSubstr("weights: expected one of streamed|resident, got \"streaming\""));
}

TEST_F(HwConfigTest, NegativeEnergy_IsOutOfRange) {
  const InputError e = error_of(std::string(kValid) + "energy:\n  static: -1 W\n");
  EXPECT_EQ(e.where().line, 21);
  EXPECT_THAT(e.what(), HasSubstr("energy.static: expected a power in [0, 1000000 W]"));
}

TEST_F(HwConfigTest, YamlSyntaxError_IsReportedAtItsLine) {
  const InputError e = error_of(replace_line(kValid, 10, "  capacity: [220 MiB"));
  EXPECT_GE(e.where().line, 10);
  EXPECT_THAT(e.what(), HasSubstr("invalid YAML"));
  const InputError tab = error_of(replace_line(kValid, 14, "\trows: 320"));
  EXPECT_EQ(tab.where().line, 14);
}

TEST_F(HwConfigTest, DuplicateKey_IsAnError) {
  const InputError e = error_of(replace_line(kValid, 15, "  rows: 320"));
  EXPECT_EQ(e.where().line, 15);
  EXPECT_THAT(e.what(), HasSubstr("mxm.rows: duplicate key (first at line 14)"));
}

TEST_F(HwConfigTest, SectionGivenAValue_IsAnError) {
  const InputError e = error_of(std::string(kValid) + "dispatch: 1\n");
  EXPECT_EQ(e.where().line, 20);
  EXPECT_THAT(e.what(), HasSubstr("dispatch: expected a section with keys issue_per_cycle"));
}

TEST_F(HwConfigTest, KeyGivenASectionOrNothing_IsAnError) {
  EXPECT_THAT(error_of(replace_line(kValid, 2, "clock:\n  hz: 3")).what(),
              HasSubstr(":2: clock: expected a frequency like \"900 MHz\", got a section"));
  EXPECT_THAT(error_of(replace_line(kValid, 2, "clock:")).what(),
              HasSubstr(":2: clock: expected a frequency like \"900 MHz\", got nothing"));
}

TEST_F(HwConfigTest, EmptyFileAndMissingFile_AreErrors) {
  EXPECT_THAT(error_of("").what(), HasSubstr("the file is empty"));
  EXPECT_THAT(error_of("- a\n- b\n").what(), HasSubstr("expected a mapping of keys"));
  EXPECT_THROW(load_hw_config((dir_ / "absent.yaml").string()), InputError);
}

// --- --set overrides ------------------------------------------------------------------------

TEST_F(HwConfigTest, Override_ReplacesTheFileValue) {
  const HwConfig config =
      load_hw_config(write(kValid), {"memory.bandwidth=160 GB/s", "weights = resident"});
  EXPECT_EQ(config.memory.bandwidth.value, 160e9);
  EXPECT_EQ(config.weights, WeightPlacement::kResident);
}

TEST_F(HwConfigTest, Override_SuppliesAMissingKey) {
  const HwConfig config =
      load_hw_config(write(replace_line(kValid, 6, "")), {"memory.latency=250 ns"});
  EXPECT_DOUBLE_EQ(config.memory.latency.value, 250e-9);
}

TEST_F(HwConfigTest, OverrideOfUnknownKey_IsAnErrorAtSet) {
  const InputError e = error_of(kValid, {"memory.bandwith=80 GB/s"});
  EXPECT_EQ(std::string(e.what()),
            "--set: memory.bandwith: unknown key; did you mean `memory.bandwidth`?");
  EXPECT_EQ(e.where().line, 0);
}

TEST_F(HwConfigTest, OverrideWithABadValue_IsValidatedLikeTheFile) {
  EXPECT_EQ(std::string(error_of(kValid, {"memory.bandwidth=eighty"}).what()),
            "--set: memory.bandwidth: expected a bandwidth like \"80 GB/s\", "
            "got \"eighty\"");
  EXPECT_THAT(error_of(kValid, {"mxm.planes=0"}).what(),
              HasSubstr("--set: mxm.planes: expected a whole number in [1, 1024]"));
}

TEST_F(HwConfigTest, OverrideWithoutEquals_OrOfASection_IsAnError) {
  EXPECT_THAT(error_of(kValid, {"memory.bandwidth"}).what(),
              HasSubstr("--set: expected key.path=value, got \"memory.bandwidth\""));
  EXPECT_THAT(error_of(kValid, {"memory=80 GB/s"}).what(),
              HasSubstr("--set: memory: is a section; set one of its keys: memory.bandwidth"));
}

// --- names, catalogue, docs -----------------------------------------------------------------

TEST_F(HwConfigTest, ConfigName_ResolvesToConfigsHw) {
  const std::string path = resolve_config_path("seed-80gbps", "hw");
  EXPECT_THAT(path, HasSubstr("configs/hw/seed-80gbps.yaml"));
  EXPECT_EQ(resolve_config_path("some/dir/x.yaml", "hw"), "some/dir/x.yaml");
  EXPECT_EQ(resolve_config_path("x.yaml", "hw"), "x.yaml");
}

TEST_F(HwConfigTest, UnknownConfigName_ListsTheKnownNames) {
  try {
    load_hw_config("seed-80gbsp");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no hardware config named \"seed-80gbsp\""));
    EXPECT_THAT(e.what(), HasSubstr("seed-80gbps"));
  }
}

TEST_F(HwConfigTest, Describe_ListsEveryKeyWithUnitAndDefault) {
  const std::string text = describe_hw_keys();
  for (const KeySpec& spec : hw_key_catalogue()) {
    EXPECT_THAT(text, HasSubstr(std::string(spec.path) + "  [")) << spec.path;
  }
  EXPECT_THAT(text, HasSubstr("energy.memory  [pJ/B"));
  EXPECT_THAT(text, HasSubstr("default \"160 pJ/B\""));
  EXPECT_THAT(text, HasSubstr("Horowitz"));
}

TEST_F(HwConfigTest, ConfigDoc_HasTheCatalogueTable) {
  std::ifstream in(fs::path(LPUSIM_SOURCE_DIR) / "docs/CONFIG.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(doc, HasSubstr(describe_hw_keys(DescribeFormat::kMarkdown)))
      << "regenerate docs/CONFIG.md's table with `lpusim config --describe --format markdown`";
}

}  // namespace
}  // namespace lpusim
