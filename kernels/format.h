// Weight formats (docs/FORMATS.md, normative for this repo): a repeating pattern of signed slot
// widths packed LSB-first, plus per-group metadata (today one fp16 scale and one fp16 offset per
// group of G weights along k). The format is the one owner of what a matrix stores: its codes,
// its metadata fields and the bytes both take (stored_bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/isa.h"

namespace lpusim {

// Group size meaning "one group per row" (G = K, per-channel quantization).
inline constexpr int kPerChannel = 0;
inline constexpr int kDefaultGroupSize = 128;
// Limits of "pattern:W1,W2,...": widths 1..kMaxSlotBits, at most kMaxPatternSlots slots.
inline constexpr int kMaxSlotBits = 8;
inline constexpr int kMaxPatternSlots = 16;

// One metadata field a format stores per group of each row: its array is [rows][groups] of
// `type`, in a file tensor / SRAM region named after the weight with suffix `name`.
struct MetadataField {
  std::string name;  // "scales", "offsets"
  ElemType type = ElemType::kF16;

  std::size_t bytes() const { return static_cast<std::size_t>(elem_bytes(type)); }
  bool operator==(const MetadataField& o) const { return name == o.name && type == o.type; }
};

// The metadata of the integer formats: w_hat = offset + scale * c, both fp16.
const std::vector<MetadataField>& scale_offset_metadata();

// How a GEMM applies the group metadata (docs/FORMATS.md, "Two-level scales"):
//  - kPerGroup: one MXM partial sum per group, each scaled and offset on the VXM (the stored
//    format as is; MATMUL depth = G);
//  - kTwoLevel: the group scale and offset are re-expressed offline as s1 x (s2 x c + z) with s1
//    an fp16 scale per output channel, s2 a u8 and z an i8 per group; the VXM turns the codes
//    into int8 q = s2 x c + z once per weight strip, the MXM multiplies over all of k, and only
//    s1 is applied in the epilogue.
enum class GroupKernel : std::uint8_t { kPerGroup, kTwoLevel };
std::string_view group_kernel_name(GroupKernel kernel);  // "per-group", "two-level"
// Parses "per-group" or "two-level"; throws InputError naming the accepted names.
GroupKernel parse_group_kernel(std::string_view text);

// The two-level metadata a GEMM streams instead of the fp16 scales and offsets, each in a region
// (buffer) NAME.<field name>: channel_scales (s1, f16 [N]), group_scales (s2, u8 [N][groups]),
// group_zeros (z, i8 [N][groups]).
struct TwoLevelFields {
  MetadataField channel_scale{"channel_scales", ElemType::kF16};
  MetadataField group_scale{"group_scales", ElemType::kU8};
  MetadataField group_zero{"group_zeros", ElemType::kI8};
};
const TwoLevelFields& two_level_fields();

// One weight format. Integer formats decode w_hat = offset + scale * c, c = v << (bmax - b).
struct WeightFormat {
  std::string name;                  // canonical: "int8", "int4", "q3.5", "q3.5-b8", "q3", "q2.5",
                                     // "fp16", or "pattern:4,3"
  std::vector<int> slot_bits;        // the repeating pattern; empty for fp16
  bool pad_pattern_to_byte = false;  // q3.5-b8: each pattern code in its own byte(s)
  std::vector<MetadataField> metadata;  // per group, in storage order; empty for fp16

  bool is_float() const { return slot_bits.empty(); }
  int max_bits() const;              // bmax: the widest slot
  int pattern_length() const;        // slots per pattern (2 for q3.5)
  int pattern_bits() const;          // bits of one pattern code (7 for q3.5)
  int pattern_storage_bits() const;  // bits one pattern code occupies in storage (8 for q3.5-b8)
  // c = v << (bmax - b) for slot `slot` of the pattern: the shift applied to that slot's value.
  int slot_shift(int slot) const;
  // Bytes of one packed row of k weights (k a multiple of pattern_length()). fp16: 2 * k.
  std::size_t row_bytes(std::size_t k) const;
  // Code bits per weight, without metadata (3.5 for q3.5, 4 for q3.5-b8, 16 for fp16).
  double code_bits_per_weight() const;
  // Bytes of all metadata fields of one group (4 for an fp16 scale + fp16 offset; 0 for fp16).
  std::size_t metadata_bytes_per_group() const;
  // Bytes of one metadata field of one row of k weights: group_count(k, group_size) * its size.
  std::size_t metadata_row_bytes(const MetadataField& field, std::size_t k, int group_size) const;
  // Bytes one row of k weights occupies in storage: codes + every metadata field.
  std::size_t stored_row_bytes(std::size_t k, int group_size) const;
  // Bytes a [rows, cols] matrix occupies in storage (file or memory): rows * stored_row_bytes.
  // The one place the size of quantized weights is computed.
  std::uint64_t stored_bytes(std::uint64_t rows, std::size_t cols, int group_size) const;
  // Stored bits per weight including the metadata of each group (32 bits for an fp16 scale +
  // offset); fp16: 16. group_size kPerChannel means one group of k.
  double effective_bits_per_weight(std::size_t k, int group_size) const;
};

// Parses a format name or "pattern:W1,W2,..." (widths 1-8). Throws InputError naming the
// accepted names.
WeightFormat parse_format(std::string_view name);

// Suffixes of the tensors (files) and regions (programs) a weight NAME is stored in: "qweight"
// for the codes, then every metadata field name any built-in format stores ("scales", "offsets"),
// then the two-level fields a two-level GEMM streams instead ("channel_scales", "group_scales",
// "group_zeros").
const std::vector<std::string>& stored_tensor_suffixes();

// The names parse_format accepts besides "pattern:...", in the order of docs/FORMATS.md's table.
const std::vector<std::string>& builtin_format_names();

// Parses "128" or "per-channel" (kPerChannel). Throws InputError.
int parse_group_size(std::string_view text);

// Number of groups of a row of k weights: ceil(k / G), the last group shorter when G does not
// divide k; 1 for per-channel (and for G > k); 0 when k = 0. Throws InputError for G < 0.
std::size_t group_count(std::size_t k, int group_size);

// Packs one row of k codes c (already shifted: c = v << (bmax - b)) into row_bytes(k) bytes.
// Throws InputError if k is not a multiple of the pattern length or a code is not representable
// in its slot.
void pack_row(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
              std::uint8_t* out);

// Unpacks row_bytes(k) bytes into k codes c. Inverse of pack_row, bit for bit.
void unpack_row(const WeightFormat& format, const std::uint8_t* packed, std::size_t k,
                std::int8_t* codes);

// pack_row without the representability check, for callers that produce codes in range (the
// quantizer). An unrepresentable code is masked into its slot: it never touches its neighbours,
// but it does not round-trip. Still throws if k is not a multiple of the pattern length.
void pack_row_unchecked(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
                        std::uint8_t* out);

// Throws InputError naming the first column whose code is not representable in its slot
// (c = v << (bmax - b) with v in [-2^(b-1), 2^(b-1) - 1]).
void check_codes(const WeightFormat& format, const std::int8_t* codes, std::size_t k);

// The reference bit-by-bit paths (a 64-bit bit buffer, any pattern). pack_row/unpack_row use
// specialised kernels for the built-in formats; these must agree with them bit for bit (tests and
// benchmarks call both). pack_row_generic does not check representability.
void pack_row_generic(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
                      std::uint8_t* out);
void unpack_row_generic(const WeightFormat& format, const std::uint8_t* packed, std::size_t k,
                        std::int8_t* codes);

}  // namespace lpusim
