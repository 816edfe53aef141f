// Output files of the commands: checked up front, then written whole or not at all through
// AtomicFile (temporary file + rename for regular files, in place for devices and FIFOs).
#pragma once

#include <string>
#include <string_view>

#include "traces/atomic_file.h"

namespace lpusim {

// Throws InputError naming `path` when it cannot be written: its directory does not exist or is
// not writable, or it is a directory. Commands call it before doing any work.
void check_output_path(const std::string& path, std::string_view what);

// Writes `content` to `path` through an AtomicFile. Throws InputError naming the path on failure,
// after removing the temporary file.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace lpusim
