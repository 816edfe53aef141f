// The hardware key catalogue (one row per key: spec, how to store it in HwConfig, how to read it
// back) and the loader/dumper built on it. Energy defaults are estimates; docs/CONFIG.md cites
// them.
#include "sim/config/hw_config.h"

#include <fmt/format.h>

namespace lpusim {
namespace {

using Setter = void (*)(HwConfig&, const KeyValue&);
using Getter = KeyValue (*)(const HwConfig&);

struct HwKey {
  KeySpec spec;
  Setter set;
  Getter get;
};

KeyValue number(double value) { return KeyValue{value, {}, {}}; }
KeyValue text(std::string value) { return KeyValue{0, std::move(value), {}}; }
int as_int(const KeyValue& value) { return static_cast<int>(value.number); }

constexpr std::string_view kStreamed = "streamed";
constexpr std::string_view kResident = "resident";

// clang-format off
const HwKey kHwKeys[] = {
  {{"name", KeyKind::kString, "", 0, false, 0, "", "seed-80gbps",
    "Short name of the chip, shown in reports.", ""},
   [](HwConfig& c, const KeyValue& v) { c.name = v.text; },
   [](const HwConfig& c) { return text(c.name); }},
  {{"clock", KeyKind::kFrequency, "", 1e3, false, 1e11, "", "900 MHz",
    "Core clock of every unit. Simulated cycles convert to seconds at this rate, and B/cycle or "
    "cycle values of other keys convert with it.", ""},
   [](HwConfig& c, const KeyValue& v) { c.clock = Hertz{v.number}; },
   [](const HwConfig& c) { return number(c.clock.value); }},
  {{"weights", KeyKind::kEnum, "", 0, false, 0, "streamed|resident", "streamed",
    "Where weights live during inference: `streamed` from the memory channel every token (the "
    "seed's premise) or `resident` in SRAM (Groq's deployment; the model must fit; the KV cache "
    "then stays in SRAM too while it fits).", ""},
   [](HwConfig& c, const KeyValue& v) {
     c.weights = v.text == kResident ? WeightPlacement::kResident : WeightPlacement::kStreamed;
   },
   [](const HwConfig& c) {
     return text(std::string(c.weights == WeightPlacement::kResident ? kResident : kStreamed));
   }},
  {{"memory.bandwidth", KeyKind::kBandwidthPerSecond, "", 1e3, false, 1e15, "", "80 GB/s",
    "Bandwidth of the off-chip memory channel that streams weights and the KV cache.", ""},
   [](HwConfig& c, const KeyValue& v) { c.memory.bandwidth = BytesPerSecond{v.number}; },
   [](const HwConfig& c) { return number(c.memory.bandwidth.value); }},
  {{"memory.latency", KeyKind::kTime, "", 0, false, 1, "", "100 ns",
    "Time from a transfer's last byte on the channel to its data being usable in SRAM.", ""},
   [](HwConfig& c, const KeyValue& v) { c.memory.latency = Seconds{v.number}; },
   [](const HwConfig& c) { return number(c.memory.latency.value); }},
  {{"memory.burst", KeyKind::kBytes, "", 1, false, 1048576, "", "64 B",
    "Access granularity of the channel: every transfer is rounded up to whole bursts.", ""},
   [](HwConfig& c, const KeyValue& v) {
     c.memory.burst = Bytes{static_cast<std::uint64_t>(v.number)};
   },
   [](const HwConfig& c) { return number(static_cast<double>(c.memory.burst.count)); }},
  {{"memory.outstanding", KeyKind::kCount, "", 1, false, 65536, "", "256",
    "Bursts (memory.burst each) in flight at once, each from its issue until its data lands, as "
    "in a stream engine that keeps N requests open. By Little's law a stream of bursts moves at "
    "most outstanding x burst per (latency + one burst's time on the channel): the channel runs "
    "at full bandwidth only when (outstanding - 1) x burst >= bandwidth x latency (126 bursts "
    "of 64 B at 80 GB/s and 100 ns; 5,236 at 3.35 TB/s), and a streamed step slows in proportion "
    "below that.", ""},
   [](HwConfig& c, const KeyValue& v) { c.memory.outstanding = as_int(v); },
   [](const HwConfig& c) { return number(c.memory.outstanding); }},
  {{"memory.capacity", KeyKind::kBytes, "0 B", 0, false, 1125899906842624, "", "80 GB",
    "Off-chip memory capacity. When above 0 B, a step whose off-chip data (streamed weights, the "
    "KV cache of every position it holds, the RoPE tables, causal mask and logits: the run's "
    "memory_footprint_bytes) exceeds it is an error that says how much it needs.",
    "0 B: not checked, for a chip whose memory size no source gives (the shipped configs)."},
   [](HwConfig& c, const KeyValue& v) {
     c.memory.capacity = Bytes{static_cast<std::uint64_t>(v.number)};
   },
   [](const HwConfig& c) { return number(static_cast<double>(c.memory.capacity.count)); }},
  {{"sram.capacity", KeyKind::kBytes, "", 1, false, 1099511627776, "", "220 MiB",
    "On-chip SRAM capacity. Buffers share it by their live ranges; when they do not fit, the residual stream spills to memory (spill_bytes); a step that does not fit even then is an error.",
    ""},
   [](HwConfig& c, const KeyValue& v) {
     c.sram.capacity = Bytes{static_cast<std::uint64_t>(v.number)};
   },
   [](const HwConfig& c) { return number(static_cast<double>(c.sram.capacity.count)); }},
  {{"sram.bandwidth", KeyKind::kBandwidthPerCycle, "", 1e-3, false, 1e9, "", "56320 B/cycle",
    "Aggregate SRAM read+write bandwidth.", ""},
   [](HwConfig& c, const KeyValue& v) { c.sram.bytes_per_cycle = v.number; },
   [](const HwConfig& c) { return number(c.sram.bytes_per_cycle); }},
  {{"mxm.planes", KeyKind::kCount, "", 1, false, 1024, "", "4",
    "Independent INT8 MAC arrays (planes) of the matrix unit.", ""},
   [](HwConfig& c, const KeyValue& v) { c.mxm.planes = as_int(v); },
   [](const HwConfig& c) { return number(c.mxm.planes); }},
  {{"mxm.rows", KeyKind::kCount, "", 1, false, 65536, "", "320",
    "Reduction depth (k) of one plane.", ""},
   [](HwConfig& c, const KeyValue& v) { c.mxm.rows = as_int(v); },
   [](const HwConfig& c) { return number(c.mxm.rows); }},
  {{"mxm.cols", KeyKind::kCount, "", 1, false, 65536, "", "320",
    "Outputs (n) of one plane.", ""},
   [](HwConfig& c, const KeyValue& v) { c.mxm.cols = as_int(v); },
   [](const HwConfig& c) { return number(c.mxm.cols); }},
  {{"mxm.weight_load", KeyKind::kBandwidthPerCycle, "", 1e-3, false, 1e9, "", "10240 B/cycle",
    "Weight install bandwidth into the MXM, all planes together.", ""},
   [](HwConfig& c, const KeyValue& v) { c.mxm.weight_load_bytes_per_cycle = v.number; },
   [](const HwConfig& c) { return number(c.mxm.weight_load_bytes_per_cycle); }},
  {{"mxm.latency", KeyKind::kCycles, "640 cycles", 0, false, 1048576, "", "640 cycles",
    "MXM result latency: cycles from the last activation row of a MATMUL entering a plane to "
    "its results being usable in SRAM (the queue moves on earlier; only dependent work waits).",
    "640 cycles, an assumption, not a published figure: the pipeline fill and drain of one "
    "320 x 320 TSP v1 plane, one cycle per row of the reduction (320) plus one per column the "
    "results cross (320). Set it when mxm.rows or mxm.cols differ from 320."},
   [](HwConfig& c, const KeyValue& v) { c.mxm.latency_cycles = as_int(v); },
   [](const HwConfig& c) { return number(c.mxm.latency_cycles); }},
  {{"vxm.lanes", KeyKind::kCount, "", 1, false, 65536, "", "320",
    "Vector lanes: a vector op over n elements takes ceil(n / lanes) cycles per ALU op.", ""},
   [](HwConfig& c, const KeyValue& v) { c.vxm.lanes = as_int(v); },
   [](const HwConfig& c) { return number(c.vxm.lanes); }},
  {{"vxm.alus_per_lane", KeyKind::kCount, "", 1, false, 1024, "", "16",
    "ALUs per lane; the ops of a lane are spread over them.", ""},
   [](HwConfig& c, const KeyValue& v) { c.vxm.alus_per_lane = as_int(v); },
   [](const HwConfig& c) { return number(c.vxm.alus_per_lane); }},
  {{"dispatch.issue_per_cycle", KeyKind::kCount, "1", 1, false, 64, "", "1",
    "Instructions issued per cycle by each unit's in-order queue: a NOTIFY, a WAIT that finds its "
    "semaphore set and the issue of a LOAD or STORE each take 1 / issue_per_cycle cycles. A VXM "
    "or MXM op holds its unit for whole cycles (at least one), which a faster issue cannot "
    "shorten, so the rate bounds only queues of many such short instructions; in the LLM "
    "workloads they are a small share of the time.",
    "one instruction per cycle per queue, the dispatch (ICU) model's assumption."},
   [](HwConfig& c, const KeyValue& v) { c.dispatch.issue_per_cycle = as_int(v); },
   [](const HwConfig& c) { return number(c.dispatch.issue_per_cycle); }},
  {{"energy.memory", KeyKind::kEnergyPerByte, "160 pJ/B", 0, false, 1e6, "", "160 pJ/B",
    "Energy per byte moved over the memory channel.",
    "estimate for DDR-class DRAM: Horowitz, ISSCC 2014 (\"Computing's energy problem\") gives "
    "1.3-2.6 nJ per 64-bit DRAM access at 45 nm, i.e. 20-40 pJ/bit; 1.3 nJ / 8 B is about "
    "160 pJ/B. HBM costs about 3.9 pJ/bit = 31 pJ/B (O'Connor et al., MICRO 2017)."},
   [](HwConfig& c, const KeyValue& v) { c.energy.memory_pj_per_byte = v.number; },
   [](const HwConfig& c) { return number(c.energy.memory_pj_per_byte); }},
  {{"energy.sram", KeyKind::kEnergyPerByte, "1.25 pJ/B", 0, false, 1e6, "", "1.25 pJ/B",
    "Energy per byte read from or written to SRAM.",
    "estimate: Horowitz, ISSCC 2014: a 64-bit read of an 8 KB SRAM costs 10 pJ at 45 nm = "
    "1.25 pJ/B (32 KB: 20 pJ, 1 MB: 100 pJ per 64 bits); assumes small local banks."},
   [](HwConfig& c, const KeyValue& v) { c.energy.sram_pj_per_byte = v.number; },
   [](const HwConfig& c) { return number(c.energy.sram_pj_per_byte); }},
  {{"energy.mac_int8", KeyKind::kEnergyPerOp, "0.3 pJ", 0, false, 1e6, "", "0.3 pJ",
    "Energy of one INT8 multiply-accumulate (INT32 accumulator) in the MXM.",
    "estimate: Horowitz, ISSCC 2014, 45 nm: 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ; "
    "newer processes are lower."},
   [](HwConfig& c, const KeyValue& v) { c.energy.mac_int8_pj = v.number; },
   [](const HwConfig& c) { return number(c.energy.mac_int8_pj); }},
  {{"energy.vxm_op", KeyKind::kEnergyPerOp, "0.2 pJ", 0, false, 1e6, "", "0.2 pJ",
    "Energy of one VXM ALU operation on one element.",
    "estimate between a 32-bit integer add (0.1 pJ) and a 16-bit float add (0.4 pJ) at 45 nm "
    "(Horowitz, ISSCC 2014); weight unpacking is mostly integer shifts and masks."},
   [](HwConfig& c, const KeyValue& v) { c.energy.vxm_op_pj = v.number; },
   [](const HwConfig& c) { return number(c.energy.vxm_op_pj); }},
  {{"energy.static", KeyKind::kPower, "30 W", 0, false, 1e6, "", "30 W",
    "Static power (leakage, clock tree, I/O), drawn for the whole run.",
    "estimate of the order of tens of W for a ~725 mm2 14 nm chip (TSP v1 die, ISCA 2020); "
    "not a published figure."},
   [](HwConfig& c, const KeyValue& v) { c.energy.static_w = v.number; },
   [](const HwConfig& c) { return number(c.energy.static_w); }},
};
// clang-format on

constexpr std::size_t kKeyCount = sizeof(kHwKeys) / sizeof(kHwKeys[0]);

std::size_t index_of(std::string_view path) {
  std::size_t i = 0;
  while (i < kKeyCount && kHwKeys[i].spec.path != path) ++i;
  return i;
}

}  // namespace

const KeyCatalogue& hw_key_catalogue() {
  static const KeyCatalogue catalogue = [] {
    KeyCatalogue specs;
    for (const HwKey& key : kHwKeys) specs.push_back(key.spec);
    return specs;
  }();
  return catalogue;
}

HwConfig load_hw_config(const std::string& path_or_name,
                        const std::vector<std::string>& overrides) {
  const std::string path = resolve_config_path(path_or_name, "hw");
  ConfigEntries entries = read_config_file(path, hw_key_catalogue());
  apply_overrides(entries, overrides, hw_key_catalogue());
  const KeySpec& clock_spec = kHwKeys[index_of("clock")].spec;
  const Hertz clock{parse_key(clock_spec, entry_or_default(entries, clock_spec, path), {}).number};
  HwConfig config;
  config.source = path;
  for (const std::size_t i : check_order(entries, hw_key_catalogue()))
    kHwKeys[i].set(config, parse_key(kHwKeys[i].spec,
                                     entry_or_default(entries, kHwKeys[i].spec, path), clock));
  return config;
}

std::string dump_hw_config(const HwConfig& config) {
  std::map<std::string, KeyValue, std::less<>> values;
  for (const HwKey& key : kHwKeys) values[std::string(key.spec.path)] = key.get(config);
  const std::string from = config.source.empty() ? "" : " loaded from " + config.source;
  return dump_config(hw_key_catalogue(), values,
                     fmt::format("lpusim effective hardware config{}", from));
}

std::string describe_hw_keys(DescribeFormat format) {
  return describe_catalogue(hw_key_catalogue(), format);
}

}  // namespace lpusim
