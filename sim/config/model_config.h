// LLM shapes: the catalogue of model keys, loading configs/models/*.yaml into a validated
// ModelConfig, and the linear layers (with parameter counts) a decoder-only LLaMA model runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/config_file.h"

namespace lpusim {

enum class NormKind { kRmsNorm };
enum class MlpKind { kSwiGlu };       // down(silu(gate(x)) * up(x))
enum class PositionKind { kRotary };  // RoPE on q and k

// A decoder-only transformer's shape (LLaMA family), every number from the YAML.
struct ModelConfig {
  std::string name;
  std::string source;   // file it was loaded from
  int hidden = 0;       // model width d
  int ffn = 0;          // MLP inner width
  int layers = 0;       // decoder blocks
  int heads = 0;        // query heads
  int kv_heads = 0;     // key/value heads (grouped-query attention when < heads)
  int head_dim = 0;     // width of one head; hidden == heads * head_dim
  int vocab = 0;        // tokens in the vocabulary
  int max_context = 0;  // longest context the model was trained for, in tokens
  NormKind norm = NormKind::kRmsNorm;
  MlpKind mlp = MlpKind::kSwiGlu;
  PositionKind position = PositionKind::kRotary;
  bool tied_embeddings = false;        // the LM head reuses the embedding matrix
  std::vector<std::string> quantized;  // tensor names stored in the chosen weight format

  // True when tensor `name` (e.g. "q_proj", "lm_head", "embed_tokens") is quantized.
  bool is_quantized(std::string_view name) const;
};

// One kind of linear layer: weight [out_features, in_features] (PyTorch layout), `count` times.
struct LinearLayer {
  std::string name;  // "q_proj", ..., "lm_head"
  std::int64_t out_features = 0;
  std::int64_t in_features = 0;
  std::int64_t count = 0;  // instances in the model: `layers`, or 1 for the LM head
  bool quantized = false;

  std::int64_t parameters() const { return out_features * in_features * count; }
};

// Parameters by kind; total() is the model's parameter count.
struct ParameterCount {
  std::int64_t linear = 0;      // every linear layer, LM head included
  std::int64_t embeddings = 0;  // token embeddings (0 when tied to the LM head)
  std::int64_t norms = 0;       // RMSNorm weights: two per block plus the final norm
  std::int64_t total() const { return linear + embeddings + norms; }
};

// Every model key (path, kind, default, range, example, meaning), in dump order.
const KeyCatalogue& model_key_catalogue();

// Loads a model file, or a name such as "llama2-70b" (configs/models/<name>.yaml; see
// resolve_config_path). Validates like hardware configs, plus: hidden == heads * head_dim and
// kv_heads divides heads, errors located at the offending key's file:line.
ModelConfig load_model_config(const std::string& path_or_name,
                              const std::vector<std::string>& overrides = {});

// YAML text of every key of `model`; loading it gives the same model.
std::string dump_model_config(const ModelConfig& model);

// Every model key with unit, default, range and meaning (kMarkdown: docs/CONFIG.md's table).
std::string describe_model_keys(DescribeFormat format = DescribeFormat::kText);

// The linear layers of one decoder block (q, k, v, o, gate, up, down) and the LM head.
std::vector<LinearLayer> linear_layers(const ModelConfig& model);

ParameterCount count_parameters(const ModelConfig& model);

}  // namespace lpusim
