#include "sim/io/output_file.h"

#include "kernels/error.h"

namespace lpusim {

void check_output_path(const std::string& path, std::string_view what) {
  resolve_output(path, what);
}

void write_file_atomically(const std::string& path, std::string_view content) {
  write_file_atomically(path, content, "output");
}

}  // namespace lpusim
