#include "sim/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernels/error.h"

namespace lpusim {

namespace {

std::filesystem::path directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

void check_output_path(const std::string& path, std::string_view what) {
  if (path.empty()) throw InputError(std::string(what) + ": empty output path");
  const std::filesystem::path dir = directory_of(path);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw InputError(path + ": " + std::string(what) + ": directory '" + dir.string() +
                     "' does not exist");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw InputError(path + ": " + std::string(what) + ": directory '" + dir.string() +
                     "' is not writable");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": " + std::string(what) + ": is a directory");
  }
}

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (out) out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) {
      const std::string reason = std::strerror(errno);
      std::remove(temp.c_str());
      throw InputError(path + ": cannot write: " + reason);
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    throw InputError(path + ": cannot rename the finished file into place: " + reason);
  }
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
