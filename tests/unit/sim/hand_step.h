// A hand-made step for the step-metrics tests: a run on the round-number chip (1 GHz, 100 GB/s,
// 2 x 64 x 64 MXM) with round energy coefficients, whose statistics can be worked out by hand.
#pragma once

#include "models/chip.h"
#include "sim/llm/step_metrics.h"
#include "tests/support/test_hw.h"

namespace lpusim::testing {

inline constexpr Femtoseconds kNs = 1'000'000;

inline HwConfig chip_with_energy() {
  HwConfig hw = testing::round_number_chip();
  hw.energy.memory_pj_per_byte = 10;
  hw.energy.sram_pj_per_byte = 1;
  hw.energy.mac_int8_pj = 0.5;
  hw.energy.vxm_op_pj = 2;
  hw.energy.static_w = 3;
  return hw;
}

// 1000 ns; channel busy 400 ns, mem queue 30 ns (30 issues), VXM 300 ns (200 ops) in [0, 300),
// MXM 600 ns in [200, 800); 100 ns of transfers in flight while both were idle, so nothing was
// busy for the other 100 ns of [800, 1000).
inline ChipRunResult mxm_heavy_run() {
  ChipRunResult r;
  r.elapsed_fs = 1000 * kNs;
  r.cycles = 1000;
  r.instructions = 240;
  r.memory.transfers = 30;
  r.memory.bytes = 6000;
  r.memory.burst_bytes = 6400;
  r.memory.busy_fs = 400 * kNs;
  r.bandwidth_bound_fs = 100 * kNs;
  UnitStats& mem = r.units[static_cast<int>(Unit::kMem)];
  mem.instructions = 30;
  mem.busy_fs = 30 * kNs;
  UnitStats& vxm = r.units[static_cast<int>(Unit::kVxm)];
  vxm.instructions = 200;
  vxm.busy_fs = 300 * kNs;
  vxm.busy.add(0, 300 * kNs);
  vxm.sram_bytes = 1000;
  vxm.alu_ops = 5000;
  UnitStats& mxm = r.units[static_cast<int>(Unit::kMxm)];
  mxm.instructions = 10;
  mxm.busy_fs = 600 * kNs;
  mxm.busy.add(200 * kNs, 800 * kNs);
  mxm.sram_bytes = 2000;
  mxm.macs = 1'000'000;
  return r;
}

inline StepWork hand_work() {
  StepWork w;
  w.weight_bytes = 60'000;
  w.kv_bytes = 20'000;
  w.macs = 4'096'000;
  w.tokens = 4;
  return w;
}

}  // namespace lpusim::testing
