#include "traces/trace_sink.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kernels/error.h"

namespace lpusim {

namespace {

constexpr std::string_view kGzipSuffix = ".gz";
constexpr int kGzipLevel = 1;  // fastest: traces are large and compress well even so

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string temporary_trace_path(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string name = "." + p.filename().string() + ".tmp-" + std::to_string(::getpid());
  return (p.parent_path() / name).string();
}

TraceSink::TraceSink(std::string path)
    : path_(std::move(path)),
      temp_(temporary_trace_path(path_)),
      gzip_(ends_with(path_, kGzipSuffix)) {
  if (gzip_) {
    const std::string mode = "wb" + std::to_string(kGzipLevel);
    gz_ = gzopen(temp_.c_str(), mode.c_str());
    if (gz_ == nullptr) fail("cannot create");
  } else {
    file_ = std::fopen(temp_.c_str(), "wb");
    if (file_ == nullptr) fail("cannot create");
  }
  capacity_ = 2 * kFlushBytes;
  data_ = std::make_unique<char[]>(capacity_);
}

TraceSink::~TraceSink() {
  if (committed_) return;
  close_file();
  std::remove(temp_.c_str());
}

void TraceSink::flush() {
  if (used_ == 0) return;
  if (!error_.empty()) {  // already failed: drop the data, commit() reports it
    used_ = 0;
    return;
  }
  bool ok = false;
  if (gzip_) {
    ok = gzwrite(static_cast<gzFile>(gz_), data_.get(), static_cast<unsigned>(used_)) ==
         static_cast<int>(used_);
  } else {
    ok = std::fwrite(data_.get(), 1, used_, file_) == used_;
  }
  // Flushes happen inside the simulation's threads, where an exception would not reach main
  // intact: remember the failure and report it from commit().
  if (!ok) error_ = errno != 0 ? std::strerror(errno) : "I/O error";
  bytes_written_ += used_;
  used_ = 0;
}

void TraceSink::make_room(std::size_t bytes) {
  flush();
  if (bytes <= capacity_) return;
  capacity_ = bytes;
  data_ = std::make_unique<char[]>(capacity_);
}

bool TraceSink::close_file() {
  bool ok = true;
  if (gz_ != nullptr) {
    ok = gzclose(static_cast<gzFile>(gz_)) == Z_OK;
    gz_ = nullptr;
  }
  if (file_ != nullptr) {
    ok = std::fclose(file_) == 0;
    file_ = nullptr;
  }
  return ok;
}

void TraceSink::commit() {
  flush();
  const bool closed = close_file();
  if (!error_.empty()) {
    std::remove(temp_.c_str());
    throw InputError(path_ + ": cannot write the trace: " + error_);
  }
  if (!closed) fail("cannot write");
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp_.c_str());
    throw InputError(path_ + ": cannot rename the finished trace into place: " + reason);
  }
  committed_ = true;
}

void TraceSink::fail(const std::string& what) {
  const std::string reason = errno != 0 ? std::strerror(errno) : "I/O error";
  throw InputError(path_ + ": " + what + " the trace's temporary file '" + temp_ + "': " + reason);
}

}  // namespace lpusim
