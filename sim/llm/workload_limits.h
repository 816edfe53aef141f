// The ranges of a workload's shape, the same for the command-line flags and for sweep files.
#pragma once

#include <cstdint>

namespace lpusim {

// Workload ranges, the same for the flags and for sweep files: positions are 32-bit signed token
// indices; a batch beyond 65,536 sequences is outside anything the program builder sizes
// buffers for.
inline constexpr std::uint64_t kMaxBatch = 65536;
inline constexpr std::uint64_t kMaxPrompt = (1ull << 31) - 1;
inline constexpr std::uint64_t kMaxContext = kMaxPrompt - 1;

}  // namespace lpusim
