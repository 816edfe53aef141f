// Shared by every harness in tests/fuzz: what counts as a finding and how an input reaches a
// parser that reads a file. A harness body is `return lpusim::fuzz::run([&] { ... });`.
//
// The project's own errors (InputError: exit 2, SimulationError: exit 3) are the right answer
// to a bad input and are swallowed. Everything else escapes: another exception type ends in
// std::terminate, and libFuzzer (or the replay binary, under ctest) reports the abort, like a
// crash, a sanitizer report, a timeout or memory over the limit.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"

namespace lpusim::fuzz {

// The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Config names ("seed-80gbps", "llama2-7b") resolve from the current directory: run from the
// source tree so sweep files that name a shipped config find it. Paths passed to libFuzzer and
// to the replay binary are absolute, so changing directory does not move them.
inline void enter_source_dir() {
  static const bool entered = chdir(LPUSIM_SOURCE_DIR) == 0;
  if (!entered) {
    std::perror("fuzz: chdir to the source tree");
    std::abort();
  }
}

// The files input_file() wrote for the current input, removed when run() returns.
inline std::vector<std::string>& input_files() {
  static std::vector<std::string> files;
  return files;
}

// Writes the input to a file of this process (in $LPUSIM_FUZZ_TMPDIR, else /dev/shm when there
// is one) and returns its path, for the readers that take a path. `suffix` picks the reader's
// format (".json", ".yaml").
inline std::string input_file(const std::uint8_t* data, std::size_t size,
                              const std::string& suffix) {
  static const std::string dir = [] {
    const char* base = std::getenv("LPUSIM_FUZZ_TMPDIR");  // scripts/fuzz.sh's, removed after
    if (base == nullptr) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : std::getenv("TMPDIR");
    return std::string(base != nullptr ? base : "/tmp") + "/lpusim-fuzz-" +
           std::to_string(getpid());
  }();
  // One name per suffix: a config's name comes from its file name, so a dump written back
  // through here loads under the same name.
  const std::string path = dir + "-input" + suffix;
  if (input_files().empty() || input_files().back() != path) input_files().push_back(path);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) {
    std::perror(("fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

// Runs one input through `body`; the project's own errors are the right answer to bad input.
template <typename Body>
int run(Body&& body) {
  enter_source_dir();
  struct RemoveInputFiles {
    ~RemoveInputFiles() {
      for (const std::string& path : input_files()) std::remove(path.c_str());
      input_files().clear();
    }
  } remove_input_files;
  try {
    body();
  } catch (const InputError&) {
  } catch (const SimulationError&) {
  }
  return 0;
}

// A property the harness checks beyond "no crash" (a round trip): prints it and aborts.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace lpusim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
