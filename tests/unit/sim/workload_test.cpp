// The workload builder: bytes and MACs equal their analytic sums for every format, every layer is
// emitted alike, every weight is read exactly once, resident models that do not fit are a clear
// error, and the same spec always gives the same program.
#include "sim/llm/workload.h"
#include "tests/support/tiny_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>

#include "kernels/error.h"
#include "sim/config/hw_config.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr std::uint64_t kF16 = 2;

using testing::tiny_model;

ModelConfig shipped_model(const std::string& name) {
  return load_model_config(std::string(LPUSIM_SOURCE_DIR) + "/configs/models/" + name + ".yaml");
}

WorkloadSpec spec_of(const ModelConfig& model, const std::string& format,
                     Phase phase = Phase::kDecode) {
  WorkloadSpec s;
  s.model = model;
  s.format = parse_format(format);
  s.phase = phase;
  s.context = 100;
  s.prompt = 16;
  return s;
}

const HwConfig& chip() {
  static const HwConfig hw = testing::round_number_chip();
  return hw;
}

std::uint64_t rows_of(const WorkloadSpec& s) {
  return s.batch * (s.phase == Phase::kDecode ? 1 : s.prompt);
}

// Codes + 2 x 2 bytes x rows x groups per linear layer, the norms, the looked-up embedding rows.
std::uint64_t analytic_weight_bytes(const WorkloadSpec& s) {
  const ModelConfig& m = s.model;
  const WeightFormat fp16 = parse_format("fp16");
  std::uint64_t bytes = 0;
  for (const LinearLayer& l : linear_layers(m)) {
    const WeightFormat& f = l.quantized ? s.format : fp16;
    const auto rows = static_cast<std::uint64_t>(l.out_features);
    const auto k = static_cast<std::uint64_t>(l.in_features);
    const std::uint64_t groups = (k + s.group_size - 1) / s.group_size;
    const std::uint64_t meta = f.is_float() ? 0 : 2 * kF16 * rows * groups;
    bytes += static_cast<std::uint64_t>(l.count) * (rows * f.row_bytes(k) + meta);
  }
  const auto hidden = static_cast<std::uint64_t>(m.hidden);
  bytes += (2 * static_cast<std::uint64_t>(m.layers) + 1) * hidden * kF16;
  return bytes + rows_of(s) * hidden * kF16;
}

std::uint64_t analytic_kv_bytes(const WorkloadSpec& s) {
  const ModelConfig& m = s.model;
  const std::uint64_t per_token = s.kv == KvFormat::kInt8
                                      ? static_cast<std::uint64_t>(m.head_dim) + kF16
                                      : static_cast<std::uint64_t>(m.head_dim) * kF16;
  return 2 * static_cast<std::uint64_t>(m.layers) * s.batch *
         static_cast<std::uint64_t>(m.kv_heads) * s.context * per_token;
}

TEST(Workload, WeightBytes_EqualAnalyticSumForEveryFormat) {
  for (const char* format : {"int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5", "fp16"}) {
    for (const Phase phase : {Phase::kDecode, Phase::kPrefill}) {
      const WorkloadSpec s = spec_of(tiny_model(), format, phase);
      EXPECT_EQ(build_workload(s, chip()).weight_bytes, analytic_weight_bytes(s)) << format;
    }
  }
}

TEST(Workload, WeightBytes_CountUnquantizedLayersAsFp16) {
  WorkloadSpec s = spec_of(tiny_model(), "int4");
  s.model.quantized = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"};
  s.group_size = 64;
  EXPECT_EQ(build_workload(s, chip()).weight_bytes, analytic_weight_bytes(s));
}

// Bytes LOADed per region name.
std::map<std::string, std::uint64_t> loads_by_region(const Program& p) {
  std::map<std::string, std::uint64_t> bytes;
  for (const Instruction& inst : p.queue(Unit::kMem)) {
    if (inst.opcode == Opcode::kLoad) bytes[p.regions[inst.a.space].name] += inst.transfer_bytes();
  }
  return bytes;
}

TEST(Workload, Streamed_EveryWeightRegionIsLoadedExactlyOnce) {
  const Workload w = build_workload(spec_of(tiny_model(), "q3.5"), chip());
  const std::map<std::string, std::uint64_t> loaded = loads_by_region(w.program);
  int weight_regions = 0;
  for (const RegionDecl& r : w.program.regions) {
    const std::string& n = r.name;
    const bool weight =
        n.find(".qweight") != std::string::npos || n.find(".scales") != std::string::npos ||
        n.find(".offsets") != std::string::npos || n.find("norm") != std::string::npos;
    if (!weight) continue;
    ++weight_regions;
    EXPECT_EQ(loaded.count(n) ? loaded.at(n) : 0, r.bytes) << n;
  }
  // 7 linear layers x 2 layers + LM head, 3 tensors each; 2 norms per layer + the final norm.
  EXPECT_EQ(weight_regions, 15 * 3 + 5);
}

TEST(Workload, Q35OverInt4_WeightBytesRatioIs3p75Over4p25) {
  const ModelConfig model = shipped_model("llama2-7b");
  const double q35 =
      static_cast<double>(build_workload(spec_of(model, "q3.5"), chip()).weight_bytes);
  const double int4 =
      static_cast<double>(build_workload(spec_of(model, "int4"), chip()).weight_bytes);
  EXPECT_NEAR(q35 / int4, 3.75 / 4.25, 0.001 * 3.75 / 4.25);
}

TEST(Workload, KvBytes_AreTwoTensorsPerLayerOfTheWholeContext) {
  for (const KvFormat kv : {KvFormat::kFp16, KvFormat::kInt8}) {
    WorkloadSpec s = spec_of(tiny_model(), "int4");
    s.kv = kv;
    s.batch = 3;
    s.context = 77;
    const Workload w = build_workload(s, chip());
    EXPECT_EQ(w.kv_bytes, analytic_kv_bytes(s));
    const std::uint64_t per_token = kv == KvFormat::kInt8 ? 64 + kF16 : 64 * kF16;
    EXPECT_EQ(w.kv_write_bytes, 2 * 2 * 3 * 2 * per_token);  // layers x batch x kv heads, 1 token
    EXPECT_EQ(w.tokens, 3u);
  }
}

TEST(Workload, Llama2_70b_Decode_BytesMatchTheModel) {
  WorkloadSpec s = spec_of(shipped_model("llama2-70b"), "int4");
  s.context = 2048;
  const Workload w = build_workload(s, load_hw_config("seed-80gbps"));
  EXPECT_EQ(w.weight_bytes, analytic_weight_bytes(s));
  EXPECT_EQ(w.kv_bytes, 2ull * 80 * 1 * 8 * 2048 * 128 * 2);
  EXPECT_LT(w.program.instruction_count(), 1'000'000u);
}

TEST(Workload, Macs_AreEveryGemmPlusQktAndPv) {
  for (const Phase phase : {Phase::kDecode, Phase::kPrefill}) {
    WorkloadSpec s = spec_of(tiny_model(), "int4", phase);
    s.batch = 2;
    const std::uint64_t rows = rows_of(s);
    std::uint64_t macs = 0;
    for (const LinearLayer& l : linear_layers(s.model)) {
      const std::uint64_t m = l.name == "lm_head" ? s.batch : rows;
      macs += static_cast<std::uint64_t>(l.count * l.out_features * l.in_features) * m;
    }
    // Per layer and query row: q.k over the keys it sees and p.v over them (all, masked or not).
    const std::uint64_t keys = phase == Phase::kDecode ? s.context + 1 : s.prompt;
    macs += 2 * rows * 4 * keys * 64 * 2;  // layers x rows x heads x keys x head_dim x (QK, PV)
    EXPECT_EQ(build_workload(s, chip()).macs, macs);
  }
}

TEST(Workload, Prefill_StoresThePromptsKvAndReadsNone) {
  WorkloadSpec s = spec_of(tiny_model(), "q3.5", Phase::kPrefill);
  s.batch = 2;
  const Workload w = build_workload(s, chip());
  EXPECT_EQ(w.tokens, 32u);
  EXPECT_EQ(w.kv_bytes, 0u);
  EXPECT_EQ(w.kv_write_bytes, 2ull * 2 * 2 * 2 * 16 * 64 * kF16);
  EXPECT_GE(w.other_bytes, 2ull * 1000 * 4);  // the logits of the last token of each sequence
}

// Instructions per (tag without "layerN.", queue).
using TagCounts = std::map<std::string, std::array<std::uint64_t, kUnitCount>>;
std::vector<TagCounts> counts_per_layer(const Program& p, int layers) {
  std::vector<TagCounts> per(static_cast<std::size_t>(layers));
  for (int q = 0; q < kUnitCount; ++q) {
    for (const Instruction& inst : p.queues[q]) {
      const std::string& tag = p.tags[inst.tag];
      if (tag.rfind("layer", 0) != 0) continue;
      const std::size_t dot = tag.find('.');
      const int layer = std::stoi(tag.substr(5, dot - 5));
      ++per.at(static_cast<std::size_t>(layer))[tag.substr(dot + 1)][q];
    }
  }
  return per;
}

TEST(Workload, EveryLayer_IsEmittedWithTheSameInstructionCounts) {
  for (const Phase phase : {Phase::kDecode, Phase::kPrefill}) {
    const Workload w = build_workload(spec_of(tiny_model(5), "q3.5", phase), chip());
    const std::vector<TagCounts> per = counts_per_layer(w.program, 5);
    ASSERT_GE(per[0].size(), 10u);  // norms, q k v o, rope, core, residual, gate up down, silu
    for (int l = 1; l < 5; ++l) EXPECT_EQ(per[static_cast<std::size_t>(l)], per[0]) << l;
  }
}

TEST(Workload, EveryInstruction_CarriesATagOfAKnownKind) {
  const Workload w = build_workload(spec_of(tiny_model(), "int4"), chip());
  std::map<std::string, std::uint64_t> kinds;
  for (const auto& queue : w.program.queues) {
    for (const Instruction& inst : queue) {
      ASSERT_NE(inst.tag, 0u);
      ++kinds[std::string(layer_kind_of_tag(w.program.tags[inst.tag]))];
    }
  }
  for (const char* kind : {"attention", "mlp", "lm_head", "norm", "embedding", "other"}) {
    EXPECT_GT(kinds[kind], 0u) << kind;
  }
  EXPECT_EQ(kinds.size(), 6u);
}

TEST(LayerKind, TagsMapToTheBreakdownOfIssue4) {
  EXPECT_EQ(layer_kind_of_tag("layer12.attn.q"), "attention");
  EXPECT_EQ(layer_kind_of_tag("layer12.attn.core"), "attention");
  EXPECT_EQ(layer_kind_of_tag("layer3.attn.rope"), "attention");
  EXPECT_EQ(layer_kind_of_tag("attn.tables"), "attention");
  EXPECT_EQ(layer_kind_of_tag("layer12.mlp.down"), "mlp");
  EXPECT_EQ(layer_kind_of_tag("layer0.mlp.silu"), "mlp");
  EXPECT_EQ(layer_kind_of_tag("layer12.attn_norm"), "norm");
  EXPECT_EQ(layer_kind_of_tag("final_norm"), "norm");
  EXPECT_EQ(layer_kind_of_tag("lm_head"), "lm_head");
  EXPECT_EQ(layer_kind_of_tag("embedding"), "embedding");
  EXPECT_EQ(layer_kind_of_tag("layer1.residual"), "other");
  EXPECT_EQ(layer_kind_of_tag(""), "other");
}

TEST(Workload, SameSpecTwice_IdenticalProgram) {
  for (const Phase phase : {Phase::kDecode, Phase::kPrefill}) {
    const WorkloadSpec s = spec_of(tiny_model(), "q3.5", phase);
    EXPECT_EQ(build_workload(s, chip()).program, build_workload(s, chip()).program);
  }
}

TEST(Workload, ResidentModelTooBigForSram_NamesBytesNeededAndAvailable) {
  const WorkloadSpec s = spec_of(shipped_model("llama2-70b"), "int4");
  const HwConfig hw = load_hw_config("groq-tsp-v1");
  ASSERT_EQ(hw.weights, WeightPlacement::kResident);
  try {
    build_workload(s, hw);
    FAIL() << "expected a SimulationError";
  } catch (const SimulationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("model llama2-70b in format int4 needs " +
                           std::to_string(resident_weight_bytes(s)) + " bytes"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("GiB) of SRAM for resident weights"), std::string::npos) << message;
    EXPECT_NE(message.find("chip groq-tsp-v1 has 230686720 bytes (220 MiB)"), std::string::npos)
        << message;
  }
}

TEST(Workload, ResidentTinyModel_ReadsOnlyTheEmbeddingRows) {
  HwConfig hw = chip();
  hw.weights = WeightPlacement::kResident;
  const WorkloadSpec s = spec_of(tiny_model(), "int4");
  const Workload w = build_workload(s, hw);
  const std::uint64_t embedding_rows = 256 * kF16;
  EXPECT_EQ(w.weight_bytes, embedding_rows);
  EXPECT_EQ(w.resident_bytes, analytic_weight_bytes(s) - embedding_rows);
  EXPECT_EQ(w.resident_bytes, resident_weight_bytes(s));
  // The KV cache fits beside the weights: it stays in SRAM and no KV byte is read from memory.
  EXPECT_TRUE(w.kv_on_chip);
  EXPECT_EQ(w.kv_bytes, 0U);
  EXPECT_EQ(w.kv_write_bytes, 0U);
  std::uint64_t weight_buffers = 0;
  for (const BufferDecl& b : w.program.buffers) {
    const std::string& n = b.name;
    if (n.find("layer") == 0 || n == "lm_head.qweight" || n == "lm_head.scales" ||
        n == "lm_head.offsets" || n == "final_norm") {
      weight_buffers += b.bytes;
    }
  }
  EXPECT_EQ(weight_buffers, w.resident_bytes);
}

// Resident weights of a two-level step: every linear layer holds its codes and the two-level
// metadata its kernel reads (f16 s1 per row, u8 s2 and i8 z per group), not the stored fp16 scales
// and offsets as well; every such buffer is read by an instruction.
TEST(Workload, ResidentTwoLevel_DeclaresOnlyTheBuffersItsKernelReads) {
  HwConfig hw = chip();
  hw.weights = WeightPlacement::kResident;
  WorkloadSpec s = spec_of(tiny_model(), "int4", Phase::kPrefill);
  s.group_kernels = PhaseGroupKernels::both(GroupKernel::kTwoLevel);
  const Workload w = build_workload(s, hw);
  // Codes + 2 bytes per row + 2 bytes per group of every linear layer (fp16 ones: codes only),
  // and the norm weights.
  std::uint64_t expected = 0;
  for (const LinearLayer& l : linear_layers(s.model)) {
    const WeightFormat f = l.quantized ? s.format : parse_format("fp16");
    const auto rows = static_cast<std::uint64_t>(l.out_features);
    const auto k = static_cast<std::uint64_t>(l.in_features);
    const std::uint64_t groups = (k + s.group_size - 1) / s.group_size;
    const std::uint64_t meta = f.is_float() ? 0 : kF16 * rows + 2 * rows * groups;
    expected += static_cast<std::uint64_t>(l.count) * (rows * f.row_bytes(k) + meta);
  }
  const auto hidden = static_cast<std::uint64_t>(s.model.hidden);
  expected += (2 * static_cast<std::uint64_t>(s.model.layers) + 1) * hidden * kF16;
  std::vector<bool> read(w.program.buffers.size(), false);
  for (const std::vector<Instruction>& queue : w.program.queues) {
    for (const Instruction& inst : queue) {
      if (inst.opcode == Opcode::kLoad) continue;  // its `a` is a region
      read[inst.a.space] = true;
      read[inst.b.space] = true;
    }
  }
  std::uint64_t weight_buffers = 0;
  for (std::size_t i = 0; i < w.program.buffers.size(); ++i) {
    const std::string& n = w.program.buffers[i].name;
    const auto ends_with = [&n](const std::string& suffix) {
      return n.size() > suffix.size() &&
             n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    const bool weight =
        (n.rfind("layer", 0) == 0 || n.rfind("lm_head", 0) == 0) &&
        (ends_with(".qweight") || ends_with(".channel_scales") || ends_with(".group_scales") ||
         ends_with(".group_zeros") || ends_with(".scales") || ends_with(".offsets"));
    if (!weight && !ends_with("_norm")) continue;
    EXPECT_EQ(n.find(".scales"), std::string::npos) << n;
    EXPECT_EQ(n.find(".offsets"), std::string::npos) << n;
    EXPECT_TRUE(read[i]) << n << " is declared but no instruction reads it";
    weight_buffers += w.program.buffers[i].bytes;
  }
  EXPECT_EQ(weight_buffers, expected);
  // The per-group step holds the stored scales and offsets instead: 4 bytes per group.
  s.group_kernels = PhaseGroupKernels::both(GroupKernel::kPerGroup);
  EXPECT_GT(build_workload(s, hw).program.sram_bytes(), w.program.sram_bytes());
}

TEST(Workload, BadSpecs_AreInputErrors) {
  WorkloadSpec s = spec_of(tiny_model(), "int4");
  s.batch = 0;
  EXPECT_THROW(build_workload(s, chip()), InputError);
  s = spec_of(tiny_model(), "int4", Phase::kPrefill);
  s.prompt = 0;
  EXPECT_THROW(build_workload(s, chip()), InputError);
  s = spec_of(tiny_model(), "int4");
  s.model.quantized.push_back("embed_tokens");
  EXPECT_THROW(build_workload(s, chip()), InputError);
  EXPECT_THROW(parse_kv_format("int4"), InputError);
  EXPECT_EQ(parse_kv_format("int8"), KvFormat::kInt8);
}

TEST(Workload, BuffersThatDoNotFitSram_AreSimulationErrors) {
  HwConfig hw = chip();
  hw.sram.capacity = Bytes{16u << 10};
  WorkloadSpec s = spec_of(tiny_model(), "int4");
  EXPECT_THROW(build_workload(s, hw), SimulationError);
}

// A context whose keys do not fit SRAM at once runs in key tiles (the attention's online softmax)
// instead of failing.
TEST(Workload, LongContextInSmallSram_RunsInKeyTiles) {
  HwConfig hw = chip();
  hw.sram.capacity = Bytes{1u << 20};
  WorkloadSpec s = spec_of(tiny_model(), "int4");
  s.context = 4000;
  const Workload w = build_workload(s, hw);
  EXPECT_LE(w.program.sram_bytes(), hw.sram.capacity.count);
  std::uint64_t widest = 0;  // keys of the widest QK^T MATMUL (n = keys of its tile)
  for (const Instruction& inst : w.program.queue(Unit::kMxm)) {
    const std::string& tag = w.program.tags[inst.tag];
    const bool attention = tag.size() >= 9 && tag.compare(tag.size() - 9, 9, "attn.core") == 0;
    if (attention && inst.opcode == Opcode::kMatmul &&
        inst.k == static_cast<std::uint32_t>(s.model.head_dim)) {
      widest = std::max<std::uint64_t>(widest, inst.n);
    }
  }
  EXPECT_GT(widest, 0u);
  EXPECT_LT(widest, s.context + 1);
}

}  // namespace
}  // namespace lpusim
