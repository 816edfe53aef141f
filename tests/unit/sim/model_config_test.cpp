// Model config loading: the shipped LLaMA shapes load with their published numbers and parameter
// counts, dump -> load is the identity, and shape mistakes are reported at their file:line.
#include "sim/config/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lpusim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kValid = R"(name: test-model
hidden: 8192
ffn: 28672
layers: 80
heads: 64
kv_heads: 8
head_dim: 128
vocab: 32000
max_context: 4096
norm: rmsnorm
mlp: swiglu
position: rope
tied_embeddings: false
quantized: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head]
)";

std::string replace_line(const std::string& text, int line, const std::string& with) {
  std::istringstream in(text);
  std::string out;
  std::string current;
  for (int number = 1; std::getline(in, current); ++number)
    out += (number == line ? with : current) + "\n";
  return out;
}

class ModelConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) / ("lpusim_model_config_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "model.yaml") {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  InputError error_of(const std::string& text) {
    try {
      load_model_config(write(text));
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return InputError("no error");
  }

  fs::path dir_;
};

struct Published {
  const char* name;
  int hidden, ffn, layers, heads, kv_heads, vocab;
  double billions;  // parameter count, published rounding
};

constexpr Published kPublished[] = {
    {"llama2-7b", 4096, 11008, 32, 32, 32, 32000, 6.74},
    {"llama2-13b", 5120, 13824, 40, 40, 40, 32000, 13.0},
    {"llama2-70b", 8192, 28672, 80, 64, 8, 32000, 69.0},
    {"llama3-8b", 4096, 14336, 32, 32, 8, 128256, 8.03},
    {"llama3-70b", 8192, 28672, 80, 64, 8, 128256, 70.6},
};

TEST_F(ModelConfigTest, EveryShippedModel_LoadsAndIsNamedAfterItsFile) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(LPUSIM_SOURCE_DIR) / "configs/models")) {
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(load_model_config(entry.path().string()).name, entry.path().stem().string());
    ++count;
  }
  EXPECT_GE(count, 5);
}

TEST_F(ModelConfigTest, ShippedModels_HaveThePublishedShapesAndParameterCounts) {
  for (const Published& p : kPublished) {
    SCOPED_TRACE(p.name);
    const ModelConfig m = load_model_config(p.name);
    EXPECT_EQ(m.hidden, p.hidden);
    EXPECT_EQ(m.ffn, p.ffn);
    EXPECT_EQ(m.layers, p.layers);
    EXPECT_EQ(m.heads, p.heads);
    EXPECT_EQ(m.kv_heads, p.kv_heads);
    EXPECT_EQ(m.vocab, p.vocab);
    EXPECT_EQ(m.head_dim, 128);
    EXPECT_FALSE(m.tied_embeddings);
    const double billions = static_cast<double>(count_parameters(m).total()) / 1e9;
    EXPECT_NEAR(billions, p.billions, 0.01 * p.billions);  // published figures are rounded
  }
}

TEST_F(ModelConfigTest, Llama2_70b_LinearLayersHaveTheirShapes) {
  const ModelConfig m = load_model_config("llama2-70b");
  const std::vector<LinearLayer> layers = linear_layers(m);
  ASSERT_EQ(layers.size(), 8u);
  EXPECT_EQ(layers[0].name, "q_proj");
  EXPECT_EQ(layers[0].out_features, 8192);
  EXPECT_EQ(layers[1].name, "k_proj");
  EXPECT_EQ(layers[1].out_features, 1024);  // 8 kv heads x 128
  EXPECT_EQ(layers[6].name, "down_proj");
  EXPECT_EQ(layers[6].out_features, 8192);
  EXPECT_EQ(layers[6].in_features, 28672);
  EXPECT_EQ(layers[6].count, 80);
  EXPECT_EQ(layers[7].name, "lm_head");
  EXPECT_EQ(layers[7].parameters(), 32000 * 8192);
  for (const LinearLayer& layer : layers) EXPECT_TRUE(layer.quantized) << layer.name;
  const ParameterCount count = count_parameters(m);
  EXPECT_EQ(count.linear,
            80LL * (2 * 8192 * 8192 + 2 * 1024 * 8192 + 3 * 28672 * 8192) + 32000LL * 8192);
  EXPECT_EQ(count.embeddings, 32000LL * 8192);
  EXPECT_EQ(count.norms, 161LL * 8192);
  EXPECT_FALSE(m.is_quantized("embed_tokens"));
}

TEST_F(ModelConfigTest, TiedEmbeddings_AreCountedOnce) {
  const ModelConfig m = load_model_config(write(replace_line(kValid, 13, "tied_embeddings: true")));
  EXPECT_EQ(count_parameters(m).embeddings, 0);
}

TEST_F(ModelConfigTest, QuantizedList_DefaultsToEveryLinearLayer) {
  const ModelConfig m = load_model_config(write(replace_line(kValid, 14, "")));
  EXPECT_EQ(m.quantized.size(), 8u);
  EXPECT_TRUE(m.is_quantized("lm_head"));
  const ModelConfig some =
      load_model_config(write(replace_line(kValid, 14, "quantized: [gate_proj, up_proj]")));
  EXPECT_TRUE(some.is_quantized("up_proj"));
  EXPECT_FALSE(some.is_quantized("q_proj"));
}

TEST_F(ModelConfigTest, EveryShippedModel_DumpThenLoad_IsIdentical) {
  for (const Published& p : kPublished) {
    const ModelConfig original = load_model_config(p.name);
    const std::string dump = dump_model_config(original);
    const ModelConfig reloaded = load_model_config(write(dump, "dump.yaml"));
    const std::string again = dump_model_config(reloaded);
    EXPECT_EQ(again.substr(again.find('\n')), dump.substr(dump.find('\n'))) << p.name;
    EXPECT_EQ(reloaded.hidden, original.hidden);
    EXPECT_EQ(reloaded.quantized, original.quantized);
    EXPECT_EQ(reloaded.max_context, original.max_context);
  }
}

TEST_F(ModelConfigTest, HiddenNotHeadsTimesHeadDim_IsReportedAtHidden) {
  const InputError e = error_of(replace_line(kValid, 2, "hidden: 8190"));
  EXPECT_EQ(e.where().line, 2);
  EXPECT_THAT(e.what(),
              HasSubstr(":2: hidden: expected heads x head_dim = 64 x 128 = 8192, got \"8190\""));
}

TEST_F(ModelConfigTest, KvHeadsNotDividingHeads_IsReportedAtKvHeads) {
  const InputError e = error_of(replace_line(kValid, 6, "kv_heads: 7"));
  EXPECT_EQ(e.where().line, 6);
  EXPECT_THAT(e.what(), HasSubstr(":6: kv_heads: expected a divisor of heads (64), got \"7\""));
}

TEST_F(ModelConfigTest, ZeroValues_AreOutOfRange) {
  const InputError e = error_of(replace_line(kValid, 4, "layers: 0"));
  EXPECT_EQ(e.where().line, 4);
  EXPECT_THAT(e.what(), HasSubstr("layers: expected a whole number in [1, 1024], got \"0\""));
  EXPECT_EQ(error_of(replace_line(kValid, 6, "kv_heads: 0")).where().line, 6);
}

TEST_F(ModelConfigTest, UnknownKey_SuggestsTheClosest) {
  const InputError e = error_of(replace_line(kValid, 6, "kv_head: 8"));
  EXPECT_EQ(e.where().line, 6);
  EXPECT_THAT(e.what(), HasSubstr("kv_head: unknown key; did you mean `kv_heads`?"));
}

TEST_F(ModelConfigTest, MissingKey_NamesTheFileAndKey) {
  const InputError e = error_of(replace_line(kValid, 3, ""));
  EXPECT_EQ(e.where().key, "ffn");
  EXPECT_THAT(e.what(), HasSubstr("model.yaml: ffn: missing required key"));
}

TEST_F(ModelConfigTest, BadEnumBoolAndTensorName_AreErrors) {
  EXPECT_THAT(error_of(replace_line(kValid, 10, "norm: layernorm")).what(),
              HasSubstr(":10: norm: expected one of rmsnorm, got \"layernorm\""));
  EXPECT_THAT(error_of(replace_line(kValid, 13, "tied_embeddings: no")).what(),
              HasSubstr(":13: tied_embeddings: expected true or false, got \"no\""));
  EXPECT_THAT(error_of(replace_line(kValid, 14, "quantized: [q_proj, qkv]")).what(),
              HasSubstr(":14: quantized: expected a list of names from q_proj|"));
  EXPECT_THAT(error_of(replace_line(kValid, 14, "quantized: [q_proj, q_proj]")).what(),
              HasSubstr("\"q_proj\" is listed twice"));
  EXPECT_THAT(error_of(replace_line(kValid, 14, "quantized: q_proj")).what(),
              HasSubstr("got \"q_proj\""));
}

TEST_F(ModelConfigTest, Describe_ListsEveryKey_AndTheDocHasTheTable) {
  const std::string text = describe_model_keys();
  for (const KeySpec& spec : model_key_catalogue())
    EXPECT_THAT(text, HasSubstr(std::string(spec.path) + "  [")) << spec.path;
  std::ifstream in(fs::path(LPUSIM_SOURCE_DIR) / "docs/CONFIG.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(doc, HasSubstr(describe_model_keys(DescribeFormat::kMarkdown)))
      << "regenerate docs/CONFIG.md's table with `lpusim config --describe --format markdown`";
}

}  // namespace
}  // namespace lpusim
