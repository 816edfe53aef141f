// Chrome traces (JSON, or gzip when the input starts with its magic bytes) as `timeline` reads
// them: the streaming reader and the SVG drawn from the first run.
#include "tests/fuzz/fuzz_support.h"
#include "traces/timeline_svg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lpusim::fuzz::run([&] {
    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    const std::string path = lpusim::fuzz::input_file(data, size, gzip ? ".json.gz" : ".json");
    lpusim::render_timeline_svg(path, lpusim::TimelineOptions{});
  });
}
