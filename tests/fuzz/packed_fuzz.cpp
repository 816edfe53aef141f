// Packed weight files written by `quantize` (`gemm --weights`, `quant-error --packed`): every
// tensor the metadata describes read back as a QuantizedMatrix and dequantized.
#include <string>
#include <vector>

#include "kernels/quantizer.h"
#include "sim/io/packed_weights.h"
#include "sim/io/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
constexpr std::string_view kFormatSuffix = ".format";
constexpr std::uint64_t kMaxDequantizedElements = std::uint64_t{1} << 24;  // 64 MB of floats
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::SafetensorsFile file(lpusim::fuzz::input_file(data, size, ".safetensors"));
    for (const auto& [key, value] : file.metadata()) {
      if (key.size() <= kFormatSuffix.size() ||
          key.compare(key.size() - kFormatSuffix.size(), kFormatSuffix.size(), kFormatSuffix) !=
              0) {
        continue;
      }
      const std::string name = key.substr(0, key.size() - kFormatSuffix.size());
      const lpusim::QuantizedMatrix q = lpusim::read_packed_tensor(file, name);
      if (q.rows * q.cols <= kMaxDequantizedElements && q.rows < kMaxDequantizedElements &&
          q.cols < kMaxDequantizedElements) {
        std::vector<float> w(q.rows * q.cols);
        lpusim::dequantize(q, w.data());
      }
    }
  });
}
