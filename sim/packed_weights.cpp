#include "sim/packed_weights.h"

#include <cstring>

#include "kernels/error.h"

namespace lpusim {

namespace {

[[noreturn]] void fail(const SafetensorsFile& file, const std::string& name,
                       const std::string& message) {
  throw InputError(file.path() + ": tensor '" + name + "': " + message);
}

// NAME.key, or the top-level key when the file has no per-tensor one.
std::string metadata_value(const SafetensorsFile& file, const std::string& name,
                           const std::string& key) {
  const SafetensorsMetadata& meta = file.metadata();
  auto it = meta.find(name + "." + key);
  if (it == meta.end()) it = meta.find(key);
  if (it == meta.end()) {
    fail(file, name,
         "no '" + name + "." + key + "' (or '" + key +
             "') in __metadata__: not a file written by lpusim quantize?");
  }
  return it->second;
}

std::uint64_t metadata_number(const SafetensorsFile& file, const std::string& name,
                              const std::string& key) {
  const std::string text = metadata_value(file, name, key);
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value == 0) {
    fail(file, name, "metadata '" + key + "' must be a positive integer, got \"" + text + "\"");
  }
  return value;
}

const TensorInfo& part(const SafetensorsFile& file, const std::string& name,
                       const std::string& suffix, Dtype dtype, std::uint64_t rows,
                       std::uint64_t cols) {
  const std::string part_name = suffix.empty() ? name : name + "." + suffix;
  const TensorInfo* info = file.find(part_name);
  if (!info) fail(file, name, "missing tensor '" + part_name + "'");
  if (info->dtype != dtype || info->shape.size() != 2 || info->shape[0] != rows ||
      info->shape[1] != cols) {
    fail(file, name,
         "'" + part_name + "' must be " + std::string(dtype_name(dtype)) + " [" +
             std::to_string(rows) + ", " + std::to_string(cols) + "]");
  }
  return *info;
}

template <typename T>
void copy_tensor(const SafetensorsFile& file, const TensorInfo& info, std::vector<T>& out) {
  out.resize(info.byte_size() / sizeof(T));
  std::memcpy(out.data(), file.data(info), info.byte_size());
}

}  // namespace

QuantizedMatrix read_packed_tensor(const SafetensorsFile& file, const std::string& name) {
  QuantizedMatrix q;
  try {
    q.format = parse_format(metadata_value(file, name, "format"));
  } catch (const InputError& e) {
    fail(file, name, e.what());
  }
  q.cols = metadata_number(file, name, "k");
  if (q.format.is_float()) {
    const TensorInfo* info = file.find(name);
    if (!info || info->shape.size() != 2) fail(file, name, "missing 2-D F16 tensor");
    q.rows = info->shape[0];
    copy_tensor(file, part(file, name, "", Dtype::kF16, q.rows, q.cols), q.qweight);
    q.group_size = kPerChannel;
    return q;
  }
  q.group_size = static_cast<int>(metadata_number(file, name, "group_size"));
  const TensorInfo* packed = file.find(name + ".qweight");
  if (!packed || packed->shape.size() != 2) fail(file, name, "missing 2-D U8 '.qweight'");
  q.rows = packed->shape[0];
  const std::uint64_t row_bytes = q.format.row_bytes(q.cols);
  const std::uint64_t groups = group_count(q.cols, q.group_size);
  copy_tensor(file, part(file, name, "qweight", Dtype::kU8, q.rows, row_bytes), q.qweight);
  copy_tensor(file, part(file, name, "scales", Dtype::kF16, q.rows, groups), q.scales);
  copy_tensor(file, part(file, name, "offsets", Dtype::kF16, q.rows, groups), q.offsets);
  return q;
}

}  // namespace lpusim
