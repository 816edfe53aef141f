// CSV records of one physical line each (RFC 4180 quoting, no line breaks inside a field), so a
// file can be appended a whole line at a time and a torn last line is easy to recognise.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"

namespace lpusim {

// `fields` as one CSV line ending in '\n'. Fields holding a comma or a quote are quoted; line
// breaks and other control characters in a field are replaced by spaces.
std::string csv_line(const std::vector<std::string>& fields);

// The fields of one line (without its '\n'). Throws InputError at `where` for a bad quote.
std::vector<std::string> parse_csv_line(std::string_view line, const SourceLocation& where);

}  // namespace lpusim
