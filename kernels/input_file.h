// Opening the files a user names, bounded: only regular files (a FIFO, a device or a directory is
// refused before any read, so `/dev/zero` cannot be read forever) and at most a cap per kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lpusim {

// One kind of input file: what to call it in messages and the most bytes lpusim reads of it.
struct InputKind {
  std::string_view what;
  std::uint64_t max_bytes;
};

inline constexpr std::uint64_t kMiB = 1024ull * 1024;

// Hardware and model configs: shipped ones are 1-3 KB; yaml-cpp holds ~100 bytes per node.
inline constexpr InputKind kConfigYamlInput{"YAML config", 1 * kMiB};
// Sweep files may list points explicitly; 4 MiB is about 50,000 written-out points.
inline constexpr InputKind kSweepYamlInput{"sweep file", 4 * kMiB};
// `.lpuasm` programs: a decoder layer of a 70B model is ~1 MB of text; a whole model's ~100 MB.
inline constexpr InputKind kAsmInput{".lpuasm program", 512 * kMiB};
// Sweep results: ~700 bytes a point, so 256 MiB is ~380,000 points; read whole into memory.
inline constexpr InputKind kResultsCsvInput{"results CSV", 256 * kMiB};
// Memory-mapped or streamed files (safetensors, traces) use a cap of UINT64_MAX; their readers
// bound what they buffer (a safetensors header, a trace token) themselves.

// An open regular file, closed when the object goes away.
class InputFile {
 public:
  // Opens `path` without blocking (O_NONBLOCK: a FIFO with no writer does not hang) and checks
  // with fstat that it is a regular file of at most `kind.max_bytes`. Throws InputError naming
  // the file and what it is (directory, FIFO, device) or the cap it exceeds.
  InputFile(const std::string& path, const InputKind& kind);
  ~InputFile();
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  // Size at opening time, from fstat.
  std::uint64_t size() const { return size_; }
  // Hands the descriptor over (to gzdopen, say): the caller closes it.
  int release();
  // Reads the whole file; throws InputError if it grew beyond the cap meanwhile or on I/O error.
  std::string read_all();

 private:
  std::string path_;
  InputKind kind_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The whole of `path` as bytes: InputFile(path, kind).read_all().
std::string read_input_file(const std::string& path, const InputKind& kind);

// "1 MiB", "512 MiB", "100000000 bytes": a cap as written in messages.
std::string byte_cap_text(std::uint64_t bytes);

}  // namespace lpusim
