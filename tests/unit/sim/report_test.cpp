// Tests of the shared table renderer: --format parsing, number cells, and the exact text,
// markdown and CSV (RFC 4180 quoting) of small tables.
#include "sim/io/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "kernels/error.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

Table sample_table() {
  Table table("quality", {"scheme", "bits", "error_pct"});
  table.add_row({"int4", Cell::number(4.25, 2), Cell::number(10.6764, 3)});
  table.add_row({"q3.5", Cell::number(3.75, 2), Cell::number(16.1789, 3)});
  return table;
}

TEST(OutputFormat, ParsesEveryChoice) {
  EXPECT_EQ(parse_output_format("text"), OutputFormat::kText);
  EXPECT_EQ(parse_output_format("markdown"), OutputFormat::kMarkdown);
  EXPECT_EQ(parse_output_format("json"), OutputFormat::kJson);
  EXPECT_EQ(parse_output_format("csv"), OutputFormat::kCsv);
}

TEST(OutputFormat, UnknownName_IsAnInputErrorListingTheChoices) {
  EXPECT_THAT(
      [] { parse_output_format("xml"); },
      ::testing::ThrowsMessage<InputError>(AllOf(
          HasSubstr("--format"), HasSubstr("text, markdown, json, csv"), HasSubstr("\"xml\""))));
}

TEST(Cell, NumberHasTheRequestedDecimals) {
  EXPECT_EQ(Cell::number(3.14159, 2).text(), "3.14");
  EXPECT_EQ(Cell::number(2.5, 0).text(), "2");  // round half to even, as printf
  EXPECT_EQ(Cell::number(-0.125, 3).text(), "-0.125");
  EXPECT_EQ(Cell::integer(-42).text(), "-42");
  EXPECT_TRUE(Cell::number(1, 1).is_number());
  EXPECT_FALSE(Cell("x").is_number());
}

TEST(Cell, NonFiniteNumbersPrintAsNanAndInf) {
  EXPECT_EQ(Cell::number(std::numeric_limits<double>::quiet_NaN(), 2).text(), "nan");
  EXPECT_EQ(Cell::number(std::numeric_limits<double>::infinity(), 2).text(), "inf");
  EXPECT_EQ(Cell::number(-std::numeric_limits<double>::infinity(), 2).text(), "-inf");
}

TEST(Table, Text_AlignsColumnsNumbersRight) {
  EXPECT_EQ(sample_table().to_text(),
            "quality\n"
            "scheme  bits  error_pct\n"
            "------  ----  ---------\n"
            "int4    4.25     10.676\n"
            "q3.5    3.75     16.179\n");
}

TEST(Table, Markdown_IsAPipeTableWithNumericColumnsRightAligned) {
  EXPECT_EQ(sample_table().to_markdown(),
            "### quality\n\n"
            "| scheme | bits | error_pct |\n"
            "| --- | ---: | ---: |\n"
            "| int4 | 4.25 | 10.676 |\n"
            "| q3.5 | 3.75 | 16.179 |\n");
}

TEST(Table, Markdown_EscapesPipes) {
  Table table("", {"a"});
  table.add_row({"x|y"});
  EXPECT_EQ(table.to_markdown(), "| a |\n| --- |\n| x\\|y |\n");
}

TEST(Table, Csv_HasNoTitleAndQuotesPerRfc4180) {
  Table table("ignored", {"name", "value"});
  table.add_row({"plain", Cell::number(1.5, 1)});
  table.add_row({"a,b", "say \"hi\""});
  table.add_row({"two\nlines", ""});
  EXPECT_EQ(table.to_csv(),
            "name,value\n"
            "plain,1.5\n"
            "\"a,b\",\"say \"\"hi\"\"\"\n"
            "\"two\nlines\",\n");
}

TEST(Table, RowOfTheWrongWidth_Throws) {
  Table table("t", {"a", "b"});
  EXPECT_THROW(table.add_row({"only one"}), std::invalid_argument);
}

TEST(RenderTables, SeparatesTablesWithABlankLine) {
  Table first("", {"a"});
  first.add_row({"1"});
  Table second("", {"b"});
  second.add_row({"2"});
  EXPECT_EQ(render_tables({first, second}, OutputFormat::kCsv), "a\n1\n\nb\n2\n");
  EXPECT_THROW(render_tables({first}, OutputFormat::kJson), std::invalid_argument);
}

}  // namespace
}  // namespace lpusim
