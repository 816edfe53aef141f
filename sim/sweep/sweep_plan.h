// A sweep expanded into points: the grid (product of the axes) then the explicit points, each
// validated into a hardware config and workload, with a stable hash of its effective config.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/hw.h"
#include "sim/llm/workload.h"
#include "sim/sweep/sweep_file.h"

namespace lpusim {

struct SweepPoint {
  std::size_t index = 0;   // position in the expanded sweep, from 0
  std::string hash;        // hex64(fnv1a64(canonical))
  std::string canonical;   // the effective config as text: hardware dump, model dump, workload
  SweepSettings settings;  // the axis values that make this point, in axis order
  HwConfig hw;
  WorkloadSpec spec;
  bool prefill = true;
  std::vector<std::string> run_args;  // arguments of `lpusim run` that simulate this point
  // Hardware keys varied by the sweep -> effective value (number in the key's unit, or text).
  std::vector<std::pair<std::string, std::string>> hw_values;

  // "quant=int4 memory.bandwidth=80 GB/s" (the settings as written), or "base" when none.
  std::string label() const;
};

struct SweepPlan {
  std::string path;
  std::vector<std::string> hw_axes;  // hardware keys any axis or point varies, in catalogue order
  std::vector<SweepPoint> points;    // unique by hash, in expansion order
  std::size_t duplicates = 0;        // points dropped because an earlier one had the same hash
};

// Validates every value (errors at its file:line) and every point (errors at the point) and
// expands the sweep. Throws InputError; nothing is simulated.
SweepPlan expand_sweep(const SweepFile& file);

// The text whose hash identifies a point: hardware and model dumps without their source paths,
// then the workload parameters. Stable across runs and machines for the same effective config.
std::string canonical_point_text(const HwConfig& hw, const WorkloadSpec& spec, bool prefill);

// "--shard I/N": the I-th of N deterministic parts (1 <= I <= N) of a sweep's points.
struct Shard {
  std::size_t index = 1;
  std::size_t count = 1;
  bool contains(const SweepPoint& point) const { return point.index % count == index - 1; }
};
Shard parse_shard(std::string_view text);  // throws InputError located at "--shard"

}  // namespace lpusim
