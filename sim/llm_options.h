// Options shared by `lpusim run` and `lpusim compare`: model, weight format, group size, batch,
// context, prompt and KV-cache format, validated into a WorkloadSpec.
#pragma once

#include <cstdint>
#include <string>

#include "sim/workload.h"

namespace CLI {
class App;
}

namespace lpusim {

struct LlmOptions {
  std::string model = "llama2-70b";
  std::string group_size = "128";
  std::uint64_t batch = 1;
  std::uint64_t context = 2048;
  std::uint64_t prompt = 128;
  std::string kv_format = "fp16";

  // The spec for one weight format; throws InputError for zero batch/prompt or bad names.
  WorkloadSpec spec(const std::string& quant) const;
};

void add_llm_options(CLI::App& command, LlmOptions& options);

}  // namespace lpusim
