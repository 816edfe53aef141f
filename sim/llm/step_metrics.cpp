#include "sim/llm/step_metrics.h"

#include <algorithm>

#include "kernels/isa.h"
#include "models/busy_intervals.h"
#include "models/compute_cost.h"
#include "sim/llm/workload.h"

namespace lpusim {

namespace {

constexpr double kPicojoule = 1e-12;

double safe_ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

// The busiest resource among those that bound a step when it was busy for at least
// kBoundBusyShare of the step; kLatencyBound otherwise (and when none can bound a step).
std::string dominating(const std::vector<UnitMetrics>& units, double seconds) {
  const UnitMetrics* best = nullptr;
  for (const UnitMetrics& u : units) {
    if (!u.bounds_steps) continue;  // the mem queue only issues loads; the channel is busy
    if (!best || u.busy_s > best->busy_s) best = &u;
  }
  if (!best || best->busy_s < kBoundBusyShare * seconds) return kLatencyBound;
  return best->name;
}

// The time of the step when no transfer was in flight and no compute unit of the unit table was
// busy: the step waited on dependencies alone. The time the compute units were idle is split
// into the bandwidth-bound time (a transfer in flight) and this.
Femtoseconds latency_fs(const ChipRunResult& run) {
  // The busy intervals are on the simulation's time axis, which a run does not start at 0: the
  // union's length is each unit's busy time not covered by the units before it.
  std::vector<const BusyIntervals*> compute;
  Femtoseconds compute_busy = 0;
  for (const UnitInfo& unit : unit_table()) {
    if (!unit.bounds_steps) continue;
    const BusyIntervals& busy = run.unit(unit.unit).busy;
    compute_busy += uncovered_time(busy, compute);
    compute.push_back(&busy);
  }
  const Femtoseconds accounted = compute_busy + run.bandwidth_bound_fs;
  return run.elapsed_fs > accounted ? run.elapsed_fs - accounted : 0;
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
  work.f16_macs = traffic.f16_macs;
  work.spill_bytes = traffic.spill_bytes;
  return work;
}

namespace {

// Every reported number must be finite: a NaN or an infinity would print as "inf" or JSON null
// with exit 0. Ranges on the config keys make this unreachable; this is the last line of defence.
void check_finite_metrics(const StepMetrics& m, const StepCatalogue& catalogue) {
  check_finite_statistics(catalogue.statistics, m);
  for (const UnitMetrics& u : m.units) {
    for (const UnitStatistic& s : catalogue.unit_statistics) {
      check_finite_metric("units." + u.name + "." + s.key, s.read(u));
    }
  }
}

}  // namespace

StepMetrics compute_step_metrics(const ChipRunResult& run, const HwConfig& hw, const StepWork& work,
                                 const StepCatalogue& catalogue) {
  StepMetrics m;
  m.seconds = fs_to_seconds(run.elapsed_fs);
  m.simulated_cycles = run.cycles;
  m.instructions = run.instructions;
  m.work = work;
  m.bandwidth_floor_s =
      static_cast<double>(work.weight_bytes + work.kv_bytes) / hw.memory.bandwidth.value;
  const MxmCost mxm(hw.mxm);
  // Every MAC at the peak rate of its type: f16 MACs take kMxmF16RateDivisor int8 MAC slots.
  const double int8_slots = static_cast<double>(work.macs - work.f16_macs) +
                            static_cast<double>(work.f16_macs) * kMxmF16RateDivisor;
  m.mac_floor_s = int8_slots / (static_cast<double>(mxm.peak_macs_per_cycle()) * hw.clock.value);
  m.memory_busy_s = fs_to_seconds(run.memory.busy_fs);
  m.bandwidth_bound_s = fs_to_seconds(run.bandwidth_bound_fs);
  m.latency_s = fs_to_seconds(latency_fs(run));
  m.memory_bytes = run.memory.burst_bytes;

  for (const ResourceRow& resource : catalogue.resources) {
    const double busy_s = resource.busy_s(run, hw);
    m.units.push_back(
        {resource.name, busy_s, safe_ratio(busy_s, m.seconds), resource.bounds_steps});
  }
  m.bound = dominating(m.units, m.seconds);

  for (const UnitStats& u : run.units) m.alu_ops += u.alu_ops;
  m.energy_j = energy_joules(run, hw, m.seconds);
  m.energy_j_per_token = safe_ratio(m.energy_j, static_cast<double>(work.tokens));
  m.avg_power_w = safe_ratio(m.energy_j, m.seconds);
  check_finite_metrics(m, catalogue);
  return m;
}

nlohmann::json step_metrics_json(const StepMetrics& m, const StepCatalogue& catalogue) {
  nlohmann::json j;
  write_statistics_json(catalogue.statistics, m, j);
  for (const UnitMetrics& u : m.units) {
    for (const UnitStatistic& s : catalogue.unit_statistics) j["units"][u.name][s.key] = s.read(u);
  }
  return j;
}

std::vector<Table> step_metrics_tables(const StepMetrics& m, const std::string& title,
                                       const StepCatalogue& catalogue) {
  Table summary(title, {"metric", "value", "unit"});
  add_statistics_rows(catalogue.statistics, m, kTableWriter, summary);

  std::vector<std::string> columns = {"unit"};
  for (const UnitStatistic& s : catalogue.unit_statistics) columns.push_back(s.label);
  Table units(title + ": units", columns);
  for (const UnitMetrics& u : m.units) {
    std::vector<Cell> row = {u.name};
    for (const UnitStatistic& s : catalogue.unit_statistics) {
      row.push_back(Cell::number(s.shown.of(s.read(u)), s.shown.decimals));
    }
    units.add_row(std::move(row));
  }
  return {summary, units};
}

}  // namespace lpusim
