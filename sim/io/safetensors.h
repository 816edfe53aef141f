// safetensors files in and out: a validating reader over a memory map (shards are 5-10 GB, never
// copied whole) and a streaming writer that builds the file under a temporary name and renames it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "traces/atomic_file.h"

namespace lpusim {

// The element types of the safetensors format (byte-sized ones; the sub-byte F4/F6 are refused).
enum class Dtype {
  kBool,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kF8E8M0,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
  kC64,
};

// The safetensors spelling ("F16", "BF16", "U8", ...).
std::string_view dtype_name(Dtype dtype);
// Bytes of one element.
std::size_t dtype_size(Dtype dtype);
// True for the dtypes read_float() converts: F32, F16, BF16, F64.
bool is_readable_as_float(Dtype dtype);
// Parses a safetensors dtype name; false if unknown.
bool parse_dtype(std::string_view name, Dtype* dtype);

// Metadata of one tensor; offsets are relative to the start of the data area.
struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::kU8;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  std::uint64_t element_count() const;
  std::uint64_t byte_size() const { return end - begin; }
  // Rows and row length of a 2-D tensor ([N, K]); other ranks throw std::logic_error.
  std::uint64_t rows() const;
  std::uint64_t cols() const;
};

// The "__metadata__" map: string keys to string values.
using SafetensorsMetadata = std::map<std::string, std::string>;

// A validated safetensors file, mapped read-only. Construction checks the whole header (see
// safetensors.cpp) and throws InputError naming the file and, where there is one, the tensor.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(std::string path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // Every tensor, in the order of its bytes in the data area.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr.
  const TensorInfo* find(std::string_view name) const;
  // The tensor called `name`; throws InputError naming the file if there is none.
  const TensorInfo& tensor(std::string_view name) const;

  // The tensor's raw little-endian bytes inside the mapping (valid while this object lives).
  const std::uint8_t* data(const TensorInfo& info) const;

  // Converts the whole tensor to float. Throws InputError if its dtype is not a float type or
  // a value is NaN or infinite (naming the element).
  std::vector<float> read_float(const TensorInfo& info) const;
  // Converts rows [first_row, first_row + row_count) of a 2-D float tensor into `out`
  // (row_count * cols floats), so large tensors can be processed a block at a time.
  void read_float_rows(const TensorInfo& info, std::size_t first_row, std::size_t row_count,
                       float* out) const;

 private:
  void map_file();
  void parse_header();
  void unmap() noexcept;

  std::string path_;
  const std::uint8_t* mapping_ = nullptr;
  std::size_t file_size_ = 0;
  std::size_t data_start_ = 0;  // 8 + header length
  SafetensorsMetadata metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

// True for the tensors the weight commands work on: 2-D, a float dtype, at least one element.
bool is_float_matrix(const TensorInfo& info);

// The float matrices of `file` whose name matches the ECMAScript regex `pattern` anywhere
// (std::regex_search: anchor with ^...$ for a full match); all of them if `pattern` is empty.
// In file order. Throws InputError (key --tensors) for a bad regex.
std::vector<const TensorInfo*> select_float_matrices(const SafetensorsFile& file,
                                                     const std::string& pattern);

// A tensor to be written: its bytes follow the previous tensor's in declaration order.
struct TensorDeclaration {
  std::string name;
  Dtype dtype = Dtype::kU8;
  std::vector<std::uint64_t> shape;
};

// Writes a safetensors file through an AtomicFile (a temporary file in the destination's directory
// renamed onto `destination` in commit(), or a device written in place). The header is written
// first (sizes are known from the declarations); tensor bytes then follow in declaration order, in
// as many write() calls as the caller likes. If commit() is never reached (an exception, an early
// return) the destructor removes the temporary file, so nothing is left at the destination.
class SafetensorsWriter {
 public:
  SafetensorsWriter(std::string destination, std::vector<TensorDeclaration> tensors,
                    const SafetensorsMetadata& metadata);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends bytes to tensor `name`, which must be the first declared tensor not yet complete.
  void write(std::string_view name, const void* bytes, std::size_t size);
  // Checks every tensor is complete, flushes, fsyncs and renames onto the destination.
  void commit();

  const std::string& temporary_path() const { return temporary_path_; }
  // The header bytes as written (JSON padded with spaces to a multiple of 8), for tests.
  static std::string header_json(const std::vector<TensorDeclaration>& tensors,
                                 const SafetensorsMetadata& metadata);

 private:
  void write_raw(const void* bytes, std::size_t size);
  void advance_past_complete_tensors();
  void discard() noexcept;

  std::string destination_;
  std::string temporary_path_;
  std::vector<TensorDeclaration> tensors_;
  std::vector<std::uint64_t> sizes_;
  std::size_t current_ = 0;  // index of the tensor being written
  std::uint64_t written_in_current_ = 0;
  std::unique_ptr<AtomicFile> file_;
  bool committed_ = false;
};

}  // namespace lpusim
