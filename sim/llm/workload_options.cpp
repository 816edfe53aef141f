#include "sim/llm/workload_options.h"

#include "kernels/error.h"
#include "sim/config/flag_values.h"
#include "sim/config/model_config.h"

namespace lpusim {

namespace {

void check_positive(const char* flag, std::uint64_t value) {
  if (value == 0) throw InputError(SourceLocation{"", 0, flag}, "expected at least 1, got 0");
}

}  // namespace

int default_group_size(const WeightFormat& format) {
  constexpr int kSubByteGroup = 128;
  return !format.is_float() && format.max_bits() >= 8 ? kPerChannel : kSubByteGroup;
}

std::string group_size_label(int group_size) {
  return group_size == kPerChannel ? "per-channel" : "g" + std::to_string(group_size);
}

WorkloadSpec LlmOptions::spec(const std::string& quant) const {
  check_positive("--batch", batch);
  check_positive("--prompt", prompt);
  WorkloadSpec spec;
  spec.model = load_model_config(model);
  spec.format = parse_format(quant);
  spec.group_size =
      group_size.empty() ? default_group_size(spec.format) : parse_group_size_flag(group_size);
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

}  // namespace lpusim
