// A streaming output file for traces: bytes go through a fixed buffer to a temporary file next to
// the destination (gzip-compressed when the name ends in ".gz") and are renamed into place on
// commit(); a sink destroyed without commit() removes its temporary file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace lpusim {

class TraceSink {
 public:
  // Opens the temporary file; throws InputError naming `path` when it cannot be created.
  explicit TraceSink(std::string path);
  ~TraceSink();
  TraceSink(const TraceSink&) = delete;
  TraceSink& operator=(const TraceSink&) = delete;

  // Room for `bytes` more bytes: write them at the returned pointer, then commit() their end.
  char* reserve(std::size_t bytes) {
    if (used_ + bytes > capacity_) make_room(bytes);
    return data_.get() + used_;
  }
  void commit(const char* end) {
    used_ = static_cast<std::size_t>(end - data_.get());
    if (used_ >= kFlushBytes) flush();
  }
  void write(std::string_view text) {
    char* p = reserve(text.size());
    std::memcpy(p, text.data(), text.size());
    commit(p + text.size());
  }
  // Flushes, closes and renames onto the destination. Throws InputError on a write failure
  // (also one that happened earlier: writes never throw while the chip runs).
  void commit();
  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  static constexpr std::size_t kFlushBytes = 1u << 20;
  void flush();
  void make_room(std::size_t bytes);
  bool close_file();  // false when buffered data could not be written
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  std::string temp_;
  bool gzip_ = false;
  std::FILE* file_ = nullptr;
  void* gz_ = nullptr;  // gzFile
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::string error_;  // why a flush failed, reported by commit()
  bool committed_ = false;
};

// The temporary name a trace is written under before it is renamed to `path`.
std::string temporary_trace_path(const std::string& path);

}  // namespace lpusim
