// safetensors files (`quantize --in`, `quant-error --in`): the header and its checks, tensor
// selection, and the float conversion the weight commands run on every small tensor.
#include "sim/io/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
// Converting allocates 4 bytes per element: bounded by the file, which is small here, but an
// element count is only checked against the file's bytes, so stay below the 2 GB limit.
constexpr std::uint64_t kMaxConvertedElements = std::uint64_t{1} << 24;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::SafetensorsFile file(lpusim::fuzz::input_file(data, size, ".safetensors"));
    for (const lpusim::TensorInfo& info : file.tensors()) {
      if (file.find(info.name) != &info) lpusim::fuzz::require(false, "tensor names are unique");
      if (lpusim::is_readable_as_float(info.dtype) &&
          info.element_count() <= kMaxConvertedElements) {
        file.read_float(info);
      }
    }
    for (const lpusim::TensorInfo* info : lpusim::select_float_matrices(file, "")) {
      std::vector<float> row(info->cols());
      if (info->rows() > 0) file.read_float_rows(*info, 0, 1, row.data());
    }
  });
}
