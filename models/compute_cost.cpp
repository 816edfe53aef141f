#include "models/compute_cost.h"

#include <algorithm>
#include <cmath>

#include "models/sim_time.h"

namespace lpusim {

namespace {

bool has_b_operand(const Instruction& inst, const OpcodeInfo& info) {
  return (info.operands & kOpB) != 0 && !inst.b_is_imm;
}

// `info` = opcode_info(inst.opcode), looked up once per instruction by the caller.
std::uint64_t vxm_sram_bytes(const Instruction& inst, const OpcodeInfo& info) {
  const std::uint64_t n = inst.repetition_elements();
  const std::uint64_t in_bytes = static_cast<std::uint64_t>(
      elem_bytes(inst.opcode == Opcode::kCvt ? inst.src_type : inst.type));
  const std::uint64_t out_bytes = static_cast<std::uint64_t>(elem_bytes(inst.type));
  std::uint64_t bytes = n * in_bytes;                              // a
  if (has_b_operand(inst, info)) bytes += n * out_bytes;           // b
  if (inst.opcode == Opcode::kMad) bytes += n * out_bytes;         // dst read
  bytes += (is_reduction(inst.opcode) ? inst.n0 : n) * out_bytes;  // dst write
  return bytes;
}

// A repeated op does the work of its repetitions one after another: each one costs what the
// same op without repeat would (at least a cycle), only the issue is shared.
UnitCost repeated(const UnitCost& one, std::uint64_t rep) {
  UnitCost cost = one;
  cost.occupancy_cycles = mul_saturated(one.occupancy_cycles, rep);
  cost.sram_bytes = mul_saturated(one.sram_bytes, rep);
  cost.alu_ops = mul_saturated(one.alu_ops, rep);
  return cost;
}

}  // namespace

UnitCost VxmCost::of(const Instruction& inst) const {
  UnitCost cost;
  const OpcodeInfo& info = opcode_info(inst.opcode);
  const CostClass cls = info.cost;
  const std::uint64_t ops_per_element =
      cls == CostClass::kTranscendental ? static_cast<std::uint64_t>(kTranscendentalAluOps) : 1;
  const std::uint64_t passes =
      ceil_div(inst.repetition_elements(), static_cast<std::uint64_t>(vxm_.lanes)) *
      ops_per_element;
  const std::uint64_t alu_cycles = ceil_div(passes, static_cast<std::uint64_t>(vxm_.alus_per_lane));
  cost.sram_bytes = vxm_sram_bytes(inst, info);
  const std::uint64_t sram_cycles =
      ceil_to_count_saturated(static_cast<double>(cost.sram_bytes) / sram_.bytes_per_cycle);
  cost.occupancy_cycles = std::max<std::uint64_t>({alu_cycles, sram_cycles, 1});
  cost.alu_ops = mul_saturated(inst.repetition_elements(), ops_per_element);
  return repeated(cost, inst.rep);
}

UnitCost SramCopyCost::of(const Instruction& inst) const {
  UnitCost cost;
  cost.sram_bytes = mul_saturated(inst.transfer_bytes(), 2);  // read, then write
  cost.occupancy_cycles = std::max<std::uint64_t>(
      1, ceil_to_count_saturated(static_cast<double>(cost.sram_bytes) / sram_.bytes_per_cycle));
  return cost;
}

UnitCost MxmCost::of(const Instruction& inst) const {
  UnitCost cost;
  const std::uint64_t k = inst.k;
  const std::uint64_t n = inst.n;
  const std::uint64_t m = inst.m;
  const std::uint64_t group = inst.kgroup == 0 ? k : std::min<std::uint64_t>(inst.kgroup, k);
  const std::uint64_t pass_depth = std::min<std::uint64_t>(group, mxm_.rows);
  const std::uint64_t groups = ceil_div(k, group);
  const std::uint64_t passes_per_group = ceil_div(group, pass_depth);
  const std::uint64_t col_tiles = ceil_div(n, static_cast<std::uint64_t>(mxm_.cols));
  const std::uint64_t passes = mul_saturated(mul_saturated(groups, passes_per_group), col_tiles);

  const bool f16 = inst.type == ElemType::kF16;
  const std::uint64_t weight_bytes = mul_saturated(k * n, f16 ? 2 : 1);
  const std::uint64_t install_cycles =
      ceil_to_count_saturated(static_cast<double>(weight_bytes) / mxm_.weight_load_bytes_per_cycle);
  const std::uint64_t rate = f16 ? kMxmF16RateDivisor : 1;
  // Planes are independent: the queue moves on once the passes' rows have been handed out
  // (passes x m / planes), and a plane still finishing its last pass only delays the results.
  const auto planes = static_cast<std::uint64_t>(mxm_.planes);
  const std::uint64_t stream_cycles =
      ceil_div(mul_saturated(mul_saturated(passes, m), rate), planes);
  const std::uint64_t last_plane_cycles =
      mul_saturated(mul_saturated(ceil_div(passes, planes), m), rate);

  cost.occupancy_cycles = std::max<std::uint64_t>({install_cycles, stream_cycles, 1});
  const std::uint64_t tail =
      last_plane_cycles > cost.occupancy_cycles ? last_plane_cycles - cost.occupancy_cycles : 0;
  cost.latency_cycles = add_saturated(static_cast<std::uint64_t>(mxm_.latency_cycles), tail);
  cost.macs = mul_saturated(m * n, k);
  const std::uint64_t out_bytes = mul_saturated(mul_saturated(m * groups, n), 4);
  cost.sram_bytes =
      add_saturated(add_saturated(weight_bytes, mul_saturated(m * k, f16 ? 2 : 1)), out_bytes);
  return cost;
}

std::uint64_t MxmCost::peak_macs_per_cycle() const {
  return static_cast<std::uint64_t>(mxm_.planes) * static_cast<std::uint64_t>(mxm_.rows) *
         static_cast<std::uint64_t>(mxm_.cols);
}

}  // namespace lpusim
