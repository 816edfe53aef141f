// Runs a harness body on every file of the directories (or files) given, without libFuzzer, so
// the regular suite (gcc, and the sanitizer build) replays each corpus and regression input.
// Inputs named in known-findings.txt are skipped: they are findings in parsers being fixed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_support.h"

namespace fs = std::filesystem;

namespace {

// The reproducer names (second field) of known-findings.txt:
// "harness | reproducer | signature | cause".
std::set<std::string> known_reproducers(const fs::path& list) {
  std::set<std::string> names;
  std::ifstream in(list);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string harness, reproducer;
    std::getline(fields, harness, '|');
    std::getline(fields, reproducer, '|');
    const std::size_t first = reproducer.find_first_not_of(' ');
    const std::size_t last = reproducer.find_last_not_of(' ');
    if (first != std::string::npos) names.insert(reproducer.substr(first, last - first + 1));
  }
  return names;
}

std::vector<fs::path> inputs_of(const fs::path& path) {
  std::vector<fs::path> inputs;
  if (fs::is_directory(path)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
  } else if (fs::exists(path)) {
    inputs.push_back(path);
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  const std::set<std::string> known =
      known_reproducers(fs::path(LPUSIM_SOURCE_DIR) / "tests/fuzz/known-findings.txt");
  std::vector<fs::path> inputs;  // all gathered first: the harness changes directory
  for (int a = 1; a < argc; ++a) {
    for (const fs::path& input : inputs_of(fs::absolute(argv[a]))) inputs.push_back(input);
  }
  int replayed = 0;
  for (const fs::path& input : inputs) {
    {
      if (known.count(input.filename().string()) != 0) {
        std::printf("skipped %s: a known finding (tests/fuzz/known-findings.txt)\n", input.c_str());
        continue;
      }
      std::ifstream in(input, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      std::printf("replaying %s\n", input.c_str());
      std::fflush(stdout);
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::printf("%d inputs replayed, none crashed\n", replayed);
  return replayed > 0 ? 0 : 1;
}
