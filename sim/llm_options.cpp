#include "sim/llm_options.h"

#include <CLI/CLI.hpp>

#include "kernels/error.h"
#include "sim/cli_common.h"
#include "sim/model_config.h"

namespace lpusim {

namespace {

void check_positive(const char* flag, std::uint64_t value) {
  if (value == 0) throw InputError(SourceLocation{"", 0, flag}, "expected at least 1, got 0");
}

}  // namespace

WorkloadSpec LlmOptions::spec(const std::string& quant) const {
  check_positive("--batch", batch);
  check_positive("--prompt", prompt);
  WorkloadSpec spec;
  spec.model = load_model_config(model);
  spec.format = parse_format(quant);
  spec.group_size = parse_group_size_flag(group_size);
  spec.batch = batch;
  spec.context = context;
  spec.prompt = prompt;
  spec.kv = parse_kv_format(kv_format);
  const auto limit = static_cast<std::uint64_t>(spec.model.max_context);
  if (context + 1 > limit) {
    throw InputError(SourceLocation{"", 0, "--context"},
                     "expected at most " + std::to_string(limit - 1) + " for " + spec.model.name +
                         " (max_context " + std::to_string(limit) + "), got " +
                         std::to_string(context));
  }
  if (prompt > limit) {
    throw InputError(SourceLocation{"", 0, "--prompt"},
                     "expected at most " + std::to_string(limit) + " for " + spec.model.name +
                         ", got " + std::to_string(prompt));
  }
  return spec;
}

void add_llm_options(CLI::App& command, LlmOptions& options) {
  command.add_option("--model", options.model,
                     "model: a file, or a name in configs/models (default llama2-70b)");
  command.add_option("--group-size", options.group_size,
                     "weights per scale/offset group, or per-channel (default 128)");
  add_integer_option(command, "--batch", options.batch, 1, kMaxBatch,
                     "sequences decoded together (default 1)");
  add_integer_option(command, "--context", options.context, 0, kMaxContext,
                     "tokens already in the KV cache at the decode step (default 2048)");
  add_integer_option(command, "--prompt", options.prompt, 1, kMaxPrompt,
                     "prompt tokens of the prefill (default 128)");
  command.add_option("--kv-format", options.kv_format, "KV cache: fp16 or int8 (default fp16)");
}

}  // namespace lpusim
