// The text of a command-line flag or a sweep value read as a number: whole numbers, group sizes and
// finite decimals in a range, with the error naming the flag. No command-line library needed.
#pragma once

#include <cstdint>
#include <string_view>

namespace lpusim {

// Integer flags: the text is read as a signed decimal whole number (so "-1" is -1, never 2^64 - 1)
// and must lie in [min, max]; anything else is an InputError (exit 2) naming the flag and the
// range, e.g. `--batch: expected a whole number in [1, 65536], got "-1"`.
std::uint64_t parse_integer_flag(std::string_view flag, std::string_view text, std::uint64_t min,
                                 std::uint64_t max);

// --group-size: "per-channel" (kPerChannel) or a whole number in [1, 2^31 - 1]; anything else is an
// InputError naming the flag and both choices.
int parse_group_size_flag(std::string_view text);

// Floating flags: a finite decimal number in [min, max] (nan, inf and out-of-range values are an
// InputError naming the flag and the range).
double parse_number_flag(std::string_view flag, std::string_view text, double min, double max);

}  // namespace lpusim
