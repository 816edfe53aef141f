// docs/WORKLOAD.md's "Report contract" table and the statistic catalogues cannot drift: every
// declared statistic of the JSON report is a row with its unit, every per-unit statistic and unit
// row is there, and every key the table lists is declared (or is one of the nested objects the
// table describes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/llm/llm_run.h"
#include "sim/llm/statistics.h"
#include "sim/llm/step_metrics.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

struct DocRow {
  std::string unit;
  std::string meaning;
};

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      while (!cell.empty() && cell.back() == ' ') cell.pop_back();
      cells.push_back(cell.substr(cell.find_first_not_of(' ') == std::string::npos
                                      ? cell.size()
                                      : cell.find_first_not_of(' ')));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// Every `key` of the first column of the section's table, with its row's unit and meaning.
std::map<std::string, DocRow> documented_keys() {
  std::ifstream in(std::string(LPUSIM_SOURCE_DIR) + "/docs/WORKLOAD.md");
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, DocRow> keys;
  bool in_section = false;
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Report contract";
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    const std::vector<std::string> cells = split_cells(line);
    if (cells.size() != 3) continue;
    std::size_t at = 0;
    while ((at = cells[0].find('`', at)) != std::string::npos) {
      const std::size_t end = cells[0].find('`', at + 1);
      keys[cells[0].substr(at + 1, end - at - 1)] = {cells[1], cells[2]};
      at = end + 1;
    }
  }
  return keys;
}

std::string doc_unit(const std::string& unit) { return unit.empty() ? "-" : unit; }

// Keys the table describes that are not statistics: the hardware name the commands add, and
// the nested objects prefill (the step statistics again) and config.
bool is_nested_or_added(const std::string& key) {
  for (const char* prefix : {"prefill.", "config."}) {
    if (key.rfind(prefix, 0) == 0) return true;
  }
  return key == "hw";
}

// The contract is the JSON report: a statistic only a table shows (compare's percentages) is not
// a key of it.
TEST(ReportContractDocs, EveryDeclaredJsonStatistic_IsDocumentedWithItsUnit) {
  const std::map<std::string, DocRow> docs = documented_keys();
  ASSERT_FALSE(docs.empty()) << "no Report contract table in docs/WORKLOAD.md";
  auto expect_documented = [&](const std::string& key, const std::string& unit) {
    const auto it = docs.find(key);
    if (it == docs.end()) {
      ADD_FAILURE() << key << " is declared but not in docs/WORKLOAD.md, \"Report contract\"";
      return;
    }
    EXPECT_EQ(it->second.unit, doc_unit(unit)) << key;
  };
  for (const Statistic<RunSource>& s : run_catalogue()) {
    if (s.writers & kJsonWriter) expect_documented(s.key, s.unit);
  }
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) {
    if (s.writers & kJsonWriter) expect_documented(s.key, s.unit);
  }
  for (const UnitStatistic& s : step_catalogue().unit_statistics) {
    expect_documented("units.<unit>." + s.key, s.unit);
  }
  for (const Statistic<KindBreakdown>& s : breakdown_catalogue()) {
    if (s.writers & kJsonWriter) expect_documented("breakdown.<kind>." + s.key, s.unit);
  }
}

TEST(ReportContractDocs, EveryUnitRow_IsNamedInThePerUnitRows) {
  const std::map<std::string, DocRow> docs = documented_keys();
  const std::string& meaning = docs.at("units.<unit>.busy_s").meaning;
  for (const ResourceRow& r : step_catalogue().resources) {
    EXPECT_THAT(meaning, HasSubstr("`" + r.name + "`")) << r.name;
  }
}

TEST(ReportContractDocs, EveryDocumentedKey_IsDeclared) {
  std::map<std::string, bool> declared;
  for (const Statistic<RunSource>& s : run_catalogue()) declared[s.key] = true;
  for (const Statistic<StepMetrics>& s : step_catalogue().statistics) declared[s.key] = true;
  for (const UnitStatistic& s : step_catalogue().unit_statistics) {
    declared["units.<unit>." + s.key] = true;
  }
  for (const Statistic<KindBreakdown>& s : breakdown_catalogue()) {
    declared["breakdown.<kind>." + s.key] = true;
  }
  for (const auto& [key, row] : documented_keys()) {
    EXPECT_TRUE(declared.count(key) || is_nested_or_added(key))
        << key << " is in docs/WORKLOAD.md, \"Report contract\", but no catalogue declares it";
  }
}

}  // namespace
}  // namespace lpusim
