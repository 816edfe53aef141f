#include "sim/io/packed_weights.h"

#include <cstring>
#include <limits>

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

// A positive integer of at most `max` (so that it fits the type it is stored in).
std::uint64_t metadata_number(const SafetensorsFile& file, const std::string& name,
                              const std::string& key, std::uint64_t max) {
  const std::string text = metadata_value(file, name, key);
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value == 0 || value > max) {
    fail(file, name,
         "metadata '" + key + "' must be an integer from 1 to " + std::to_string(max) + ", got \"" +
             text + "\"");
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

// fp16 with every exponent bit set: an infinity or a NaN.
constexpr std::uint16_t kFp16ExponentMask = 0x7C00;

// Refuses a non-finite value in the F16 tensor `info` of `file`: a NaN scale would otherwise
// turn every error metric of the tensor into NaN.
void check_finite_fp16(const SafetensorsFile& file, const std::string& name,
                       const TensorInfo& info) {
  const std::uint64_t cols = info.shape.size() == 2 && info.shape[1] != 0 ? info.shape[1] : 1;
  const std::uint8_t* bytes = file.data(info);
  const std::uint64_t count = info.byte_size() / sizeof(std::uint16_t);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint16_t value = 0;
    std::memcpy(&value, bytes + i * sizeof(value), sizeof(value));
    if ((value & kFp16ExponentMask) != kFp16ExponentMask) continue;
    fail(file, name,
         "'" + info.name + "' [" + std::to_string(i / cols) + ", " + std::to_string(i % cols) +
             "] is " + ((value & 0x03FF) != 0 ? "NaN" : "infinite") +
             "; expected finite fp16 values");
  }
}

}  // namespace

QuantizedMatrix read_packed_tensor(const SafetensorsFile& file, const std::string& name) {
  QuantizedMatrix q;
  try {
    q.format = parse_format(metadata_value(file, name, "format"));
  } catch (const InputError& e) {
    fail(file, name, e.what());
  }
  q.cols = metadata_number(file, name, "k", std::numeric_limits<std::uint32_t>::max());
  if (q.format.is_float()) {
    const TensorInfo* info = file.find(name);
    if (!info || info->shape.size() != 2) fail(file, name, "missing 2-D F16 tensor");
    q.rows = info->shape[0];
    const TensorInfo& weights = part(file, name, "", Dtype::kF16, q.rows, q.cols);
    check_finite_fp16(file, name, weights);
    copy_tensor(file, weights, q.qweight);
    q.group_size = kPerChannel;
    return q;
  }
  q.group_size = static_cast<int>(
      metadata_number(file, name, "group_size", std::numeric_limits<std::int32_t>::max()));
  const TensorInfo* packed = file.find(name + ".qweight");
  if (!packed || packed->shape.size() != 2) fail(file, name, "missing 2-D U8 '.qweight'");
  q.rows = packed->shape[0];
  const std::uint64_t row_bytes = q.format.row_bytes(q.cols);
  const std::uint64_t groups = group_count(q.cols, q.group_size);
  copy_tensor(file, part(file, name, "qweight", Dtype::kU8, q.rows, row_bytes), q.qweight);
  const TensorInfo& scales = part(file, name, "scales", Dtype::kF16, q.rows, groups);
  const TensorInfo& offsets = part(file, name, "offsets", Dtype::kF16, q.rows, groups);
  check_finite_fp16(file, name, scales);
  check_finite_fp16(file, name, offsets);
  copy_tensor(file, scales, q.scales);
  copy_tensor(file, offsets, q.offsets);
  return q;
}

}  // namespace lpusim
