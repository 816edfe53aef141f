// Typed errors thrown by every lpusim library. Only `main` turns them into messages and exit
// codes: InputError is the user's mistake (exit 2), SimulationError a program the chip cannot run
// (exit 3).
#pragma once

#include <stdexcept>
#include <string>

namespace lpusim {

// Exit codes of the `lpusim` binary, one per kind of failure.
enum class ExitCode : int { kOk = 0, kInternal = 1, kBadInput = 2, kSimulation = 3 };

// Where a bad value came from: file, 1-based line (0 when unknown) and key path.
struct SourceLocation {
  std::string file;
  int line = 0;
  std::string key;

  // "file:line: key: " with the parts that are known, or "" when none is.
  std::string prefix() const;
};

// A bad config, argument, file or kernel text. The message names where and what was expected.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  InputError(const SourceLocation& where, const std::string& message)
      : std::runtime_error(where.prefix() + message), where_(where) {}
  const SourceLocation& where() const { return where_; }

 private:
  SourceLocation where_;
};

// A well-formed input the chip cannot run: a kernel whose buffers do not fit, a deadlock.
class SimulationError : public std::runtime_error {
 public:
  explicit SimulationError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace lpusim
