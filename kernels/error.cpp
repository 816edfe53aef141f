#include "kernels/error.h"

namespace lpusim {

std::string SourceLocation::prefix() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!key.empty()) out += key + ": ";
  return out;
}

}  // namespace lpusim
