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

// Workload ranges, the same for the flags and for sweep files: positions are 32-bit signed token
// indices; a batch beyond 65,536 sequences is outside anything the program builder sizes
// buffers for.
inline constexpr std::uint64_t kMaxBatch = 65536;
inline constexpr std::uint64_t kMaxPrompt = (1ull << 31) - 1;
inline constexpr std::uint64_t kMaxContext = kMaxPrompt - 1;

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
