#include "traces/trace_sink.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "kernels/error.h"

namespace lpusim {

namespace {

constexpr std::string_view kGzipSuffix = ".gz";
constexpr int kGzipLevel = 1;             // fastest: traces are large and compress well even so
constexpr int kGzipWindowBits = 15 + 16;  // the largest window, with a gzip header and trailer
constexpr int kGzipMemoryLevel = 8;       // zlib's default
constexpr std::size_t kCompressedChunk = 256 * 1024;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

TraceSink::TraceSink(std::string path)
    : path_(std::move(path)), gzip_(ends_with(path_, kGzipSuffix)), file_(path_, "--trace") {
  if (gzip_) {
    zstream_ = std::make_unique<z_stream>();
    if (deflateInit2(zstream_.get(), kGzipLevel, Z_DEFLATED, kGzipWindowBits, kGzipMemoryLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      zstream_.reset();
      throw InputError(path_ + ": --trace: cannot start the gzip compressor");
    }
    compressed_ = std::make_unique<char[]>(kCompressedChunk);
  }
  capacity_ = 2 * kFlushBytes;
  data_ = std::make_unique<char[]>(capacity_);
}

TraceSink::~TraceSink() {
  if (zstream_) deflateEnd(zstream_.get());
}

void TraceSink::remember(const std::string& error) {
  if (error_.empty()) error_ = error;
}

// Flushes happen inside the simulation's threads, where an exception would not reach main intact:
// failures are remembered and reported by commit().
void TraceSink::deflate_buffer(const char* data, std::size_t size, int mode) {
  z_stream& z = *zstream_;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(compressed_.get());
    z.avail_out = static_cast<uInt>(kCompressedChunk);
    const int status = deflate(&z, mode);
    if (status == Z_STREAM_ERROR) {
      remember("gzip compression failed");
      return;
    }
    const std::size_t produced = kCompressedChunk - z.avail_out;
    if (const int error = file_.try_write(compressed_.get(), produced); error != 0) {
      remember(std::strerror(error));
      return;
    }
    if (mode == Z_FINISH ? status == Z_STREAM_END : z.avail_out != 0) return;
    if (status != Z_OK && status != Z_BUF_ERROR) {
      remember("gzip compression failed");
      return;
    }
  }
}

void TraceSink::flush() {
  if (used_ == 0) return;
  if (error_.empty()) {
    if (gzip_) {
      deflate_buffer(data_.get(), used_, Z_NO_FLUSH);
    } else if (const int error = file_.try_write(data_.get(), used_); error != 0) {
      remember(std::strerror(error));
    }
  }
  bytes_written_ += used_;
  used_ = 0;
}

void TraceSink::make_room(std::size_t bytes) {
  flush();
  if (bytes <= capacity_) return;
  capacity_ = bytes;
  data_ = std::make_unique<char[]>(capacity_);
}

void TraceSink::commit() {
  flush();
  if (gzip_ && error_.empty()) deflate_buffer(nullptr, 0, Z_FINISH);
  if (!error_.empty()) {
    file_.discard();
    throw InputError(path_ + ": --trace: cannot write the trace: " + error_);
  }
  file_.commit();
}

}  // namespace lpusim
