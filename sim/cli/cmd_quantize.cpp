// `lpusim quantize`: quantizes the 2-D float tensors of a safetensors file into the layout of
// docs/FORMATS.md, "Files written by `lpusim quantize`" (NAME.qweight / .scales / .offsets), one
// tensor at a time, written atomically.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/format.h"
#include "kernels/quantizer.h"
#include "sim/cli/cli_common.h"
#include "sim/cli/commands.h"
#include "sim/io/safetensors.h"

namespace lpusim {
namespace {

// Rows quantized together: about this many weights per block (the input stays mapped).
constexpr std::size_t kBlockWeights = std::size_t{1} << 20;

struct QuantizeOptions {
  std::string input;
  std::string quant;
  std::string group_size = std::to_string(kDefaultGroupSize);
  std::string tensors;
  std::string output;
};

// One input tensor and what becomes of it.
struct PlannedTensor {
  const TensorInfo* source = nullptr;
  bool quantized = false;
};

struct QuantizePlan {
  WeightFormat format;
  int group_size = kDefaultGroupSize;
  std::vector<PlannedTensor> tensors;  // in input file order
  std::vector<TensorDeclaration> declarations;
  SafetensorsMetadata metadata;
  std::size_t quantized_count = 0;
};

[[noreturn]] void fail_tensor(const std::string& path, const std::string& tensor,
                              const std::string& message) {
  throw InputError(SourceLocation{path, 0, "tensor '" + tensor + "'"}, message);
}

std::string qweight_name(const std::string& name) { return name + ".qweight"; }
std::string scales_name(const std::string& name) { return name + ".scales"; }
std::string offsets_name(const std::string& name) { return name + ".offsets"; }

// G as stored in the metadata: the number of weights per group actually used (K for per-channel
// and for G > K, where a row is one group).
std::uint64_t effective_group_size(int group_size, std::uint64_t k) {
  if (group_size == kPerChannel) return k;
  return std::min<std::uint64_t>(static_cast<std::uint64_t>(group_size), k);
}

void check_output_path(const QuantizeOptions& options) {
  std::error_code error;
  if (options.input == options.output ||
      std::filesystem::equivalent(options.input, options.output, error)) {
    throw InputError(SourceLocation{"", 0, "--out"}, "must differ from --in (" + options.input +
                                                         "): the input is read while "
                                                         "the output is written");
  }
}

// --- plan -------------------------------------------------------------------------------------

std::vector<TensorDeclaration> quantized_declarations(const std::string& path,
                                                      const TensorInfo& info,
                                                      const WeightFormat& format, int group_size) {
  const std::uint64_t rows = info.rows();
  const std::uint64_t cols = info.cols();
  if (format.is_float()) return {{info.name, Dtype::kF16, {rows, cols}}};
  std::uint64_t row_bytes = 0;
  try {
    row_bytes = format.row_bytes(cols);
  } catch (const InputError& e) {
    fail_tensor(path, info.name,
                "shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]: " + e.what());
  }
  const std::uint64_t groups = group_count(cols, group_size);
  return {{qweight_name(info.name), Dtype::kU8, {rows, row_bytes}},
          {scales_name(info.name), Dtype::kF16, {rows, groups}},
          {offsets_name(info.name), Dtype::kF16, {rows, groups}}};
}

void check_unique_names(const std::string& path, const std::vector<TensorDeclaration>& tensors) {
  std::map<std::string, std::size_t> seen;
  for (const TensorDeclaration& tensor : tensors) {
    if (++seen[tensor.name] > 1) {
      fail_tensor(path, tensor.name,
                  "the output would hold two tensors of this name (an input tensor collides with "
                  "a quantized tensor's .qweight/.scales/.offsets); select tensors with --tensors");
    }
  }
}

// Per-tensor keys NAME.format, NAME.group_size (integer formats), NAME.k; top-level `format`,
// and top-level `group_size` / `k` when every quantized tensor has the same value.
void add_metadata(const SafetensorsFile& file, QuantizePlan& plan) {
  plan.metadata = file.metadata();
  std::map<std::string, int> group_sizes;
  std::map<std::string, int> ks;
  for (const PlannedTensor& tensor : plan.tensors) {
    if (!tensor.quantized) continue;
    const std::string& name = tensor.source->name;
    const std::string k = std::to_string(tensor.source->cols());
    plan.metadata[name + ".format"] = plan.format.name;
    plan.metadata[name + ".k"] = k;
    ++ks[k];
    if (plan.format.is_float()) continue;
    const std::string g =
        std::to_string(effective_group_size(plan.group_size, tensor.source->cols()));
    plan.metadata[name + ".group_size"] = g;
    ++group_sizes[g];
  }
  plan.metadata["format"] = plan.format.name;
  plan.metadata.erase("group_size");
  plan.metadata.erase("k");
  if (group_sizes.size() == 1) plan.metadata["group_size"] = group_sizes.begin()->first;
  if (ks.size() == 1) plan.metadata["k"] = ks.begin()->first;
}

QuantizePlan make_plan(const SafetensorsFile& file, const QuantizeOptions& options) {
  QuantizePlan plan;
  plan.format = parse_format(options.quant);
  plan.group_size = parse_group_size_flag(options.group_size);
  const std::vector<const TensorInfo*> selected = select_float_matrices(file, options.tensors);
  for (const TensorInfo& info : file.tensors()) {
    const bool quantized = std::find(selected.begin(), selected.end(), &info) != selected.end();
    plan.tensors.push_back({&info, quantized});
    if (!quantized) {
      plan.declarations.push_back({info.name, info.dtype, info.shape});
      continue;
    }
    ++plan.quantized_count;
    for (TensorDeclaration& declaration :
         quantized_declarations(file.path(), info, plan.format, plan.group_size)) {
      plan.declarations.push_back(std::move(declaration));
    }
  }
  if (plan.quantized_count == 0) {
    throw InputError(SourceLocation{file.path(), 0, ""},
                     "no non-empty 2-D float tensor (F32, F16, BF16, F64)" +
                         (options.tensors.empty() ? "" : " matches --tensors " + options.tensors));
  }
  check_unique_names(file.path(), plan.declarations);
  add_metadata(file, plan);
  return plan;
}

// --- write ------------------------------------------------------------------------------------

void write_fp16_values(SafetensorsWriter& writer, const std::string& name,
                       const std::vector<std::uint16_t>& values) {
  writer.write(name, values.data(), values.size() * sizeof(std::uint16_t));  // host is LE
}

void quantize_tensor(const SafetensorsFile& file, const TensorInfo& info, const QuantizePlan& plan,
                     SafetensorsWriter& writer) {
  const std::size_t rows = info.rows();
  const std::size_t cols = info.cols();
  const std::size_t row_bytes = plan.format.row_bytes(cols);
  const std::size_t groups = plan.format.is_float() ? 0 : group_count(cols, plan.group_size);
  const std::size_t block_rows = std::max<std::size_t>(1, kBlockWeights / cols);
  const std::string packed_name = plan.format.is_float() ? info.name : qweight_name(info.name);
  std::vector<float> w(std::min(block_rows, rows) * cols);
  std::vector<std::uint8_t> packed(std::min(block_rows, rows) * row_bytes);
  std::vector<std::uint16_t> scales(rows * groups);
  std::vector<std::uint16_t> offsets(rows * groups);
  for (std::size_t first = 0; first < rows; first += block_rows) {
    const std::size_t count = std::min(block_rows, rows - first);
    file.read_float_rows(info, first, count, w.data());
    for (std::size_t r = 0; r < count; ++r) {
      quantize_row(plan.format, w.data() + r * cols, cols, plan.group_size, first + r,
                   packed.data() + r * row_bytes, scales.data() + (first + r) * groups,
                   offsets.data() + (first + r) * groups);
    }
    writer.write(packed_name, packed.data(), count * row_bytes);
  }
  if (plan.format.is_float()) return;
  write_fp16_values(writer, scales_name(info.name), scales);
  write_fp16_values(writer, offsets_name(info.name), offsets);
}

void write_output(const SafetensorsFile& file, const QuantizePlan& plan,
                  const std::string& output) {
  SafetensorsWriter writer(output, plan.declarations, plan.metadata);
  for (const PlannedTensor& tensor : plan.tensors) {
    const TensorInfo& info = *tensor.source;
    if (!tensor.quantized) {
      writer.write(info.name, file.data(info), info.byte_size());
      continue;
    }
    try {
      quantize_tensor(file, info, plan, writer);
    } catch (const InputError& e) {
      fail_tensor(file.path(), info.name, e.what());
    }
  }
  writer.commit();
}

std::string summary(const QuantizePlan& plan, const std::string& output) {
  std::string grouping;
  if (!plan.format.is_float()) {
    grouping =
        plan.group_size == kPerChannel ? " per-channel" : " g" + std::to_string(plan.group_size);
  }
  return "quantized " + std::to_string(plan.quantized_count) + " of " +
         std::to_string(plan.tensors.size()) + " tensors to " + plan.format.name + grouping +
         ", copied " + std::to_string(plan.tensors.size() - plan.quantized_count) + "; wrote " +
         output;
}

int run_quantize(const QuantizeOptions& options) {
  check_output_path(options);
  const SafetensorsFile file(options.input);
  const QuantizePlan plan = make_plan(file, options);
  write_output(file, plan, options.output);
  std::cout << summary(plan, options.output) << "\n";
  return 0;
}

}  // namespace

CommandRunner add_quantize_command(CLI::App& app) {
  auto options = std::make_shared<QuantizeOptions>();
  CLI::App* command = app.add_subcommand(
      "quantize",
      "quantize the 2-D float tensors of a safetensors file into NAME.qweight, NAME.scales and "
      "NAME.offsets (layout: docs/FORMATS.md)");
  command->add_option("--in", options->input, "input safetensors file")->required();
  command
      ->add_option("--quant", options->quant,
                   "weight format: int8, int4, q3.5, q3.5-b8, q3, "
                   "q2.5, fp16 or pattern:W1,W2,...")
      ->required();
  command->add_option("--group-size", options->group_size, "G, or per-channel")
      ->capture_default_str();
  command->add_option("--tensors", options->tensors,
                      "ECMAScript regex searched in tensor names (anchor with ^...$)");
  command->add_option("--out", options->output, "output safetensors file")->required();
  return [options] { return run_quantize(*options); };
}

}  // namespace lpusim
