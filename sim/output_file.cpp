#include "sim/output_file.h"

#include <fstream>
#include <sstream>

#include "kernels/error.h"

namespace lpusim {

void check_output_path(const std::string& path, std::string_view what) {
  resolve_output(path, what);
}

void write_file_atomically(const std::string& path, std::string_view content) {
  write_file_atomically(path, content, "output");
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error");
  return text.str();
}

}  // namespace lpusim
