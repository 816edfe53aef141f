// The `.lpuasm` text form of a Program (docs/ISA.md "Text form"): one directive or instruction
// per line, `key=value` operands, `#` comments. Writing then reading gives the same Program.
#pragma once

#include <string>
#include <string_view>

#include "kernels/program.h"

namespace lpusim {

// The program as `.lpuasm` text: declarations first, then one `.queue` section per non-empty
// queue. Strides equal to the contiguous defaults are left out.
std::string write_asm(const Program& program);

// Parses `.lpuasm` text. `filename` only names the source in messages. Every malformed line
// throws InputError "filename:line: expected ..., got ..."; the result passes validate_program.
Program read_asm(std::string_view text, const std::string& filename);

}  // namespace lpusim
