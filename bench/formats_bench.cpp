// Throughput of the weight formats on one core: quantize+pack (the reference quantizer writing
// packed rows) and unpack (packed row -> int8 codes), in weights per second, per format, on a
// 4096 x 4096 matrix of Gaussian weights with G = 128. The generic bit-buffer path and the checked
// pack_row are measured too, to show what the specialised kernels buy.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/format.h"
#include "kernels/quantizer.h"

namespace lpusim {
namespace {

constexpr std::size_t kRows = 4096;
constexpr std::size_t kCols = 4096;
constexpr int kGroup = kDefaultGroupSize;

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::vector<float> out(kRows * kCols);
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (auto& x : out) x = normal(rng);
    return out;
  }();
  return w;
}

void set_weights_per_second(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(kRows * kCols));
}

// quantize_row over every row into preallocated outputs (what `quantize` does, minus allocation).
void quantize_pack(benchmark::State& state, const std::string& name) {
  const WeightFormat f = parse_format(name);
  const auto& w = weights();
  const std::size_t row_bytes = f.row_bytes(kCols);
  const std::size_t groups = group_count(kCols, kGroup);
  std::vector<std::uint8_t> qweight(kRows * row_bytes);
  std::vector<std::uint16_t> scales(kRows * groups);
  std::vector<std::uint16_t> offsets(kRows * groups);
  for (auto _ : state) {
    for (std::size_t r = 0; r < kRows; ++r) {
      quantize_row(f, w.data() + r * kCols, kCols, kGroup, r, qweight.data() + r * row_bytes,
                   scales.data() + r * groups, offsets.data() + r * groups);
    }
    benchmark::DoNotOptimize(qweight.data());
    benchmark::ClobberMemory();
  }
  set_weights_per_second(state);
}

using UnpackFn = void (*)(const WeightFormat&, const std::uint8_t*, std::size_t, std::int8_t*);
using PackFn = void (*)(const WeightFormat&, const std::int8_t*, std::size_t, std::uint8_t*);

// Unpacks every row of the quantized matrix into one row buffer of codes (kept in L1, as a
// consumer that uses each row at once would): measures the unpacking, not DRAM writes.
void unpack(benchmark::State& state, const std::string& name, UnpackFn fn) {
  const WeightFormat f = parse_format(name);
  const QuantizedMatrix q = quantize(f, weights().data(), kRows, kCols, kGroup);
  const std::size_t row_bytes = q.row_bytes();
  std::vector<std::int8_t> codes(kCols);
  for (auto _ : state) {
    for (std::size_t r = 0; r < kRows; ++r) {
      fn(f, q.qweight.data() + r * row_bytes, kCols, codes.data());
      benchmark::DoNotOptimize(codes.data());
      benchmark::ClobberMemory();
    }
  }
  set_weights_per_second(state);
}

// Packs every row of codes (from the quantizer) into the packed matrix.
void pack(benchmark::State& state, const std::string& name, PackFn fn) {
  const WeightFormat f = parse_format(name);
  const QuantizedMatrix q = quantize(f, weights().data(), kRows, kCols, kGroup);
  const std::vector<std::int8_t> codes = unpack_codes(q);
  const std::size_t row_bytes = q.row_bytes();
  std::vector<std::uint8_t> out(kRows * row_bytes);
  for (auto _ : state) {
    for (std::size_t r = 0; r < kRows; ++r) {
      fn(f, codes.data() + r * kCols, kCols, out.data() + r * row_bytes);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_weights_per_second(state);
}

void register_all() {
  const char* const formats[] = {"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5"};
  for (const char* name : formats) {
    const std::string n = name;
    benchmark::RegisterBenchmark(("QuantizePack/" + n).c_str(), quantize_pack, n)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Unpack/" + n).c_str(), unpack, n, unpack_row)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Pack/" + n).c_str(), pack, n, pack_row)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("UnpackGeneric/" + n).c_str(), unpack, n, unpack_row_generic)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("PackGeneric/" + n).c_str(), pack, n, pack_row_generic)
        ->Unit(benchmark::kMillisecond);
  }
  // A pattern with no specialised kernel runs the generic path through pack_row/unpack_row.
  for (const char* name : {"pattern:6,2", "fp16"}) {
    const std::string n = name;
    benchmark::RegisterBenchmark(("QuantizePack/" + n).c_str(), quantize_pack, n)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("Unpack/pattern:6,2", unpack, std::string("pattern:6,2"), unpack_row)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace lpusim

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  lpusim::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
