// A streaming output file for traces: bytes go through a fixed buffer (and zlib's deflate when the
// name ends in ".gz") into an AtomicFile, which appears at the destination on commit(); a sink
// destroyed without commit() removes its temporary file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "traces/atomic_file.h"

struct z_stream_s;  // zlib's compressor state

namespace lpusim {

class TraceSink {
 public:
  // Opens the output (see AtomicFile); throws InputError naming `path` when it cannot.
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
  // Flushes, syncs and renames onto the destination. Throws InputError on a write or compression
  // failure (also one that happened earlier: writes never throw while the chip runs).
  void commit();
  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  static constexpr std::size_t kFlushBytes = 1u << 20;
  void flush();
  void make_room(std::size_t bytes);
  void deflate_buffer(const char* data, std::size_t size, int mode);
  void remember(const std::string& error);

  std::string path_;
  bool gzip_ = false;
  AtomicFile file_;
  std::unique_ptr<z_stream_s> zstream_;  // set when gzip_
  std::unique_ptr<char[]> compressed_;
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::string error_;  // why a flush failed, reported by commit()
};

}  // namespace lpusim
