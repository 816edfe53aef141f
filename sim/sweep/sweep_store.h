// The loss-free results file of a running sweep: created with its header in one step, locked
// against a second writer, repaired after a kill, appended one whole line per write() and fsync'd
// (cut back to the last whole line when a write fails), rewritten only by atomic rename.
#pragma once

#include <string>
#include <vector>

#include "sim/sweep/sweep_results.h"

namespace lpusim {

class ResultsAppender {
 public:
  // Opens `path` (creating it with `header` when absent) for rows with `header`: takes an
  // exclusive flock, truncates an incomplete last line left by a kill, writes the header into an
  // empty file. Throws InputError when the path is not a regular file (a device, FIFO), the
  // file's header differs, a complete line is malformed, or another process holds the lock.
  ResultsAppender(const std::string& path, const std::vector<std::string>& header);
  ~ResultsAppender();
  ResultsAppender(const ResultsAppender&) = delete;
  ResultsAppender& operator=(const ResultsAppender&) = delete;

  // The file as it was when opened (after the repair; torn_bytes says what was dropped).
  const ResultsTable& existing() const { return existing_; }

  // Appends `row` as one line with a single write() on the O_APPEND descriptor, then fsyncs. On a
  // failed write or fsync (a full disk) truncates the file back to its last complete line and
  // throws InputError.
  void append(const ResultRow& row);

  // Replaces the file atomically by the header and `rows` (temporary file, fsync, rename).
  void rewrite(const std::vector<ResultRow>& rows);

 private:
  void append_line(const std::string& line);

  std::string path_;
  std::vector<std::string> header_;
  ResultsTable existing_;
  int fd_ = -1;
  std::size_t size_ = 0;  // bytes of complete lines in the file
};

// Writes a results file through an AtomicFile: DIR/.NAME.tmp-PID, fsync, rename, fsync of the
// directory (a device or FIFO is written in place). Throws InputError naming the path on failure
// (the temporary file is removed).
void write_results_file(const std::string& path, const std::vector<std::string>& header,
                        const std::vector<ResultRow>& rows);

}  // namespace lpusim
