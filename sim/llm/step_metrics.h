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
#include "sim/llm/statistics.h"

namespace lpusim {

// What the run moved and computed, known from the program that was run.
struct StepWork {
  std::uint64_t weight_bytes = 0;  // weights + scales/offsets read from memory
  std::uint64_t kv_bytes = 0;      // KV-cache bytes read
  std::uint64_t macs = 0;          // multiply-accumulates of every MATMUL
  std::uint64_t tokens = 1;        // tokens the step produced, for energy per token
  std::uint64_t f16_macs = 0;      // those of `macs` in f16 MATMULs, at a quarter of the rate
  std::uint64_t spill_bytes = 0;   // SRAM spills stored and loaded back
};

// A step is bound by its busiest resource (memory channel, VXM, MXM, dispatch) only when that
// resource was busy for at least this share of the step; otherwise the step waited on
// dependencies (completion and notification latencies) more than on any resource, and `bound` is
// kLatencyBound.
inline constexpr double kBoundBusyShare = 0.8;
inline constexpr const char* kLatencyBound = "latency";

// The work a program does, read off its instructions (program_traffic in sim/llm/workload.h).
StepWork work_of_program(const Program& program);

// One row of step_catalogue().resources, measured.
struct UnitMetrics {
  std::string name;  // ResourceRow::name
  double busy_s = 0;
  double utilization = 0;    // busy / step time
  bool bounds_steps = true;  // ResourceRow::bounds_steps
};

struct StepMetrics {
  double seconds = 0;
  std::uint64_t simulated_cycles = 0;
  std::uint64_t instructions = 0;
  StepWork work;
  double bandwidth_floor_s = 0;    // (weight_bytes + kv_bytes) / memory bandwidth
  double mac_floor_s = 0;          // int8 macs / int8 peak + f16_macs / f16 peak
  double memory_busy_s = 0;        // the channel carried data
  double bandwidth_bound_s = 0;    // a transfer in flight while VXM and MXM were idle
  double latency_s = 0;            // no transfer in flight and VXM and MXM idle: dependencies
  std::string bound;               // the busiest unit that bounds_steps, or kLatencyBound
  std::vector<UnitMetrics> units;  // one per step_catalogue().resources row, in its order
  std::uint64_t memory_bytes = 0;  // bytes moved on the channel (burst-rounded)
  std::uint64_t alu_ops = 0;
  double energy_j = 0;
  double energy_j_per_token = 0;
  double avg_power_w = 0;
};

// The units are measured per row of catalogue.resources; every real statistic of the catalogue is
// checked finite (SimulationError naming its key otherwise).
StepMetrics compute_step_metrics(const ChipRunResult& run, const HwConfig& hw, const StepWork& work,
                                 const StepCatalogue& catalogue = step_catalogue());

// Every statistic of the catalogue shown in JSON, and units.<unit>.<key> per unit statistic.
nlohmann::json step_metrics_json(const StepMetrics& metrics,
                                 const StepCatalogue& catalogue = step_catalogue());

// The statistics shown in tables as a (metric, value, unit) table, and a per-unit table.
std::vector<Table> step_metrics_tables(const StepMetrics& metrics, const std::string& title,
                                       const StepCatalogue& catalogue = step_catalogue());

}  // namespace lpusim
