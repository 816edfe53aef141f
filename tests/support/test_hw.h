// A small, round-numbered chip for tests: 1 GHz (1 ns cycles), 100 GB/s memory with 64 B bursts,
// so expected cycle counts can be worked out by hand.
#pragma once

#include "kernels/hw.h"

namespace lpusim::testing {

inline HwConfig round_number_chip() {
  HwConfig hw;
  hw.name = "test-1ghz";
  hw.source = "tests/support/test_hw.h";
  hw.clock = Hertz{1e9};
  hw.weights = WeightPlacement::kStreamed;
  hw.memory.bandwidth = BytesPerSecond{100e9};  // 100 B per ns
  hw.memory.latency = Seconds{100e-9};          // 100 cycles
  hw.memory.burst = Bytes{64};
  // Bursts in flight: 255 x 64 B = 16 KB covers bandwidth x latency = 10 KB, so no stream waits
  // for a slot (tests of the limit set their own).
  hw.memory.outstanding = 256;
  hw.sram.capacity = Bytes{64ull << 20};
  hw.sram.bytes_per_cycle = 4096;
  hw.mxm.planes = 2;
  hw.mxm.rows = 64;
  hw.mxm.cols = 64;
  hw.mxm.weight_load_bytes_per_cycle = 1024;
  hw.mxm.latency_cycles = 128;  // fill and drain of a 64 x 64 plane: 64 + 64
  hw.vxm.lanes = 16;
  hw.vxm.alus_per_lane = 4;
  hw.dispatch.issue_per_cycle = 1;
  return hw;
}

}  // namespace lpusim::testing
