// Writing output files so that a failure leaves nothing behind: the text goes to a temporary
// name in the destination's directory and is renamed onto the destination when complete.
#pragma once

#include <string>
#include <string_view>

namespace lpusim {

// Throws InputError naming `path` when its directory does not exist or is not writable, so that
// commands fail before doing any work.
void check_output_path(const std::string& path, std::string_view what);

// Writes `content` to `path` atomically (temporary file + rename). Throws InputError naming the
// path on failure, after removing the temporary file.
void write_file_atomically(const std::string& path, std::string_view content);

// The whole file as text. Throws InputError naming the path when it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace lpusim
