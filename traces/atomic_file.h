// Output files that are whole or absent: a regular file is written under a temporary name in its
// directory and renamed into place; device nodes, FIFOs and /proc, /sys files are written in place.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lpusim {

// How an output path is written, decided from what is there now.
struct ResolvedOutput {
  std::string target;      // the path written: `path` with every symlink followed
  bool in_place = false;   // a character/block device, FIFO or socket, or a /proc or /sys file
  int replaced_mode = -1;  // permission bits of the regular file a rename replaces, else -1
};

// Follows symlinks (also dangling ones, to the file they would create) and checks the target:
// a directory, a missing or unwritable directory, or an unwritable in-place file is an InputError
// (exit 2) naming `path` and `what` (the flag or the kind of file).
ResolvedOutput resolve_output(const std::string& path, std::string_view what);

// The temporary name of a replaced file: "DIR/.NAME.tmp-PID" next to the target.
std::string temporary_path_for(const std::string& target);

// One output file. Every write, fsync, close and rename is checked; on failure the temporary
// file is removed, the destination left as it was, and InputError thrown naming the path and the
// system's reason. A file destroyed without commit() is discarded.
class AtomicFile {
 public:
  AtomicFile(const std::string& path, std::string_view what);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Buffers `size` bytes; throws InputError when a buffer flush fails.
  void write(const void* bytes, std::size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // As write(), but returns 0 or the errno of the failure instead of throwing (for writers that
  // run inside SystemC threads). After a failure every later write fails the same way.
  int try_write(const void* bytes, std::size_t size) noexcept;

  // Flushes, fsyncs and closes, then renames the temporary file onto the target (which keeps the
  // permission bits of the file it replaces).
  void commit();
  // Closes and removes the temporary file (an in-place file keeps what was written).
  void discard() noexcept;

  const std::string& path() const { return path_; }
  const std::string& target() const { return resolved_.target; }
  const std::string& temporary_path() const { return temp_; }  // "" when written in place
  bool in_place() const { return resolved_.in_place; }

 private:
  int flush_buffer() noexcept;
  [[noreturn]] void fail(const std::string& action, int error);

  std::string path_;
  std::string what_;
  ResolvedOutput resolved_;
  std::string temp_;
  int fd_ = -1;
  int error_ = 0;  // errno of the first failed write
  int cleanup_slot_ = -1;
  std::vector<char> buffer_;
  bool committed_ = false;
};

// Writes `content` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view content,
                           std::string_view what);

// Temporary files that SIGINT, SIGTERM and SIGHUP remove before the process dies of the signal.
// The handler is installed on first use, only for signals whose action is still the default, and
// is async-signal-safe (a fixed table of paths and unlink()). Returns a slot, or -1 when the
// table of kMaxCleanupPaths is full or the path too long (the file is then not removed on a kill).
constexpr int kMaxCleanupPaths = 16;
int register_cleanup_path(const std::string& path) noexcept;
void unregister_cleanup_path(int slot) noexcept;

}  // namespace lpusim
