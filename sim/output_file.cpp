#include "sim/output_file.h"

#include <filesystem>
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
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!ec && status.type() != std::filesystem::file_type::regular &&
      status.type() != std::filesystem::file_type::directory) {
    // A device or FIFO may never end (/dev/zero): only regular files are read to their end.
    throw InputError(path + ": not a regular file (a device or FIFO is not read)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error");
  return text.str();
}

}  // namespace lpusim
