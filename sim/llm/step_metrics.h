// The report contract (docs/WORKLOAD.md, "Report contract") computed from one simulated run: times,
// floors, per-unit busy time and utilization, the dominating resource, energy and power.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/hw.h"
#include "models/chip.h"
#include "sim/io/report.h"

namespace lpusim {

// What the run moved and computed, known from the program that was run.
struct StepWork {
  std::uint64_t weight_bytes = 0;  // weights + scales/offsets read from memory
  std::uint64_t kv_bytes = 0;      // KV-cache bytes read
  std::uint64_t macs = 0;          // multiply-accumulates of every MATMUL
  std::uint64_t tokens = 1;        // tokens the step produced, for energy per token
};

// The work a program does, read off its instructions (program_traffic in sim/llm/workload.h).
StepWork work_of_program(const Program& program);

struct UnitMetrics {
  std::string name;  // "memory", "mem", "vxm", "mxm", "dispatch"
  double busy_s = 0;
  double utilization = 0;  // busy / step time
};

struct StepMetrics {
  double seconds = 0;
  std::uint64_t simulated_cycles = 0;
  std::uint64_t instructions = 0;
  StepWork work;
  double bandwidth_floor_s = 0;  // (weight_bytes + kv_bytes) / memory bandwidth
  double mac_floor_s = 0;        // macs / peak MAC rate
  double memory_busy_s = 0;      // the channel carried data
  double bandwidth_bound_s = 0;  // a transfer in flight while VXM and MXM were idle
  std::string bound;             // "memory", "mxm", "vxm" or "dispatch"
  std::vector<UnitMetrics> units;
  std::uint64_t memory_bytes = 0;  // bytes moved on the channel (burst-rounded)
  std::uint64_t alu_ops = 0;
  double energy_j = 0;
  double energy_j_per_token = 0;
  double avg_power_w = 0;
};

StepMetrics compute_step_metrics(const ChipRunResult& run, const HwConfig& hw,
                                 const StepWork& work);

// Keys of the report contract: seconds, simulated_cycles, instructions, weight_bytes, kv_bytes,
// bandwidth_floor_s, mac_floor_s, memory_busy_s, bandwidth_bound_s, bound,
// units.<unit>.{busy_s,utilization}, energy_j, energy_j_per_token, avg_power_w.
nlohmann::json step_metrics_json(const StepMetrics& metrics);

// The same numbers as a two-column table (metric, value) and a per-unit table.
std::vector<Table> step_metrics_tables(const StepMetrics& metrics, const std::string& title);

}  // namespace lpusim
