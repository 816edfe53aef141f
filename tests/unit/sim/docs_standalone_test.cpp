// The repository's docs, help texts, messages and comments stand on their own: none points to a
// file outside the repository (a design note users do not have, a sibling folder) or to an issue
// or pull-request number of a tracker. Scans the source tree under LPUSIM_SOURCE_DIR: README.md,
// docs/, configs/, every source, script, CMake and Markdown file, except build directories,
// binary/data folders and this file (which has to spell the patterns).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace lpusim {
namespace {

namespace fs = std::filesystem;

struct Pattern {
  const char* what;
  std::regex re;
};

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> all = [] {
    const auto ecma = std::regex::ECMAScript | std::regex::optimize;
    std::vector<Pattern> out;
    out.push_back({"a design note outside the repository", std::regex(R"(DESIGN\.md)", ecma)});
    out.push_back({"a style guide outside the repository", std::regex(R"(STYLE\.md)", ecma)});
    out.push_back({"a folder outside the repository", std::regex(R"(\.\./shared)", ecma)});
    out.push_back(
        {"a file outside the repository", std::regex(R"((^|[^\w/.])(shared|seed)/)", ecma)});
    out.push_back(
        {"an issue number", std::regex(R"(\bissues?[ \t]+#?[0-9]+)", ecma | std::regex::icase)});
    // owner/repo#N, project#N: a name glued to a number.
    out.push_back({"an issue reference", std::regex(R"([A-Za-z0-9_.-]+#[0-9]+\b)", ecma)});
    // (#N), [#N], or #N after a word that cites one. "semaphore #3" is a count, not a citation.
    out.push_back(
        {"an issue reference",
         std::regex(
             R"((^|[(\[]|\b(see|fixes|fixed|closes|closed|resolves|resolved|per|from|pr|bug|ticket)[ \t]+)#[0-9]+\b)",
             ecma | std::regex::icase)});
    out.push_back({"an issue tracker link", std::regex(R"(/(issues|pull)/[0-9]+)", ecma)});
    return out;
  }();
  return all;
}

// "issues 1 instruction per cycle" describes dispatch, not an issue.
bool is_dispatch_wording(const std::string& line, const std::smatch& m) {
  static const std::regex instruction(R"(^[ \t]*instructions?\b)", std::regex::icase);
  return std::regex_search(line.substr(static_cast<std::size_t>(m.position(0) + m.length(0))),
                           instruction);
}

// The first pattern a line matches, or nullptr.
const char* finding(const std::string& line) {
  for (const Pattern& p : patterns()) {
    std::smatch m;
    if (std::regex_search(line, m, p.re) && !is_dispatch_wording(line, m)) return p.what;
  }
  return nullptr;
}

bool scanned_extension(const fs::path& path) {
  static const std::array<const char*, 10> kExtensions = {".cpp", ".h",  ".hpp", ".cc",   ".sh",
                                                          ".py",  ".md", ".txt", ".yaml", ".yml"};
  const std::string ext = path.extension().string();
  return path.filename() == "CMakeLists.txt" || path.extension() == ".cmake" ||
         std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

// Folders that are not the project's text: git, build trees, generated images, fuzz inputs and
// expected outputs (data, not prose).
bool skipped_directory(const fs::path& relative) {
  const std::string name = relative.filename().string();
  if (name == ".git" || name.rfind("build", 0) == 0) return true;
  const std::string rel = relative.generic_string();
  return rel == "docs/img" || rel == "tests/golden" || rel == "tests/fuzz/corpus" ||
         rel == "tests/fuzz/regressions" || rel == "tests/data";
}

struct Scan {
  std::vector<std::string> files;
  std::vector<std::string> hits;
};

Scan scan_tree(const fs::path& root) {
  Scan scan;
  const fs::path self = fs::path(__FILE__).filename();
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path relative = fs::relative(it->path(), root);
    if (it->is_directory()) {
      if (skipped_directory(relative)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || !scanned_extension(relative)) continue;
    if (relative.generic_string() == "tests/unit/sim/" + self.string()) continue;
    scan.files.push_back(relative.generic_string());
    std::ifstream in(it->path());
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (const char* what = finding(line)) {
        scan.hits.push_back(relative.generic_string() + ":" + std::to_string(number) + ": " + what +
                            ": " + line);
      }
    }
  }
  std::sort(scan.files.begin(), scan.files.end());
  return scan;
}

TEST(DocsStandalone, PatternsCatchPointersOutsideTheRepository) {
  EXPECT_NE(finding("// The reference quantizer of DESIGN.md."), nullptr);
  EXPECT_NE(finding("implementation written from `../shared/notes`"), nullptr);
  EXPECT_NE(finding("(no static self-registration: see STYLE.md)"), nullptr);
  EXPECT_NE(finding("the seed report (seed/000_3b02aa453d12c28f.txt)"), nullptr);
  EXPECT_NE(finding("the seed report (shared/seed/000_3b02aa453d12c28f.txt)"), nullptr);
  EXPECT_NE(finding("Targets (issue 2): >= 100 M weights/s"), nullptr);
  EXPECT_NE(finding("embeddings fp16 (Issue 4, \"Models\")."), nullptr);
  EXPECT_NE(finding("see issue #12"), nullptr);
  EXPECT_NE(finding("the known ASan limit of google/sanitizers#189)"), nullptr);
  EXPECT_NE(finding("a workaround (#57)"), nullptr);
  EXPECT_NE(finding("fixes #57"), nullptr);
  EXPECT_NE(finding("https://github.com/o/r/issues/3"), nullptr);
}

TEST(DocsStandalone, PatternsLeaveOrdinaryTextAlone) {
  EXPECT_EQ(finding("  issue_per_cycle: 1        # one instruction per cycle per queue"), nullptr);
  EXPECT_EQ(finding("each queue issues 1 instruction per cycle"), nullptr);
  EXPECT_EQ(finding("sem: semaphore #3 is never notified"), nullptr);
  EXPECT_EQ(finding("stroke=\"#333\"/>"), nullptr);
  EXPECT_EQ(finding("#include \"sim/config/units.h\""), nullptr);
  EXPECT_EQ(finding("std::shared_ptr<Chip> chip = configs/shared.yaml"), nullptr);
  EXPECT_EQ(finding("docs/FORMATS.md, \"Files written by `lpusim quantize`\""), nullptr);
}

TEST(DocsStandalone, NoDocCommentOrMessagePointsOutsideTheRepository) {
  const Scan scan = scan_tree(fs::path(LPUSIM_SOURCE_DIR));
  // The scan must have seen the tree: the docs, the configs and the sources.
  for (const char* must :
       {"README.md", "docs/FORMATS.md", "docs/WORKLOAD.md", "configs/hw/seed-80gbps.yaml",
        "sim/config/hw_config.cpp", "kernels/format.h", "tests/CMakeLists.txt"}) {
    EXPECT_TRUE(std::binary_search(scan.files.begin(), scan.files.end(), std::string(must)))
        << must << " was not scanned";
  }
  std::string list;
  for (const std::string& hit : scan.hits) list += "  " + hit + "\n";
  EXPECT_TRUE(scan.hits.empty())
      << scan.hits.size()
      << " line(s) point outside the repository; say it here or point to the in-repo doc "
         "(docs/FORMATS.md, docs/WORKLOAD.md \"Report contract\", ...):\n"
      << list;
}

}  // namespace
}  // namespace lpusim
