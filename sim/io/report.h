// Tabular report rendering shared by the commands: a Table of text and number cells drawn as
// aligned text, a markdown pipe table or RFC 4180 CSV. JSON output is built by each command.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lpusim {

// The --format choices of every command.
enum class OutputFormat { kText, kMarkdown, kJson, kCsv };

// Parses "text", "markdown", "json" or "csv"; throws InputError listing the choices.
OutputFormat parse_output_format(std::string_view text);
// The names parse_output_format accepts, in the order above.
const std::vector<std::string>& output_format_names();

// One table cell: text (left-aligned) or a number printed with a fixed count of decimals
// (right-aligned). Non-finite numbers print as "nan", "inf" and "-inf".
class Cell {
 public:
  Cell(std::string text) : text_(std::move(text)) {}  // NOLINT: implicit by design
  Cell(const char* text) : text_(text) {}             // NOLINT: implicit by design
  static Cell number(double value, int decimals);
  static Cell integer(std::int64_t value);

  const std::string& text() const { return text_; }
  bool is_number() const { return is_number_; }
  double value() const { return value_; }

 private:
  Cell() = default;
  std::string text_;
  bool is_number_ = false;
  double value_ = 0;
};

// A titled table with named columns. Rows must have one cell per column.
class Table {
 public:
  Table(std::string title, std::vector<std::string> columns);

  // Throws std::invalid_argument if the row's width differs from the column count.
  void add_row(std::vector<Cell> cells);

  const std::string& title() const { return title_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::vector<Cell>>& rows() const { return rows_; }

  // The title, then columns padded to their widest cell (numbers right-aligned), two spaces
  // between columns.
  std::string to_text() const;
  // A "### title" line and a pipe table, numeric columns right-aligned.
  std::string to_markdown() const;
  // A header line and one line per row, "\n"-terminated; fields holding a comma, a double quote
  // or a line break are quoted with "" doubling (RFC 4180). No title line.
  std::string to_csv() const;

 private:
  std::vector<std::size_t> column_widths() const;
  bool column_is_numeric(std::size_t column) const;

  std::string title_;
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// Renders tables in a text format, separated by a blank line (CSV: one table per block). JSON is
// not a table format: throws std::invalid_argument for kJson.
std::string render_tables(const std::vector<Table>& tables, OutputFormat format);

// Throws SimulationError (exit 3) naming the metric when `value` is NaN or infinite: every number
// a simulating command reports is checked before it is printed.
void check_finite_metric(std::string_view metric, double value);
// The same for every number cell of `tables` (the metric is named by table, row and column).
void check_finite_tables(const std::vector<Table>& tables);

// One CSV field, quoted if needed.
std::string csv_field(std::string_view text);

}  // namespace lpusim
