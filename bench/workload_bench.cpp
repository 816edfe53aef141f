// LLM workload speed: building the program of a llama2-70b decode step / 128-token prefill, and
// simulating it on the SystemC chip, separately, per format (seed-80gbps).
#include <benchmark/benchmark.h>

#include <string>

#include "models/chip.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "sim/engine/simulation.h"
#include "sim/llm/workload.h"

namespace lpusim {
namespace {

// The benchmarks of this program share one Simulation: SystemC elaborates once per process.
Simulation& simulation() {
  static Simulation instance;
  return instance;
}

std::string source(const std::string& path) { return std::string(LPUSIM_BENCH_SOURCE_DIR) + path; }

WorkloadSpec spec(const std::string& quant, Phase phase) {
  WorkloadSpec s;
  s.model = load_model_config(source("/configs/models/llama2-70b.yaml"));
  s.format = parse_format(quant);
  s.phase = phase;
  return s;
}

void BM_BuildWorkload(benchmark::State& state, const std::string& quant, Phase phase) {
  const HwConfig hw = load_hw_config(source("/configs/hw/seed-80gbps.yaml"));
  const WorkloadSpec s = spec(quant, phase);
  std::uint64_t instructions = 0;
  for (auto _ : state) {
    const Workload w = build_workload(s, hw);
    instructions = w.program.instruction_count();
    benchmark::DoNotOptimize(instructions);
  }
  state.counters["instructions"] = static_cast<double>(instructions);
}

void BM_SimulateWorkload(benchmark::State& state, const std::string& quant, Phase phase) {
  const HwConfig hw = load_hw_config(source("/configs/hw/seed-80gbps.yaml"));
  const Workload w = build_workload(spec(quant, phase), hw);
  for (auto _ : state) {
    const ChipRunResult r = simulation().run(w.program, hw);
    benchmark::DoNotOptimize(r.cycles);
  }
  state.counters["instr_per_s"] =
      benchmark::Counter(static_cast<double>(w.program.instruction_count()),
                         benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_BuildWorkload, decode_int4, std::string("int4"), Phase::kDecode)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BuildWorkload, decode_q3_5, std::string("q3.5"), Phase::kDecode)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimulateWorkload, decode_int4, std::string("int4"), Phase::kDecode)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimulateWorkload, decode_q3_5, std::string("q3.5"), Phase::kDecode)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BuildWorkload, prefill_q3_5, std::string("q3.5"), Phase::kPrefill)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimulateWorkload, prefill_q3_5, std::string("q3.5"), Phase::kPrefill)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lpusim

BENCHMARK_MAIN();
