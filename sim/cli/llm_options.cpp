#include "sim/cli/llm_options.h"

#include <CLI/CLI.hpp>

#include "sim/cli/cli_common.h"

namespace lpusim {

void add_llm_options(CLI::App& command, LlmOptions& options) {
  command.add_option("--model", options.model,
                     "model: a file, or a name in configs/models (default llama2-70b)");
  command.add_option(
      "--group-size", options.group_size,
      "weights per scale/offset group, or per-channel (default: per-channel for int8, 128 for "
      "the sub-byte formats)");
  add_integer_option(command, "--batch", options.batch, 1, kMaxBatch,
                     "sequences decoded together (default 1)");
  add_integer_option(command, "--context", options.context, 0, kMaxContext,
                     "tokens already in the KV cache at the decode step (default 2048)");
  add_integer_option(command, "--prompt", options.prompt, 1, kMaxPrompt,
                     "prompt tokens of the prefill (default 128)");
  command.add_option("--kv-format", options.kv_format, "KV cache: fp16 or int8 (default fp16)");
}

}  // namespace lpusim
