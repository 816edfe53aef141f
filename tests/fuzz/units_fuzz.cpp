// Unit-bearing values ("80 GB/s", "900 MHz", "100 ns", ...): the first byte picks the parser, the
// rest is the text. A value that parses prints in canonical form, which parses back.
#include <cmath>
#include <string>

#include "sim/config/units.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lpusim;
  return fuzz::run([&] {
    if (size == 0) return;
    const std::string_view text = fuzz::as_text(data + 1, size - 1);
    switch (data[0] % 8) {
      case 0: {
        const Bytes b = parse_bytes(text);
        fuzz::require(parse_bytes(format_bytes(b)).count == b.count, "bytes print and parse back");
        break;
      }
      case 1:
        parse_bandwidth(text);
        break;
      case 2: {
        const Hertz f = parse_frequency(text);
        if (std::isfinite(f.value) && f.value > 0) parse_frequency(format_frequency(f));
        break;
      }
      case 3:
        parse_duration(text);
        break;
      case 4:
        parse_count(text);
        break;
      case 5:
        parse_energy_per_byte(text);
        break;
      case 6:
        parse_energy_per_op(text);
        break;
      default:
        parse_power(text);
        break;
    }
  });
}
