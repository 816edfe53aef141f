// Model config YAML (configs/models/*.yaml): loading, the layer list and parameter count `run`
// derives from it, and the dump of what loaded loading back.
#include "sim/config/model_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::ModelConfig model =
        lpusim::load_model_config(lpusim::fuzz::input_file(data, size, ".yaml"));
    lpusim::fuzz::require(!lpusim::linear_layers(model).empty(), "a model has linear layers");
    lpusim::fuzz::require(lpusim::count_parameters(model).total() > 0, "a model has parameters");
    const std::string dump = lpusim::dump_model_config(model);
    const std::string again = lpusim::fuzz::input_file(
        reinterpret_cast<const std::uint8_t*>(dump.data()), dump.size(), ".yaml");
    try {
      lpusim::fuzz::require(lpusim::dump_model_config(lpusim::load_model_config(again)) == dump,
                            "a dumped model config dumps the same after loading");
    } catch (const lpusim::InputError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      lpusim::fuzz::require(false, "a dumped model config loads back");
    }
  });
}
