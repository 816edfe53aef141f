// Sweep files (configs/sweeps/*.yaml) as written: the base hardware config and workload, the
// axes whose product is the grid, and explicit points, every value with its file:line.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/error.h"

namespace lpusim {

// One value as written in the sweep file; `where.key` is the axis it belongs to.
struct SweepValue {
  std::string text;
  SourceLocation where;
};

// Axis name -> value, in the order written.
using SweepSettings = std::vector<std::pair<std::string, SweepValue>>;

struct SweepAxis {
  std::string name;  // "memory.bandwidth", "quant", ...
  std::vector<SweepValue> values;
};

// An explicit point: its settings on top of the base, and where its mapping starts.
struct SweepExplicitPoint {
  SweepSettings settings;
  SourceLocation where;
};

struct SweepFile {
  std::string path;
  SweepSettings base;  // top-level `hw`, workload keys and the `set:` hardware keys
  std::vector<SweepAxis> axes;
  std::vector<SweepExplicitPoint> points;
};

// Axes that are not hardware keys: the base config and the workload.
inline constexpr std::string_view kHwAxis = "hw";
const std::vector<std::string_view>& workload_axis_names();  // model, quant, ..., prefill

// True for "hw", a workload axis, or a key of the hardware catalogue.
bool is_sweep_axis(std::string_view name);

// Reads and checks the shape of a sweep file: YAML syntax, known top-level keys, known axis names
// (with "did you mean"), non-empty lists of scalars, no duplicate keys. Throws InputError at
// file:line. Values are checked later, by expand_sweep.
SweepFile read_sweep_file(const std::string& path);

}  // namespace lpusim
