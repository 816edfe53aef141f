// The flags of `lpusim run` and `lpusim compare` that fill an LlmOptions: --model, --group-size,
// --batch, --context, --prompt and --kv-format.
#pragma once

#include <cstdint>
#include <string>

#include "sim/llm/workload_options.h"

namespace CLI {
class App;
}

namespace lpusim {

void add_llm_options(CLI::App& command, LlmOptions& options);

}  // namespace lpusim
