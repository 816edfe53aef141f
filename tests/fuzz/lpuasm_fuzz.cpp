// `.lpuasm` kernel text (`exec`, `kernel -o`): parsing and validation, and the text of what
// parsed reading back to the same program.
#include "kernels/asm.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::Program program =
        lpusim::read_asm(lpusim::fuzz::as_text(data, size), "fuzz.lpuasm");
    const std::string text = lpusim::write_asm(program);
    try {
      lpusim::fuzz::require(lpusim::write_asm(lpusim::read_asm(text, "written.lpuasm")) == text,
                            "written .lpuasm reads back to the same program");
    } catch (const lpusim::InputError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      lpusim::fuzz::require(false, "written .lpuasm reads back");
    }
  });
}
