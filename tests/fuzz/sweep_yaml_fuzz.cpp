// Sweep files (configs/sweeps/*.yaml): reading, and expanding into points as `sweep` does
// (which loads the hardware and model configs they name, and checks every value).
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_plan.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const lpusim::SweepFile file =
        lpusim::read_sweep_file(lpusim::fuzz::input_file(data, size, ".yaml"));
    const lpusim::SweepPlan plan = lpusim::expand_sweep(file);
    for (const lpusim::SweepPoint& point : plan.points) {
      lpusim::fuzz::require(!point.hash.empty() && !point.run_args.empty(),
                            "every sweep point has a hash and a command");
    }
  });
}
