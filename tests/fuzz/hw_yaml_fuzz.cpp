// Hardware config YAML (configs/hw/*.yaml): loading, and the dump of what loaded loading back.
#include "sim/config/hw_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::HwConfig hw =
        lpusim::load_hw_config(lpusim::fuzz::input_file(data, size, ".yaml"));
    const std::string dump = lpusim::dump_hw_config(hw);
    const std::string again = lpusim::fuzz::input_file(
        reinterpret_cast<const std::uint8_t*>(dump.data()), dump.size(), ".yaml");
    try {
      lpusim::fuzz::require(lpusim::dump_hw_config(lpusim::load_hw_config(again)) == dump,
                            "a dumped hardware config dumps the same after loading");
    } catch (const lpusim::InputError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      lpusim::fuzz::require(false, "a dumped hardware config loads back");
    }
  });
}
