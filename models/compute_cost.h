// Cycle costs of the compute units (docs/ISA.md "Cost"): VXM element-wise ops over lanes and
// ALUs, bounded by SRAM bandwidth; MXM passes with weight install and pipeline fill. Plain C++.
#pragma once

#include <cstdint>

#include "kernels/hw.h"
#include "kernels/int_math.h"  // ceil_div
#include "kernels/program.h"

namespace lpusim {

// Counts saturate at the largest std::uint64_t; a saturated occupancy becomes a saturated time,
// which the chip reports as a time overflow.
struct UnitCost {
  std::uint64_t occupancy_cycles = 0;  // the queue is busy this long
  std::uint64_t latency_cycles = 0;    // results complete this long after occupancy ends
  std::uint64_t sram_bytes = 0;        // bytes read + written in SRAM
  std::uint64_t alu_ops = 0;           // VXM element operations (ALU passes x lanes)
  std::uint64_t macs = 0;              // MXM multiply-accumulates
};

// f16 matmuls stream activations at a quarter of the int8 rate (docs/ISA.md): the TSP v1's
// 188 TFLOPS fp16 against 750 TOPS int8 (ISCA 2020).
inline constexpr std::uint64_t kMxmF16RateDivisor = 4;

class VxmCost {
 public:
  VxmCost(const VxmConfig& vxm, const SramConfig& sram) : vxm_(vxm), sram_(sram) {}
  UnitCost of(const Instruction& inst) const;

 private:
  VxmConfig vxm_;
  SramConfig sram_;
};

// A LOAD or STORE of an on-chip region (RegionDecl::on_chip): a copy within SRAM on the MEM
// queue, which reads and writes its bytes at sram.bytes_per_cycle (at least a cycle).
class SramCopyCost {
 public:
  explicit SramCopyCost(const SramConfig& sram) : sram_(sram) {}
  UnitCost of(const Instruction& inst) const;

 private:
  SramConfig sram_;
};

class MxmCost {
 public:
  explicit MxmCost(const MxmConfig& mxm) : mxm_(mxm) {}
  UnitCost of(const Instruction& inst) const;
  // Peak multiply-accumulates per cycle of the whole MXM (all planes, int8).
  std::uint64_t peak_macs_per_cycle() const;

 private:
  MxmConfig mxm_;
};

}  // namespace lpusim
