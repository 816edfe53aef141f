// The chip's parameters as typed values, filled by sim/'s YAML loader and read by the kernel
// generators and the SystemC models. Every number comes from a config file; none is built in.
#pragma once

#include <string>

#include "kernels/quantity.h"

namespace lpusim {

// Where weights live during inference: streamed from the memory channel every token, or resident
// in SRAM (docs/CONFIG.md, key `weights`).
enum class WeightPlacement { kStreamed, kResident };

struct MemoryConfig {
  BytesPerSecond bandwidth;  // off-chip channel, e.g. 80 GB/s
  Seconds latency;           // from last byte on the channel to data usable in SRAM
  Bytes burst;               // transfers are rounded up to whole bursts
  int outstanding = 0;       // transfers in flight at once
  Bytes capacity{};          // off-chip bytes a step may hold; 0: not checked
};

struct SramConfig {
  Bytes capacity;              // on-chip buffer capacity (TSP v1: 220 MiB)
  double bytes_per_cycle = 0;  // aggregate read+write bandwidth (TSP v1: 56,320 B/cycle)
};

struct MxmConfig {
  int planes = 0;                          // independent MAC arrays (TSP v1: 4)
  int rows = 0;                            // reduction depth of one plane (k)
  int cols = 0;                            // outputs of one plane (n)
  double weight_load_bytes_per_cycle = 0;  // weight install bandwidth, all planes together
  int latency_cycles = 0;                  // from a pass's last row in to its results usable
};

struct VxmConfig {
  int lanes = 0;          // vector lanes (TSP v1: 320)
  int alus_per_lane = 0;  // ALUs per lane (TSP v1: 16)
};

struct DispatchConfig {
  int issue_per_cycle = 0;  // instructions per cycle per queue
};

// Energy coefficients (estimates; docs/CONFIG.md cites their sources).
struct EnergyConfig {
  double memory_pj_per_byte = 0;
  double sram_pj_per_byte = 0;
  double mac_int8_pj = 0;
  double vxm_op_pj = 0;
  double static_w = 0;
};

struct HwConfig {
  std::string name;
  std::string source;  // file it was loaded from, for messages and reports
  Hertz clock;
  WeightPlacement weights = WeightPlacement::kStreamed;
  MemoryConfig memory;
  SramConfig sram;
  MxmConfig mxm;
  VxmConfig vxm;
  DispatchConfig dispatch;
  EnergyConfig energy;
};

}  // namespace lpusim
