// FNV-1a 64 (Fowler/Noll/Vo, as published at isthe.com/chongo/tech/comp/fnv) and its hex form.
// Byte-at-a-time and endianness-free, so hashes match across compilers and machines.
#include "sim/sweep/sweep_hash.h"

#include <fmt/format.h>

namespace lpusim {

namespace {

constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

}  // namespace

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = kFnvOffsetBasis;
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

std::string hex64(std::uint64_t value) { return fmt::format("{:016x}", value); }

}  // namespace lpusim
