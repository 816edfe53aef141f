// `--set key=value` overrides: each line of the input is one --set, applied to the default
// hardware config (even lines) or the default model (odd first byte), as `run --set` does.
#include <string>
#include <vector>

#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    if (size == 0) return;
    const bool model = (data[0] & 1) != 0;
    std::vector<std::string> overrides;
    std::string line;
    for (const char c : lpusim::fuzz::as_text(data + 1, size - 1)) {
      if (c == '\n') {
        overrides.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    overrides.push_back(line);
    if (model) {
      lpusim::load_model_config(LPUSIM_SOURCE_DIR "/configs/models/llama2-7b.yaml", overrides);
    } else {
      const lpusim::HwConfig hw =
          lpusim::load_hw_config(std::string(lpusim::kDefaultHwConfig), overrides);
      lpusim::dump_hw_config(hw);
    }
  });
}
