// Tabular report rendering shared by the commands: a Table of text and number cells drawn as
// aligned text, a markdown pipe table or RFC 4180 CSV. JSON output is built by each command.
#include "sim/io/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "kernels/error.h"

namespace lpusim {
namespace {

constexpr const char* kColumnGap = "  ";

std::string pad(const std::string& text, std::size_t width, bool right_align) {
  const std::string fill(width > text.size() ? width - text.size() : 0, ' ');
  return right_align ? fill + text : text + fill;
}

std::string markdown_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string trim_trailing_spaces(std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> names = {"text", "markdown", "json", "csv"};
  return names;
}

OutputFormat parse_output_format(std::string_view text) {
  static const OutputFormat formats[] = {OutputFormat::kText, OutputFormat::kMarkdown,
                                         OutputFormat::kJson, OutputFormat::kCsv};
  const std::vector<std::string>& names = output_format_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return formats[i];
  }
  throw InputError(SourceLocation{"", 0, "--format"},
                   "expected one of text, markdown, json, csv, got \"" + std::string(text) + "\"");
}

Cell Cell::number(double value, int decimals) {
  Cell cell;
  cell.text_ = fmt::format("{:.{}f}", value, std::max(decimals, 0));
  cell.is_number_ = true;
  cell.value_ = value;
  return cell;
}

Cell Cell::integer(std::int64_t value) {
  Cell cell;
  cell.text_ = std::to_string(value);
  cell.is_number_ = true;
  cell.value_ = static_cast<double>(value);
  return cell;
}

Table::Table(std::string title, std::vector<std::string> columns)
    : title_(std::move(title)), columns_(std::move(columns)) {}

void Table::add_row(std::vector<Cell> cells) {
  if (cells.size() != columns_.size()) {
    throw std::invalid_argument("table '" + title_ + "': row of " + std::to_string(cells.size()) +
                                " cells for " + std::to_string(columns_.size()) + " columns");
  }
  rows_.push_back(std::move(cells));
}

bool Table::column_is_numeric(std::size_t column) const {
  return !rows_.empty() && std::all_of(rows_.begin(), rows_.end(),
                                       [&](const auto& row) { return row[column].is_number(); });
}

std::vector<std::size_t> Table::column_widths() const {
  std::vector<std::size_t> widths;
  for (const std::string& name : columns_) widths.push_back(name.size());
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].text().size());
    }
  }
  return widths;
}

std::string Table::to_text() const {
  const std::vector<std::size_t> widths = column_widths();
  std::string out = title_.empty() ? "" : title_ + "\n";
  auto add_line = [&](auto cell_text, auto right_align) {
    std::string line;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      line += (c ? kColumnGap : "") + pad(cell_text(c), widths[c], right_align(c));
    }
    out += trim_trailing_spaces(line) + "\n";
  };
  add_line([&](std::size_t c) { return columns_[c]; },
           [&](std::size_t c) { return column_is_numeric(c); });
  add_line([&](std::size_t c) { return std::string(widths[c], '-'); },
           [](std::size_t) { return false; });
  for (const auto& row : rows_) {
    add_line([&](std::size_t c) { return row[c].text(); },
             [&](std::size_t c) { return row[c].is_number(); });
  }
  return out;
}

std::string Table::to_markdown() const {
  std::string out = title_.empty() ? "" : "### " + markdown_escape(title_) + "\n\n";
  std::string header = "|";
  std::string rule = "|";
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    header += " " + markdown_escape(columns_[c]) + " |";
    rule += column_is_numeric(c) ? " ---: |" : " --- |";
  }
  out += header + "\n" + rule + "\n";
  for (const auto& row : rows_) {
    std::string line = "|";
    for (const Cell& cell : row) line += " " + markdown_escape(cell.text()) + " |";
    out += line + "\n";
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Table::to_csv() const {
  auto line = [](const auto& items, auto text_of) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      out += (i ? "," : "") + csv_field(text_of(items[i]));
    }
    return out + "\n";
  };
  std::string out = line(columns_, [](const std::string& name) { return name; });
  for (const auto& row : rows_) {
    out += line(row, [](const Cell& cell) { return cell.text(); });
  }
  return out;
}

std::string render_tables(const std::vector<Table>& tables, OutputFormat format) {
  std::string out;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    if (i) out += "\n";
    switch (format) {
      case OutputFormat::kText:
        out += tables[i].to_text();
        break;
      case OutputFormat::kMarkdown:
        out += tables[i].to_markdown();
        break;
      case OutputFormat::kCsv:
        out += tables[i].to_csv();
        break;
      case OutputFormat::kJson:
        throw std::invalid_argument("render_tables: JSON is built by each command");
    }
  }
  return out;
}

void check_finite_metric(std::string_view metric, double value) {
  if (std::isfinite(value)) return;
  throw SimulationError(std::string(metric) + " is not a finite number (" +
                        (std::isnan(value) ? "nan" : "inf") +
                        "): the configuration's values are too large for it to be computed");
}

void check_finite_tables(const std::vector<Table>& tables) {
  for (const Table& table : tables) {
    for (const std::vector<Cell>& row : table.rows()) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (!row[c].is_number()) continue;
        check_finite_metric(
            "'" + table.title() + "': '" + row.front().text() + "' (" + table.columns().at(c) + ")",
            row[c].value());
      }
    }
  }
}

}  // namespace lpusim
