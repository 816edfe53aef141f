#include "sim/llm/step_metrics.h"

#include <algorithm>

#include "models/compute_cost.h"
#include "sim/llm/workload.h"

namespace lpusim {

namespace {

constexpr double kPicojoule = 1e-12;

double safe_ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

// The time every queue spent issuing instructions: a lower bound set by dispatch alone.
double dispatch_busy_s(const ChipRunResult& run, const HwConfig& hw) {
  std::uint64_t most = 0;
  for (const UnitStats& u : run.units) most = std::max(most, u.instructions);
  return static_cast<double>(most) / (hw.clock.value * hw.dispatch.issue_per_cycle);
}

std::string dominating(const std::vector<UnitMetrics>& units) {
  const UnitMetrics* best = nullptr;
  for (const UnitMetrics& u : units) {
    if (u.name == "mem") continue;  // issuing loads is not a resource; the channel is
    if (!best || u.busy_s > best->busy_s) best = &u;
  }
  return best ? best->name : "memory";
}

double energy_joules(const ChipRunResult& run, const HwConfig& hw, double seconds) {
  std::uint64_t sram_bytes = run.memory.bytes;  // everything loaded lands in SRAM
  std::uint64_t macs = 0;
  std::uint64_t alu_ops = 0;
  for (const UnitStats& u : run.units) {
    sram_bytes += u.sram_bytes;
    macs += u.macs;
    alu_ops += u.alu_ops;
  }
  const EnergyConfig& e = hw.energy;
  const double dynamic_pj = e.memory_pj_per_byte * static_cast<double>(run.memory.burst_bytes) +
                            e.sram_pj_per_byte * static_cast<double>(sram_bytes) +
                            e.mac_int8_pj * static_cast<double>(macs) +
                            e.vxm_op_pj * static_cast<double>(alu_ops);
  return dynamic_pj * kPicojoule + e.static_w * seconds;
}

}  // namespace

StepWork work_of_program(const Program& program) {
  const ProgramTraffic traffic = program_traffic(program);
  StepWork work;
  work.weight_bytes = traffic.weight_bytes;
  work.kv_bytes = traffic.kv_bytes;
  work.macs = traffic.macs;
  return work;
}

namespace {

// Every reported number must be finite: a NaN or an infinity would print as "inf" or JSON null
// with exit 0. Ranges on the config keys make this unreachable; this is the last line of defence.
void check_finite_metrics(const StepMetrics& m) {
  check_finite_metric("seconds", m.seconds);
  check_finite_metric("bandwidth_floor_s", m.bandwidth_floor_s);
  check_finite_metric("mac_floor_s", m.mac_floor_s);
  check_finite_metric("memory_busy_s", m.memory_busy_s);
  check_finite_metric("bandwidth_bound_s", m.bandwidth_bound_s);
  for (const UnitMetrics& u : m.units) {
    check_finite_metric("units." + u.name + ".busy_s", u.busy_s);
    check_finite_metric("units." + u.name + ".utilization", u.utilization);
  }
  check_finite_metric("energy_j", m.energy_j);
  check_finite_metric("energy_j_per_token", m.energy_j_per_token);
  check_finite_metric("avg_power_w", m.avg_power_w);
}

}  // namespace

StepMetrics compute_step_metrics(const ChipRunResult& run, const HwConfig& hw,
                                 const StepWork& work) {
  StepMetrics m;
  m.seconds = fs_to_seconds(run.elapsed_fs);
  m.simulated_cycles = run.cycles;
  m.instructions = run.instructions;
  m.work = work;
  m.bandwidth_floor_s =
      static_cast<double>(work.weight_bytes + work.kv_bytes) / hw.memory.bandwidth.value;
  const MxmCost mxm(hw.mxm);
  m.mac_floor_s = static_cast<double>(work.macs) /
                  (static_cast<double>(mxm.peak_macs_per_cycle()) * hw.clock.value);
  m.memory_busy_s = fs_to_seconds(run.memory.busy_fs);
  m.bandwidth_bound_s = fs_to_seconds(run.bandwidth_bound_fs);
  m.memory_bytes = run.memory.burst_bytes;

  m.units.push_back({"memory", m.memory_busy_s, 0});
  m.units.push_back({"mem", fs_to_seconds(run.unit(Unit::kMem).busy_fs), 0});
  m.units.push_back({"vxm", fs_to_seconds(run.unit(Unit::kVxm).busy_fs), 0});
  m.units.push_back({"mxm", fs_to_seconds(run.unit(Unit::kMxm).busy_fs), 0});
  m.units.push_back({"dispatch", dispatch_busy_s(run, hw), 0});
  for (UnitMetrics& u : m.units) u.utilization = safe_ratio(u.busy_s, m.seconds);
  m.bound = dominating(m.units);

  for (const UnitStats& u : run.units) m.alu_ops += u.alu_ops;
  m.energy_j = energy_joules(run, hw, m.seconds);
  m.energy_j_per_token = safe_ratio(m.energy_j, static_cast<double>(work.tokens));
  m.avg_power_w = safe_ratio(m.energy_j, m.seconds);
  check_finite_metrics(m);
  return m;
}

nlohmann::json step_metrics_json(const StepMetrics& m) {
  nlohmann::json j;
  j["seconds"] = m.seconds;
  j["simulated_cycles"] = m.simulated_cycles;
  j["instructions"] = m.instructions;
  j["weight_bytes"] = m.work.weight_bytes;
  j["kv_bytes"] = m.work.kv_bytes;
  j["macs"] = m.work.macs;
  j["memory_bytes"] = m.memory_bytes;
  j["bandwidth_floor_s"] = m.bandwidth_floor_s;
  j["mac_floor_s"] = m.mac_floor_s;
  j["memory_busy_s"] = m.memory_busy_s;
  j["bandwidth_bound_s"] = m.bandwidth_bound_s;
  j["bound"] = m.bound;
  for (const UnitMetrics& u : m.units) {
    j["units"][u.name] = {{"busy_s", u.busy_s}, {"utilization", u.utilization}};
  }
  j["energy_j"] = m.energy_j;
  j["energy_j_per_token"] = m.energy_j_per_token;
  j["avg_power_w"] = m.avg_power_w;
  return j;
}

std::vector<Table> step_metrics_tables(const StepMetrics& m, const std::string& title) {
  Table summary(title, {"metric", "value", "unit"});
  auto row = [&](const char* name, double value, int decimals, const char* unit) {
    summary.add_row({name, Cell::number(value, decimals), unit});
  };
  row("time", m.seconds * 1e6, 3, "us");
  summary.add_row(
      {"simulated cycles", Cell::integer(static_cast<std::int64_t>(m.simulated_cycles)), "cycles"});
  summary.add_row({"instructions", Cell::integer(static_cast<std::int64_t>(m.instructions)), ""});
  summary.add_row(
      {"weight bytes", Cell::integer(static_cast<std::int64_t>(m.work.weight_bytes)), "B"});
  summary.add_row({"kv bytes", Cell::integer(static_cast<std::int64_t>(m.work.kv_bytes)), "B"});
  row("bandwidth floor", m.bandwidth_floor_s * 1e6, 3, "us");
  row("MAC floor", m.mac_floor_s * 1e6, 3, "us");
  row("memory busy", m.memory_busy_s * 1e6, 3, "us");
  row("bandwidth-bound", m.bandwidth_bound_s * 1e6, 3, "us");
  summary.add_row({"bound by", m.bound, ""});
  row("energy", m.energy_j * 1e3, 4, "mJ");
  row("average power", m.avg_power_w, 2, "W");

  Table units(title + ": units", {"unit", "busy (us)", "utilization (%)"});
  for (const UnitMetrics& u : m.units) {
    units.add_row({u.name, Cell::number(u.busy_s * 1e6, 3), Cell::number(u.utilization * 100, 1)});
  }
  return {summary, units};
}

}  // namespace lpusim
