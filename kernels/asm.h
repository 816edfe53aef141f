// The `.lpuasm` text form of a Program (docs/ISA.md "Text form"): one directive or instruction
// per line, `key=value` operands, `#` comments. Writing then reading gives the same Program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/program.h"

namespace lpusim {

// Caps on what a `.lpuasm` text may declare; each drives a loop or an allocation in the reader or
// the simulator, so a number in the file cannot make lpusim allocate without bound.
struct AsmLimits {
  // A semaphore's init= (its starting count) and the sum over all semaphores.
  static constexpr std::uint32_t kMaxSemaphoreInit = 65535;
  static constexpr std::uint64_t kMaxTotalSemaphoreInit = 1u << 20;
  static constexpr std::size_t kMaxSemaphores = 65536;
  static constexpr std::size_t kMaxTags = 65536;
  // Instructions over all queues: ~100 bytes each in memory, so at most ~400 MB.
  static constexpr std::size_t kMaxInstructions = 1u << 22;
};

// The program as `.lpuasm` text: declarations first, then one `.queue` section per non-empty
// queue. Strides equal to the contiguous defaults are left out.
std::string write_asm(const Program& program);

// Parses `.lpuasm` text. `filename` only names the source in messages. Every malformed line, and
// the line that passes one of AsmLimits, throws InputError "filename:line: expected ..., got ...";
// the result passes validate_program.
Program read_asm(std::string_view text, const std::string& filename);

}  // namespace lpusim
