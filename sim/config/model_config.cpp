// The model key catalogue (one row per key: spec, store, read back), the loader with the shape
// cross-checks, and the linear layers of a LLaMA-style decoder with their parameter counts.
#include "sim/config/model_config.h"

#include <fmt/format.h>

#include <algorithm>

namespace lpusim {
namespace {

using Setter = void (*)(ModelConfig&, const KeyValue&);
using Getter = KeyValue (*)(const ModelConfig&);

struct ModelKey {
  KeySpec spec;
  Setter set;
  Getter get;
};

KeyValue number(double value) { return KeyValue{value, {}, {}}; }
KeyValue text(std::string value) { return KeyValue{0, std::move(value), {}}; }
int as_int(const KeyValue& value) { return static_cast<int>(value.number); }

constexpr std::string_view kTensorNames =
    "q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|lm_head|embed_tokens";

// clang-format off
const ModelKey kModelKeys[] = {
  {{"name", KeyKind::kString, "", 0, false, 0, "", "llama2-70b",
    "Short name of the model, shown in reports.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.name = v.text; },
   [](const ModelConfig& m) { return text(m.name); }},
  {{"hidden", KeyKind::kCount, "", 1, false, 131072, "", "8192",
    "Model width (hidden size); must equal heads x head_dim.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.hidden = as_int(v); },
   [](const ModelConfig& m) { return number(m.hidden); }},
  {{"ffn", KeyKind::kCount, "", 1, false, 524288, "", "28672",
    "Inner width of the MLP (intermediate size).", ""},
   [](ModelConfig& m, const KeyValue& v) { m.ffn = as_int(v); },
   [](const ModelConfig& m) { return number(m.ffn); }},
  {{"layers", KeyKind::kCount, "", 1, false, 1024, "", "80",
    "Decoder blocks.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.layers = as_int(v); },
   [](const ModelConfig& m) { return number(m.layers); }},
  {{"heads", KeyKind::kCount, "", 1, false, 1024, "", "64",
    "Query heads of the attention.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.heads = as_int(v); },
   [](const ModelConfig& m) { return number(m.heads); }},
  {{"kv_heads", KeyKind::kCount, "", 1, false, 1024, "", "8",
    "Key/value heads (grouped-query attention when fewer than heads); must divide heads.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.kv_heads = as_int(v); },
   [](const ModelConfig& m) { return number(m.kv_heads); }},
  {{"head_dim", KeyKind::kCount, "", 1, false, 4096, "", "128",
    "Width of one attention head.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.head_dim = as_int(v); },
   [](const ModelConfig& m) { return number(m.head_dim); }},
  {{"vocab", KeyKind::kCount, "", 1, false, 1048576, "", "32000",
    "Tokens in the vocabulary (rows of the embedding and the LM head).", ""},
   [](ModelConfig& m, const KeyValue& v) { m.vocab = as_int(v); },
   [](const ModelConfig& m) { return number(m.vocab); }},
  {{"max_context", KeyKind::kCount, "", 1, false, 16777216, "", "4096",
    "Longest context the model was trained for, in tokens.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.max_context = as_int(v); },
   [](const ModelConfig& m) { return number(m.max_context); }},
  {{"norm", KeyKind::kEnum, "", 0, false, 0, "rmsnorm", "rmsnorm",
    "Normalisation before attention, before the MLP and before the LM head.", ""},
   [](ModelConfig& m, const KeyValue&) { m.norm = NormKind::kRmsNorm; },
   [](const ModelConfig&) { return text("rmsnorm"); }},
  {{"mlp", KeyKind::kEnum, "", 0, false, 0, "swiglu", "swiglu",
    "MLP kind: swiglu is down(silu(gate(x)) * up(x)).", ""},
   [](ModelConfig& m, const KeyValue&) { m.mlp = MlpKind::kSwiGlu; },
   [](const ModelConfig&) { return text("swiglu"); }},
  {{"position", KeyKind::kEnum, "", 0, false, 0, "rope", "rope",
    "Position encoding: rope rotates q and k (rotary embeddings).", ""},
   [](ModelConfig& m, const KeyValue&) { m.position = PositionKind::kRotary; },
   [](const ModelConfig&) { return text("rope"); }},
  {{"tied_embeddings", KeyKind::kBool, "", 0, false, 0, "", "false",
    "Whether the LM head reuses the token embedding matrix.", ""},
   [](ModelConfig& m, const KeyValue& v) { m.tied_embeddings = v.text == "true"; },
   [](const ModelConfig& m) { return text(m.tied_embeddings ? "true" : "false"); }},
  {{"quantized", KeyKind::kNameList,
    "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head]", 0, false, 0,
    kTensorNames, "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head]",
    "Tensors stored in the chosen weight format; the others (norms, and embed_tokens unless "
    "listed) stay fp16. Only the looked-up rows of embed_tokens are read.",
    "every linear layer including the LM head, embeddings fp16."},
   [](ModelConfig& m, const KeyValue& v) { m.quantized = v.names; },
   [](const ModelConfig& m) { return KeyValue{0, {}, m.quantized}; }},
};
// clang-format on

// Where `path` was written; keys checked here are required, so they are always written.
const SourceLocation& where_of(const ConfigEntries& entries, std::string_view path) {
  return entries.find(path)->second.where;
}

// Cross-key rules the catalogue's per-key ranges cannot express.
void check_shape(const ModelConfig& model, const ConfigEntries& entries) {
  if (static_cast<std::int64_t>(model.heads) * model.head_dim != model.hidden) {
    throw InputError(
        where_of(entries, "hidden"),
        fmt::format("expected heads x head_dim = {} x {} = {}, got \"{}\"", model.heads,
                    model.head_dim, static_cast<std::int64_t>(model.heads) * model.head_dim,
                    model.hidden));
  }
  if (model.heads % model.kv_heads != 0) {
    throw InputError(
        where_of(entries, "kv_heads"),
        fmt::format("expected a divisor of heads ({}), got \"{}\"", model.heads, model.kv_heads));
  }
}

}  // namespace

bool ModelConfig::is_quantized(std::string_view tensor) const {
  return std::find(quantized.begin(), quantized.end(), tensor) != quantized.end();
}

const KeyCatalogue& model_key_catalogue() {
  static const KeyCatalogue catalogue = [] {
    KeyCatalogue specs;
    for (const ModelKey& key : kModelKeys) specs.push_back(key.spec);
    return specs;
  }();
  return catalogue;
}

ModelConfig load_model_config(const std::string& path_or_name,
                              const std::vector<std::string>& overrides) {
  const std::string path = resolve_config_path(path_or_name, "models");
  ConfigEntries entries = read_config_file(path, model_key_catalogue());
  apply_overrides(entries, overrides, model_key_catalogue());
  ModelConfig model;
  model.source = path;
  for (const std::size_t i : check_order(entries, model_key_catalogue())) {
    const ConfigEntry entry = entry_or_default(entries, kModelKeys[i].spec, path);
    kModelKeys[i].set(model, parse_key(kModelKeys[i].spec, entry, Hertz{}));
  }
  check_shape(model, entries);
  return model;
}

std::string dump_model_config(const ModelConfig& model) {
  std::map<std::string, KeyValue, std::less<>> values;
  for (const ModelKey& key : kModelKeys) values[std::string(key.spec.path)] = key.get(model);
  const std::string from = model.source.empty() ? "" : " loaded from " + model.source;
  return dump_config(model_key_catalogue(), values,
                     fmt::format("lpusim effective model config{}", from));
}

std::string describe_model_keys(DescribeFormat format) {
  return describe_catalogue(model_key_catalogue(), format);
}

std::vector<LinearLayer> linear_layers(const ModelConfig& m) {
  const std::int64_t q_width = static_cast<std::int64_t>(m.heads) * m.head_dim;
  const std::int64_t kv_width = static_cast<std::int64_t>(m.kv_heads) * m.head_dim;
  const auto layer = [&](const char* name, std::int64_t out, std::int64_t in, std::int64_t count) {
    return LinearLayer{name, out, in, count, m.is_quantized(name)};
  };
  return {
      layer("q_proj", q_width, m.hidden, m.layers),  layer("k_proj", kv_width, m.hidden, m.layers),
      layer("v_proj", kv_width, m.hidden, m.layers), layer("o_proj", m.hidden, q_width, m.layers),
      layer("gate_proj", m.ffn, m.hidden, m.layers), layer("up_proj", m.ffn, m.hidden, m.layers),
      layer("down_proj", m.hidden, m.ffn, m.layers), layer("lm_head", m.vocab, m.hidden, 1),
  };
}

ParameterCount count_parameters(const ModelConfig& model) {
  ParameterCount count;
  for (const LinearLayer& layer : linear_layers(model)) count.linear += layer.parameters();
  const std::int64_t embedding = static_cast<std::int64_t>(model.vocab) * model.hidden;
  count.embeddings = model.tied_embeddings ? 0 : embedding;
  count.norms = (2 * static_cast<std::int64_t>(model.layers) + 1) * model.hidden;
  return count;
}

}  // namespace lpusim
