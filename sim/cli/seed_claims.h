// The figures the seed report (the claim this project set out to check) gives for LLaMA 70B on a
// "Groq LPU" at 80 GB/s, shown beside lpusim's own so readers see the difference. Data only:
// nothing is fitted to them.
#pragma once

#include <optional>
#include <string_view>

namespace lpusim {

struct SeedClaim {
  double model_size_gb;     // "Model Size Comparison" table
  double percent_of_fp16;   // same table
  double throughput_tok_s;  // "Performance Comparison" table
  double first_token_ms;
  double per_token_ms;
  double weight_transfer_ms;  // "Memory Bandwidth Analysis"
  double power_w;
};

// The seed's claim for a format ("int4" or "q3.5"), if it makes one.
inline std::optional<SeedClaim> seed_claim(std::string_view format) {
  if (format == "int4") return SeedClaim{34.6, 26.6, 3124, 18, 0.32, 0.438, 41};
  if (format == "q3.5") return SeedClaim{32.6, 25.0, 4188, 15, 0.24, 0.238, 38};
  return std::nullopt;
}

// The seed's model: its claims are shown only when comparing on it.
inline constexpr std::string_view kSeedModel = "llama2-70b";

}  // namespace lpusim
