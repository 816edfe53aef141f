// Stable hashing of sweep points: FNV-1a 64 over a canonical text, printed as 16 hex digits.
// The value depends only on the bytes hashed, so it is the same on every run and machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lpusim {

// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the bytes of `text`.
std::uint64_t fnv1a64(std::string_view text);

// `value` as 16 lower-case hex digits, zero-padded.
std::string hex64(std::uint64_t value);

}  // namespace lpusim
