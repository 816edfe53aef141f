// What a user asks of an LLM run, as text and counts: model, group size, batch, context, prompt
// and KV-cache format; validated into a WorkloadSpec for one weight format. Shared by the command
// line and sweep files.
#pragma once

#include <cstdint>
#include <string>

#include "sim/llm/workload.h"
#include "sim/llm/workload_limits.h"

namespace lpusim {

// The group size of a format when none is asked for: per channel for 8-bit codes, which need no
// finer scale, and 128 for the sub-byte formats (and fp16, which has no groups).
int default_group_size(const WeightFormat& format);
// How a report names a group size: "g128", or "per-channel".
std::string group_size_label(int group_size);

struct LlmOptions {
  std::string model = "llama2-70b";
  std::string group_size;  // empty: default_group_size of the weight format
  std::uint64_t batch = 1;
  std::uint64_t context = 2048;
  std::uint64_t prompt = 128;
  std::string kv_format = "fp16";

  // The spec for one weight format; throws InputError for zero batch/prompt or bad names.
  WorkloadSpec spec(const std::string& quant) const;
};

}  // namespace lpusim
