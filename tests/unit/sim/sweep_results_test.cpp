// Sweep results files: one-line CSV records, rows from worker reports, the loss-free appender
// (torn last line repaired, header checked, one writer at a time) and merging by hash.
#include "sim/sweep/sweep_results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernels/format.h"
#include "sim/sweep/sweep_csv.h"
#include "sim/sweep/sweep_merge.h"
#include "sim/sweep/sweep_store.h"
#include "tests/support/cli_runner.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;
using testing::read_file;
using testing::TempDir;

const std::vector<std::string> kHeader = {"point", "hash", "status", "value", "error"};

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string merge_error(const std::vector<std::string>& paths) {
  try {
    merge_results(paths);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

SweepPoint sample_point() {
  SweepPoint p;
  p.index = 7;
  p.hash = "00000000000000aa";
  p.hw.name = "chip";
  p.spec.model.name = "tiny";
  p.spec.format = parse_format("q3.5");
  p.spec.group_size = 128;
  p.prefill = false;
  p.hw_values = {{"memory.bandwidth", "80000000000"}};
  return p;
}

std::string column(const std::vector<std::string>& header, const ResultRow& row,
                   const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return row[i];
  }
  return "<no column>";
}

TEST(SweepCsv, FieldsWithCommasAndQuotes_RoundTrip_LineBreaksBecomeSpaces) {
  const std::vector<std::string> fields = {"plain", "a,b", "say \"hi\"", "", "two\nlines"};
  const std::string line = csv_line(fields);
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",,two lines\n");
  std::vector<std::string> expected = fields;
  expected[4] = "two lines";
  EXPECT_EQ(parse_csv_line(line.substr(0, line.size() - 1), {}), expected);
  EXPECT_THROW(parse_csv_line("\"open", {}), InputError);
}

TEST(SweepResults, Header_HasEveryMetricOfTheReportContract) {
  const std::vector<std::string> header = results_header({"memory.bandwidth"});
  for (const char* key : {"point",
                          "hash",
                          "memory.bandwidth",
                          "status",
                          "per_token_latency_s",
                          "throughput_tok_s",
                          "first_token_latency_s",
                          "weight_bytes",
                          "kv_bytes",
                          "bandwidth_floor_s",
                          "memory_busy_s",
                          "bandwidth_bound_s",
                          "bound",
                          "units.memory.busy_s",
                          "units.vxm.utilization",
                          "units.mxm.busy_s",
                          "units.dispatch.utilization",
                          "energy_j_per_token",
                          "avg_power_w",
                          "simulated_cycles",
                          "instructions",
                          "error"}) {
    EXPECT_THAT(header, ::testing::Contains(key));
  }
}

TEST(SweepResults, RowOfASuccessfulPoint_TakesTheMetricsFromTheReport) {
  const std::vector<std::string> header = results_header({"memory.bandwidth"});
  const PointOutcome ok{0,
                        R"({"per_token_latency_s": 0.25, "bound": "vxm", "instructions": 12,
                            "first_token_latency_s": null,
                            "units": {"vxm": {"busy_s": 0.125, "utilization": 0.5}}})",
                        ""};
  const ResultRow row = result_row(sample_point(), header, ok);
  EXPECT_EQ(column(header, row, "point"), "7");
  EXPECT_EQ(column(header, row, "quant"), "q3.5");
  EXPECT_EQ(column(header, row, "memory.bandwidth"), "80000000000");
  EXPECT_EQ(column(header, row, "status"), "ok");
  EXPECT_EQ(column(header, row, "per_token_latency_s"), "0.25");
  EXPECT_EQ(column(header, row, "bound"), "vxm");
  EXPECT_EQ(column(header, row, "instructions"), "12");
  EXPECT_EQ(column(header, row, "units.vxm.utilization"), "0.5");
  EXPECT_EQ(column(header, row, "first_token_latency_s"), "");
}

TEST(SweepResults, StrayLineBeforeTheReport_DoesNotLoseThePoint) {
  const std::vector<std::string> header = results_header({});
  const PointOutcome ok{0, "Info: a notice\n{\"bound\": \"memory\"}\n", ""};
  const ResultRow row = result_row(sample_point(), header, ok);
  EXPECT_EQ(column(header, row, "status"), "ok");
  EXPECT_EQ(column(header, row, "bound"), "memory");
  const ResultRow garbage = result_row(sample_point(), header, PointOutcome{0, "oops", ""});
  EXPECT_EQ(column(header, garbage, "status"), "failed");
  EXPECT_THAT(column(header, garbage, "error"), HasSubstr("not JSON"));
}

TEST(SweepResults, RowOfAFailedPoint_RecordsExitCodeAndError) {
  const std::vector<std::string> header = results_header({});
  const PointOutcome failed{3, "", "lpusim: simulation error: model tiny needs 9 bytes\n"};
  const ResultRow row = result_row(sample_point(), header, failed);
  EXPECT_EQ(column(header, row, "status"), "failed");
  EXPECT_EQ(column(header, row, "exit_code"), "3");
  EXPECT_EQ(column(header, row, "error"), "simulation error: model tiny needs 9 bytes");
  EXPECT_EQ(column(header, row, "per_token_latency_s"), "");
  const ResultRow killed = result_row(sample_point(), header, PointOutcome{137, "", ""});
  EXPECT_EQ(column(header, killed, "error"), "worker killed by signal 9");
}

TEST(SweepResults, IncompleteLastLine_IsSetAside_NotAnError) {
  const ResultsTable t = parse_results("r.csv", "point,hash,status\n0,aa,ok\n1,bb,o");
  EXPECT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.complete_bytes, 26u);
  EXPECT_EQ(t.torn_bytes, 6u);
}

TEST(SweepResults, MalformedCompleteLine_IsAnErrorAtItsLine) {
  EXPECT_THAT(
      [] {
        try {
          parse_results("r.csv", "point,hash,status\n0,aa,ok\n1,bb\n");
        } catch (const InputError& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      HasSubstr("r.csv:3: expected 3 fields as in the header, got 2"));
  EXPECT_THROW(parse_results("r.csv", "a,b\n"), InputError);  // not a results file
}

TEST(SweepResults, LaterRowOfAHash_SupersedesTheEarlierOne) {
  const ResultsTable t = parse_results("r.csv", "point,hash,status\n0,aa,failed\n0,aa,ok\n");
  EXPECT_EQ(t.latest_by_hash().at("aa"), 1u);
}

TEST(ResultsAppender, NewFile_GetsTheHeader_AndEachRowIsOneLine) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  {
    ResultsAppender appender(path, kHeader);
    appender.append({"0", "aa", "ok", "1.5", ""});
    appender.append({"1", "bb", "failed", "", "no, it did not fit"});
  }
  EXPECT_EQ(read_file(path),
            "point,hash,status,value,error\n0,aa,ok,1.5,\n1,bb,failed,,\"no, it did not fit\"\n");
}

TEST(ResultsAppender, TornLastLine_IsTruncatedBeforeAppending) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  write(path, "point,hash,status,value,error\n0,aa,ok,1.5,\n1,bb,o");
  ResultsAppender appender(path, kHeader);
  EXPECT_EQ(appender.existing().rows.size(), 1u);
  EXPECT_EQ(appender.existing().torn_bytes, 6u);
  appender.append({"1", "bb", "ok", "2", ""});
  EXPECT_EQ(read_file(path), "point,hash,status,value,error\n0,aa,ok,1.5,\n1,bb,ok,2,\n");
}

TEST(ResultsAppender, TornHeader_IsRewritten) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  write(path, "point,ha");
  ResultsAppender appender(path, kHeader);
  EXPECT_EQ(read_file(path), "point,hash,status,value,error\n");
}

TEST(ResultsAppender, FileOfAnotherSweep_IsAnInputError) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  write(path, "point,hash,status,other\n");
  EXPECT_THROW(ResultsAppender(path, kHeader), InputError);
}

TEST(ResultsAppender, SecondWriter_IsRefused) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  ResultsAppender first(path, kHeader);
  EXPECT_THROW(ResultsAppender(path, kHeader), InputError);
}

TEST(ResultsAppender, Rewrite_ReplacesTheFileAtomically) {
  TempDir dir;
  const std::string path = dir.file("r.csv");
  ResultsAppender appender(path, kHeader);
  appender.append({"1", "bb", "ok", "2", ""});
  appender.rewrite({{"0", "aa", "ok", "1", ""}});
  EXPECT_EQ(read_file(path), "point,hash,status,value,error\n0,aa,ok,1,\n");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"r.csv"});
}

TEST(MergeResults, DuplicatesCollapse_RowsOrderedByPoint) {
  TempDir dir;
  write(dir.file("a.csv"), "point,hash,status,value,error\n2,cc,ok,3,\n0,aa,ok,1,\n");
  write(dir.file("b.csv"), "point,hash,status,value,error\n1,bb,ok,2,\n0,aa,ok,1,\n");
  const MergedResults m = merge_results({dir.file("a.csv"), dir.file("b.csv")});
  ASSERT_EQ(m.rows.size(), 3u);
  EXPECT_EQ(m.rows[0][1], "aa");
  EXPECT_EQ(m.rows[1][1], "bb");
  EXPECT_EQ(m.rows[2][1], "cc");
  EXPECT_EQ(m.duplicates, 1u);
}

TEST(MergeResults, SameHashWithDifferentResults_IsAConflictNamingBothFiles) {
  TempDir dir;
  write(dir.file("a.csv"), "point,hash,status,value,error\n0,aa,ok,1,\n");
  write(dir.file("b.csv"), "point,hash,status,value,error\n0,aa,ok,1.0001,\n");
  const std::string message = merge_error({dir.file("a.csv"), dir.file("b.csv")});
  EXPECT_THAT(message, HasSubstr(dir.file("b.csv") + ":2: point aa conflicts with " +
                                 dir.file("a.csv") + ":2"));
  EXPECT_THAT(message, HasSubstr("column value: \"1\" there, \"1.0001\" here"));
}

TEST(MergeResults, DifferentColumns_AreAnError) {
  TempDir dir;
  write(dir.file("a.csv"), "point,hash,status,value,error\n0,aa,ok,1,\n");
  write(dir.file("b.csv"), "point,hash,status,other,error\n1,bb,ok,1,\n");
  EXPECT_THAT(merge_error({dir.file("a.csv"), dir.file("b.csv")}),
              HasSubstr("b.csv:1: the columns differ"));
}

}  // namespace
}  // namespace lpusim
