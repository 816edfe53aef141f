// Output written by code that does not report write errors (SystemC's VCD writer): it writes into
// a FIFO, and a thread copies the bytes into an AtomicFile whose every write is checked.
#pragma once

#include <string>
#include <string_view>
#include <thread>

#include "traces/atomic_file.h"

namespace lpusim {

class PipeCapture {
 public:
  // Opens `destination` (an AtomicFile), creates the FIFO `fifo_path` (removing a stale one of
  // that name) and starts copying from it. Throws InputError naming `destination` or the FIFO.
  PipeCapture(const std::string& destination, std::string_view what, std::string fifo_path);
  // Without finish(): stops copying and removes the FIFO and the temporary file.
  ~PipeCapture();
  PipeCapture(const PipeCapture&) = delete;
  PipeCapture& operator=(const PipeCapture&) = delete;

  // The name the other writer opens for writing.
  const std::string& fifo_path() const { return fifo_; }
  // After the other writer has closed the FIFO: copies what is left, removes the FIFO and commits
  // the file. Throws InputError (the file discarded) when any write failed.
  void finish();

 private:
  void copy();
  void stop_thread() noexcept;
  void remove_fifo() noexcept;

  AtomicFile file_;
  std::string what_;
  std::string fifo_;
  int fifo_slot_ = -1;
  int read_fd_ = -1;
  int hold_fd_ = -1;        // our own write end: no end of file before finish()
  int wake_[2] = {-1, -1};  // a byte here stops the copy early
  int error_ = 0;           // errno of the first failed read or write
  std::thread thread_;
};

}  // namespace lpusim
