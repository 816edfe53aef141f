// Sweep results CSV (`merge`, `sweep --resume`, `compare`): the table reader, the lookups merge
// makes, and every line's fields written as CSV reading back the same.
#include <string>
#include <vector>

#include "sim/sweep/sweep_csv.h"
#include "sim/sweep/sweep_results.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
bool has_control_characters(const std::vector<std::string>& fields) {
  for (const std::string& field : fields) {
    for (const char c : field) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    }
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lpusim;
  return fuzz::run([&] {
    const std::string_view text = fuzz::as_text(data, size);
    const std::size_t end = text.find('\n');
    const std::string_view first = text.substr(0, end);
    try {
      const std::vector<std::string> fields =
          parse_csv_line(first, SourceLocation{"fuzz.csv", 1, ""});
      if (!has_control_characters(fields)) {
        const std::string line = csv_line(fields);
        fuzz::require(
            parse_csv_line(std::string_view(line).substr(0, line.size() - 1), {}) == fields,
            "fields written as a CSV line read back the same");
      }
    } catch (const InputError&) {
    }
    const ResultsTable table = parse_results("fuzz.csv", text);
    table.latest_by_hash();
    std::vector<ResultRow> rows = table.rows;
    sort_by_point(table, rows);
  });
}
