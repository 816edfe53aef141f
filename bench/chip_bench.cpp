// Simulator speed: simulated instructions per wall second on the SystemC chip, and the wall time
// of building and running the 1x8192x28672 GEMV (LLaMA-2-70B's up projection) per format.
#include <benchmark/benchmark.h>

#include <string>

#include "kernels/gemm_kernel.h"
#include "models/chip.h"
#include "sim/config/hw_config.h"
#include "sim/engine/simulation.h"

namespace lpusim {
namespace {

// The benchmarks of this program share one Simulation: SystemC elaborates once per process.
Simulation& simulation() {
  static Simulation instance;
  return instance;
}

HwConfig seed_chip() {
  return load_hw_config(std::string(LPUSIM_BENCH_SOURCE_DIR) + "/configs/hw/seed-80gbps.yaml");
}

GemmSpec up_projection(const std::string& quant) {
  GemmSpec spec;
  spec.name = "up";
  spec.m = 1;
  spec.k = 8192;
  spec.n = 28672;
  spec.format = parse_format(quant);
  spec.group_size = kDefaultGroupSize;
  return spec;
}

// Simulation alone: the program is built once, then run on the chip each iteration.
void BM_SimulateGemv(benchmark::State& state, const std::string& quant) {
  const HwConfig hw = seed_chip();
  const GemmKernel kernel = build_gemm_program(up_projection(quant), hw);
  const std::uint64_t instructions = kernel.program.instruction_count();
  for (auto _ : state) {
    const ChipRunResult r = simulation().run(kernel.program, hw);
    benchmark::DoNotOptimize(r.cycles);
  }
  state.counters["instructions"] = static_cast<double>(instructions);
  state.counters["instr_per_s"] = benchmark::Counter(static_cast<double>(instructions),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_SimulateGemv, int4, std::string("int4"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimulateGemv, q3_5, std::string("q3.5"))->Unit(benchmark::kMillisecond);

// What `lpusim gemm` does: generate the kernel and simulate it.
void BM_BuildAndSimulateGemv(benchmark::State& state, const std::string& quant) {
  const HwConfig hw = seed_chip();
  for (auto _ : state) {
    const GemmKernel kernel = build_gemm_program(up_projection(quant), hw);
    const ChipRunResult r = simulation().run(kernel.program, hw);
    benchmark::DoNotOptimize(r.cycles);
  }
}
BENCHMARK_CAPTURE(BM_BuildAndSimulateGemv, int4, std::string("int4"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BuildAndSimulateGemv, q3_5, std::string("q3.5"))
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lpusim

BENCHMARK_MAIN();
