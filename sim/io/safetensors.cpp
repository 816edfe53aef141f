// safetensors files in and out: a validating reader over a memory map (shards are 5-10 GB, never
// copied whole) and a streaming writer that builds the file under a temporary name and renames it.
#include "sim/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "kernels/error.h"
#include "kernels/fp16.h"
#include "kernels/input_file.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; lpusim maps it without byte swapping");

namespace lpusim {
namespace {

// Mapped, never read whole: the file's size is not capped (shards are 5-10 GB), its header is.
constexpr InputKind kSafetensorsInput{"safetensors file", UINT64_MAX};

// The format's own limit on the JSON header (the reference implementation refuses larger ones).
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
constexpr std::size_t kLengthPrefixBytes = 8;
constexpr std::size_t kHeaderAlignment = 8;
constexpr const char* kMetadataKey = "__metadata__";
// Bounds on the header's JSON beyond its byte length, so that its in-memory tree stays within a
// few hundred MB: a real header nests 3 deep ({name: {shape: [..]}}), and a 70B model in one file
// has a few thousand tensors.
constexpr int kMaxHeaderDepth = 16;
constexpr std::size_t kMaxHeaderEntries = std::size_t{1} << 18;  // tensors + __metadata__
constexpr std::size_t kMaxHeaderValues = std::size_t{1} << 23;   // every JSON value
constexpr std::size_t kMaxExcerptChars = 80;

struct DtypeEntry {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DtypeEntry, 17> kDtypes = {{
    {Dtype::kBool, "BOOL", 1},
    {Dtype::kU8, "U8", 1},
    {Dtype::kI8, "I8", 1},
    {Dtype::kF8E5M2, "F8_E5M2", 1},
    {Dtype::kF8E4M3, "F8_E4M3", 1},
    {Dtype::kF8E8M0, "F8_E8M0", 1},
    {Dtype::kI16, "I16", 2},
    {Dtype::kU16, "U16", 2},
    {Dtype::kF16, "F16", 2},
    {Dtype::kBF16, "BF16", 2},
    {Dtype::kI32, "I32", 4},
    {Dtype::kU32, "U32", 4},
    {Dtype::kF32, "F32", 4},
    {Dtype::kF64, "F64", 8},
    {Dtype::kI64, "I64", 8},
    {Dtype::kU64, "U64", 8},
    {Dtype::kC64, "C64", 8},
}};

const DtypeEntry& dtype_entry(Dtype dtype) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw std::logic_error("dtype missing from the dtype table");
}

std::string known_dtype_list() {
  std::string out;
  for (const DtypeEntry& entry : kDtypes) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

// A JSON value as text for a message, cut to kMaxExcerptChars.
std::string excerpt(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > kMaxExcerptChars) text = text.substr(0, kMaxExcerptChars) + "...";
  return text;
}

std::string tensor_key(std::string_view name) { return "tensor '" + std::string(name) + "'"; }

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw InputError(SourceLocation{path, 0, ""}, message);
}

[[noreturn]] void fail_tensor(const std::string& path, std::string_view tensor,
                              const std::string& message) {
  throw InputError(SourceLocation{path, 0, tensor_key(tensor)}, message);
}

std::string system_error_text() { return std::strerror(errno); }

// Product of `factors`, or false on uint64 overflow.
bool checked_product(const std::vector<std::uint64_t>& factors, std::uint64_t* product) {
  std::uint64_t result = 1;
  for (std::uint64_t factor : factors) {
    if (__builtin_mul_overflow(result, factor, &result)) return false;
  }
  *product = result;
  return true;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::uint64_t read_le_u64(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

// --- header validation ------------------------------------------------------------------------

// A first pass over the header that builds nothing: checks nesting, counts and numbers (nlohmann
// reports "1e400" as a number overflow) and records where the first problem is, since the
// tree-building parse reports no position for some of its errors.
class HeaderCheck : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string error;  // what failed, with the byte for a JSON error

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool key(string_t&) override {
    if (depth_ == 1 && ++entries_ > kMaxHeaderEntries)
      return failed("has more than " + std::to_string(kMaxHeaderEntries) + " tensors");
    return true;
  }
  bool start_object(std::size_t) override { return open(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error = "header is not valid JSON: byte " + std::to_string(position) +
            " of the header: " + e.what();
    return false;
  }

 private:
  bool value() {
    if (++values_ > kMaxHeaderValues)
      return failed("has more than " + std::to_string(kMaxHeaderValues) + " JSON values");
    return true;
  }
  bool open() {
    if (++depth_ > kMaxHeaderDepth)
      return failed("nests deeper than " + std::to_string(kMaxHeaderDepth) + " levels");
    return value();
  }
  bool close() {
    --depth_;
    return true;
  }
  bool failed(const std::string& message) {
    error = "header " + message + " (lpusim's limit)";
    return false;
  }

  int depth_ = 0;
  std::size_t entries_ = 0;
  std::size_t values_ = 0;
};

SafetensorsMetadata parse_metadata(const std::string& path, const nlohmann::json& value) {
  if (!value.is_object()) fail(path, "__metadata__ must be an object of string values");
  SafetensorsMetadata metadata;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string()) {
      fail(path, "__metadata__: key '" + key + "' must have a string value, got " + excerpt(entry));
    }
    metadata[key] = entry.get<std::string>();
  }
  return metadata;
}

std::uint64_t parse_unsigned(const std::string& path, std::string_view tensor, const char* field,
                             const nlohmann::json& value) {
  if (!value.is_number_unsigned()) {
    fail_tensor(path, tensor,
                std::string(field) + ": expected non-negative integers, got " + excerpt(value));
  }
  return value.get<std::uint64_t>();
}

std::vector<std::uint64_t> parse_unsigned_array(const std::string& path, std::string_view tensor,
                                                const char* field, const nlohmann::json& value) {
  if (!value.is_array()) {
    fail_tensor(path, tensor, std::string(field) + ": expected an array, got " + excerpt(value));
  }
  std::vector<std::uint64_t> out;
  for (const nlohmann::json& item : value) out.push_back(parse_unsigned(path, tensor, field, item));
  return out;
}

const nlohmann::json& required_field(const std::string& path, std::string_view tensor,
                                     const nlohmann::json& entry, const char* field) {
  auto it = entry.find(field);
  if (it == entry.end()) fail_tensor(path, tensor, std::string("missing '") + field + "'");
  return *it;
}

void reject_unknown_fields(const std::string& path, std::string_view tensor,
                           const nlohmann::json& entry) {
  for (const auto& [key, value] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail_tensor(path, tensor,
                  "unknown key '" + key + "' (expected dtype, shape and data_offsets)");
    }
  }
}

Dtype parse_tensor_dtype(const std::string& path, std::string_view tensor,
                         const nlohmann::json& value) {
  Dtype dtype = Dtype::kU8;
  if (!value.is_string() || !parse_dtype(value.get<std::string>(), &dtype)) {
    fail_tensor(path, tensor,
                "dtype: unknown dtype " + excerpt(value) + " (known: " + known_dtype_list() + ")");
  }
  return dtype;
}

void check_byte_range(const std::string& path, const TensorInfo& info, std::uint64_t data_bytes) {
  std::uint64_t count = 0;
  std::uint64_t expected = 0;
  if (!checked_product(info.shape, &count) ||
      __builtin_mul_overflow(count, dtype_size(info.dtype), &expected)) {
    fail_tensor(path, info.name, "shape " + shape_text(info.shape) + " overflows 64 bits");
  }
  const std::string range =
      "data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "]";
  if (info.begin > info.end) fail_tensor(path, info.name, range + ": begin is after end");
  if (info.end > data_bytes) {
    fail_tensor(path, info.name,
                range + " reach beyond the data area of " + std::to_string(data_bytes) + " bytes");
  }
  if (info.end - info.begin != expected) {
    fail_tensor(path, info.name,
                "shape " + shape_text(info.shape) + " x " + std::string(dtype_name(info.dtype)) +
                    " is " + std::to_string(expected) + " bytes but " + range + " cover " +
                    std::to_string(info.end - info.begin));
  }
}

TensorInfo parse_tensor(const std::string& path, const std::string& name,
                        const nlohmann::json& entry, std::uint64_t data_bytes) {
  if (!entry.is_object()) fail_tensor(path, name, "expected an object, got " + excerpt(entry));
  reject_unknown_fields(path, name, entry);
  TensorInfo info;
  info.name = name;
  info.dtype = parse_tensor_dtype(path, name, required_field(path, name, entry, "dtype"));
  info.shape =
      parse_unsigned_array(path, name, "shape", required_field(path, name, entry, "shape"));
  const std::vector<std::uint64_t> offsets = parse_unsigned_array(
      path, name, "data_offsets", required_field(path, name, entry, "data_offsets"));
  if (offsets.size() != 2) fail_tensor(path, name, "data_offsets: expected [begin, end]");
  info.begin = offsets[0];
  info.end = offsets[1];
  check_byte_range(path, info, data_bytes);
  return info;
}

// Sorts by position and checks that the non-empty ranges tile the data area exactly: no overlap,
// and (as the format demands, to rule out polyglot files) no unindexed bytes.
void check_layout(const std::string& path, std::vector<TensorInfo>& tensors,
                  std::uint64_t data_bytes) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& info : tensors) {
    if (info.begin == info.end) continue;
    if (info.begin < covered) {
      fail_tensor(path, info.name,
                  "bytes [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                      ") overlap tensor '" + previous->name + "'");
    }
    if (info.begin > covered) {
      fail(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(info.begin) +
                     ") of the data area belong to no tensor (the format forbids holes)");
    }
    covered = info.end;
    previous = &info;
  }
  if (covered != data_bytes) {
    fail(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(data_bytes) +
                   ") at the end of the data area belong to no tensor (the format forbids holes)");
  }
}

// --- conversion to float ----------------------------------------------------------------------

template <typename Raw, typename Convert>
void convert_elements(const std::uint8_t* bytes, std::size_t count, float* out, Convert convert) {
  for (std::size_t i = 0; i < count; ++i) {
    Raw raw;
    std::memcpy(&raw, bytes + i * sizeof(Raw), sizeof(Raw));
    out[i] = convert(raw);
  }
}

void convert_to_float(Dtype dtype, const std::uint8_t* bytes, std::size_t count, float* out) {
  switch (dtype) {
    case Dtype::kF32:
      std::memcpy(out, bytes, count * sizeof(float));
      return;
    case Dtype::kF16:
      return convert_elements<std::uint16_t>(bytes, count, out, fp16_to_float);
    case Dtype::kBF16:
      return convert_elements<std::uint16_t>(bytes, count, out, bf16_to_float);
    case Dtype::kF64:
      return convert_elements<double>(bytes, count, out,
                                      [](double value) { return static_cast<float>(value); });
    default:
      throw std::logic_error("convert_to_float: not a float dtype");
  }
}

}  // namespace

// --- dtypes -----------------------------------------------------------------------------------

std::string_view dtype_name(Dtype dtype) { return dtype_entry(dtype).name; }

std::size_t dtype_size(Dtype dtype) { return dtype_entry(dtype).size; }

bool is_readable_as_float(Dtype dtype) {
  return dtype == Dtype::kF32 || dtype == Dtype::kF16 || dtype == Dtype::kBF16 ||
         dtype == Dtype::kF64;
}

bool parse_dtype(std::string_view name, Dtype* dtype) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.name == name) {
      *dtype = entry.dtype;
      return true;
    }
  }
  return false;
}

std::uint64_t TensorInfo::element_count() const {
  std::uint64_t count = 0;
  if (!checked_product(shape, &count)) throw std::logic_error("tensor shape overflows");
  return count;
}

std::uint64_t TensorInfo::rows() const {
  if (shape.size() != 2) throw std::logic_error("rows() of a tensor that is not 2-D");
  return shape[0];
}

std::uint64_t TensorInfo::cols() const {
  if (shape.size() != 2) throw std::logic_error("cols() of a tensor that is not 2-D");
  return shape[1];
}

// --- reader -----------------------------------------------------------------------------------

SafetensorsFile::SafetensorsFile(std::string path) : path_(std::move(path)) {
  map_file();
  try {
    parse_header();
  } catch (...) {
    unmap();
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() { unmap(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept { *this = std::move(other); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  path_ = std::move(other.path_);
  mapping_ = std::exchange(other.mapping_, nullptr);
  file_size_ = std::exchange(other.file_size_, 0);
  data_start_ = other.data_start_;
  metadata_ = std::move(other.metadata_);
  tensors_ = std::move(other.tensors_);
  index_ = std::move(other.index_);
  return *this;
}

void SafetensorsFile::unmap() noexcept {
  if (mapping_ != nullptr) munmap(const_cast<std::uint8_t*>(mapping_), file_size_);
  mapping_ = nullptr;
}

void SafetensorsFile::map_file() {
  const InputFile file(path_, kSafetensorsInput);
  file_size_ = static_cast<std::size_t>(file.size());
  if (file_size_ < kLengthPrefixBytes) {
    fail(path_, "file is " + std::to_string(file_size_) +
                    " bytes, too short for the 8-byte header length of a safetensors file");
  }
  void* mapped = mmap(nullptr, file_size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
  const std::string mmap_error = system_error_text();
  if (mapped == MAP_FAILED) fail(path_, "cannot map: " + mmap_error);
  madvise(mapped, file_size_, MADV_SEQUENTIAL);  // a hint: tensors are read front to back
  mapping_ = static_cast<const std::uint8_t*>(mapped);
}

void SafetensorsFile::parse_header() {
  const std::uint64_t header_bytes = read_le_u64(mapping_);
  const std::uint64_t available = file_size_ - kLengthPrefixBytes;
  if (header_bytes > available) {
    fail(path_, "header length " + std::to_string(header_bytes) + " exceeds the " +
                    std::to_string(available) +
                    " bytes that follow it (truncated or not safetensors)");
  }
  if (header_bytes > kMaxHeaderBytes) {
    fail(path_, "header length " + std::to_string(header_bytes) +
                    " exceeds the format's limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  const char* text = reinterpret_cast<const char*>(mapping_ + kLengthPrefixBytes);
  if (header_bytes == 0 || text[0] != '{') fail(path_, "header is not a JSON object");
  HeaderCheck check;
  if (!nlohmann::json::sax_parse(text, text + header_bytes, &check)) fail(path_, check.error);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + header_bytes);
  } catch (const nlohmann::json::exception& e) {
    fail(path_, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path_, "header is not a JSON object");
  data_start_ = kLengthPrefixBytes + header_bytes;
  const std::uint64_t data_bytes = file_size_ - data_start_;
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      metadata_ = parse_metadata(path_, entry);
    } else {
      tensors_.push_back(parse_tensor(path_, name, entry, data_bytes));
    }
  }
  check_layout(path_, tensors_, data_bytes);
  for (std::size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& SafetensorsFile::tensor(std::string_view name) const {
  const TensorInfo* info = find(name);
  if (info == nullptr) fail_tensor(path_, name, "no such tensor in the file");
  return *info;
}

const std::uint8_t* SafetensorsFile::data(const TensorInfo& info) const {
  return mapping_ + data_start_ + info.begin;
}

std::vector<float> SafetensorsFile::read_float(const TensorInfo& info) const {
  if (!is_readable_as_float(info.dtype)) {
    fail_tensor(path_, info.name,
                "dtype " + std::string(dtype_name(info.dtype)) +
                    " is not a float type (expected F32, F16, BF16 or F64)");
  }
  std::vector<float> out(info.element_count());
  convert_to_float(info.dtype, data(info), out.size(), out.data());
  const std::uint64_t cols = info.shape.empty() || info.shape.back() == 0 ? 1 : info.shape.back();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (std::isfinite(out[i])) continue;
    fail_tensor(path_, info.name,
                "element [" + std::to_string(i / cols) + ", " + std::to_string(i % cols) + "] is " +
                    (std::isnan(out[i]) ? "NaN" : "infinite") + "; expected finite values");
  }
  return out;
}

void SafetensorsFile::read_float_rows(const TensorInfo& info, std::size_t first_row,
                                      std::size_t row_count, float* out) const {
  if (!is_readable_as_float(info.dtype)) {
    fail_tensor(path_, info.name,
                "dtype " + std::string(dtype_name(info.dtype)) +
                    " is not a float type (expected F32, F16, BF16 or F64)");
  }
  if (first_row + row_count > info.rows()) throw std::logic_error("read_float_rows: past the end");
  const std::size_t cols = info.cols();
  const std::size_t element_size = dtype_size(info.dtype);
  convert_to_float(info.dtype, data(info) + first_row * cols * element_size, row_count * cols, out);
}

// --- selection ------------------------------------------------------------------------------

bool is_float_matrix(const TensorInfo& info) {
  return info.shape.size() == 2 && is_readable_as_float(info.dtype) && info.element_count() > 0;
}

std::vector<const TensorInfo*> select_float_matrices(const SafetensorsFile& file,
                                                     const std::string& pattern) {
  std::regex filter;
  try {
    filter = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw InputError(SourceLocation{"", 0, "--tensors"},
                     "bad regular expression \"" + pattern + "\": " + e.what());
  }
  std::vector<const TensorInfo*> selected;
  for (const TensorInfo& info : file.tensors()) {
    if (is_float_matrix(info) && (pattern.empty() || std::regex_search(info.name, filter))) {
      selected.push_back(&info);
    }
  }
  return selected;
}

// --- writer -----------------------------------------------------------------------------------

namespace {

std::uint64_t declared_size(const TensorDeclaration& tensor) {
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  if (!checked_product(tensor.shape, &count) ||
      __builtin_mul_overflow(count, dtype_size(tensor.dtype), &bytes)) {
    throw std::invalid_argument("tensor '" + tensor.name + "': shape overflows 64 bits");
  }
  return bytes;
}

void check_declarations(const std::vector<TensorDeclaration>& tensors) {
  std::vector<std::string> names;
  for (const TensorDeclaration& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == kMetadataKey) {
      throw std::invalid_argument("safetensors tensor name '" + tensor.name + "' is not allowed");
    }
    names.push_back(tensor.name);
  }
  std::sort(names.begin(), names.end());
  auto duplicate = std::adjacent_find(names.begin(), names.end());
  if (duplicate != names.end()) {
    throw std::invalid_argument("safetensors tensor '" + *duplicate + "' declared twice");
  }
}

}  // namespace

std::string SafetensorsWriter::header_json(const std::vector<TensorDeclaration>& tensors,
                                           const SafetensorsMetadata& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const TensorDeclaration& tensor : tensors) {
    const std::uint64_t end = offset + declared_size(tensor);
    header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, end}}};
    offset = end;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text = header.dump();
  text.append((kHeaderAlignment - text.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  return text;
}

SafetensorsWriter::SafetensorsWriter(std::string destination,
                                     std::vector<TensorDeclaration> tensors,
                                     const SafetensorsMetadata& metadata)
    : destination_(std::move(destination)), tensors_(std::move(tensors)) {
  check_declarations(tensors_);
  for (const TensorDeclaration& tensor : tensors_) sizes_.push_back(declared_size(tensor));
  const std::string header = header_json(tensors_, metadata);
  file_ = std::make_unique<AtomicFile>(destination_, "--out");
  temporary_path_ = file_->temporary_path();
  try {
    std::uint8_t length[kLengthPrefixBytes];
    const std::uint64_t header_bytes = header.size();
    std::memcpy(length, &header_bytes, sizeof(length));
    write_raw(length, sizeof(length));
    write_raw(header.data(), header.size());
    advance_past_complete_tensors();
  } catch (...) {
    discard();
    throw;
  }
}

SafetensorsWriter::~SafetensorsWriter() {
  if (!committed_) discard();
}

void SafetensorsWriter::discard() noexcept {
  if (file_) file_->discard();
}

void SafetensorsWriter::write_raw(const void* bytes, std::size_t size) {
  file_->write(bytes, size);
}

void SafetensorsWriter::advance_past_complete_tensors() {
  while (current_ < tensors_.size() && written_in_current_ == sizes_[current_]) {
    ++current_;
    written_in_current_ = 0;
  }
}

void SafetensorsWriter::write(std::string_view name, const void* bytes, std::size_t size) {
  if (size == 0) return;
  if (committed_ || current_ >= tensors_.size() || tensors_[current_].name != name) {
    throw std::logic_error("SafetensorsWriter: '" + std::string(name) +
                           "' written out of declaration order");
  }
  if (size > sizes_[current_] - written_in_current_) {
    throw std::logic_error("SafetensorsWriter: more bytes than declared for '" + std::string(name) +
                           "'");
  }
  write_raw(bytes, size);
  written_in_current_ += size;
  advance_past_complete_tensors();
}

void SafetensorsWriter::commit() {
  if (committed_) throw std::logic_error("SafetensorsWriter: committed twice");
  if (current_ != tensors_.size()) {
    throw std::logic_error("SafetensorsWriter: tensor '" + tensors_[current_].name +
                           "' is incomplete at commit");
  }
  file_->commit();
  committed_ = true;
}

}  // namespace lpusim
