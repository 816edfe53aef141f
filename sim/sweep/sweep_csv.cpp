// One-line CSV records: quoting on write, a small state machine on read.
// Line breaks never appear inside a field, so every record is exactly one line of the file.
#include "sim/sweep/sweep_csv.h"

namespace lpusim {

namespace {

std::string field_text(const std::string& field) {
  std::string clean = field;
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < ' ') c = ' ';
  }
  if (clean.find_first_of(",\"") == std::string::npos) return clean;
  std::string quoted = "\"";
  for (const char c : clean) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += field_text(fields[i]);
  }
  return line + "\n";
}

std::vector<std::string> parse_csv_line(std::string_view line, const SourceLocation& where) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"' && (quoted || fields.back().empty())) {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) throw InputError(where, "unterminated quoted field");
  return fields;
}

}  // namespace lpusim
