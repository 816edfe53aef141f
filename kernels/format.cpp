// Weight formats: parsing, sizes, the representability check and the reference bit-buffer
// pack/unpack paths. The specialised kernels for the built-in formats live in pack_fast.cpp.
#include "kernels/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "kernels/elem_sizes.h"
#include "kernels/error.h"
#include "kernels/int_math.h"
#include "kernels/pack_fast.h"

namespace lpusim {
namespace {

constexpr std::string_view kPatternPrefix = "pattern:";

WeightFormat make_format(std::string name, std::vector<int> slot_bits, bool pad = false) {
  WeightFormat f;
  f.name = std::move(name);
  f.slot_bits = std::move(slot_bits);
  f.pad_pattern_to_byte = pad;
  if (!f.slot_bits.empty()) f.metadata = scale_offset_metadata();
  return f;
}

const std::vector<WeightFormat>& builtin_formats() {
  static const std::vector<WeightFormat> formats = {
      make_format("int8", {8}),    make_format("int4", {4}),
      make_format("q3.5", {4, 3}), make_format("q3.5-b8", {4, 3}, true),
      make_format("q3", {3}),      make_format("q2.5", {3, 2}),
      make_format("fp16", {}),
  };
  return formats;
}

std::string accepted_names() {
  std::string out;
  for (const auto& f : builtin_formats()) out += f.name + ", ";
  return out + "pattern:W1,W2,... (widths 1-" + std::to_string(kMaxSlotBits) + ")";
}

std::string pattern_text(const WeightFormat& format) {
  return fmt::format("{}", fmt::join(format.slot_bits, ","));
}

void require_integer_format(const WeightFormat& format, const char* what) {
  if (format.is_float()) {
    throw InputError(fmt::format("{}: format {} has no integer codes", what, format.name));
  }
}

void require_pattern_multiple(const WeightFormat& format, std::size_t k, const char* what) {
  const auto len = static_cast<std::size_t>(format.pattern_length());
  if (k % len != 0) {
    throw InputError(
        fmt::format("{}: k = {} is not a multiple of the pattern length {} of format {} ({})", what,
                    k, len, format.name, pattern_text(format)));
  }
}

int parse_width(std::string_view text, std::string_view whole) {
  int width = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, width);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || width < 1 ||
      width > kMaxSlotBits) {
    throw InputError(fmt::format(
        "format \"{}\": slot width \"{}\" is not an integer in 1-{}; expected e.g. pattern:4,3",
        whole, text, kMaxSlotBits));
  }
  return width;
}

WeightFormat parse_pattern(std::string_view name) {
  std::string_view rest = name.substr(kPatternPrefix.size());
  std::vector<int> widths;
  while (true) {
    const std::size_t comma = rest.find(',');
    widths.push_back(parse_width(rest.substr(0, comma), name));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (widths.size() > static_cast<std::size_t>(kMaxPatternSlots)) {
    throw InputError(fmt::format("format \"{}\": {} slots, at most {} are supported", name,
                                 widths.size(), kMaxPatternSlots));
  }
  WeightFormat f = make_format("", std::move(widths));
  f.name = std::string(kPatternPrefix) + pattern_text(f);
  return f;
}

}  // namespace

const std::vector<MetadataField>& scale_offset_metadata() {
  static const std::vector<MetadataField> fields = {{"scales", ElemType::kF16},
                                                    {"offsets", ElemType::kF16}};
  return fields;
}

std::string_view group_kernel_name(GroupKernel kernel) {
  return kernel == GroupKernel::kTwoLevel ? "two-level" : "per-group";
}

GroupKernel parse_group_kernel(std::string_view text) {
  if (text == "per-group") return GroupKernel::kPerGroup;
  if (text == "two-level") return GroupKernel::kTwoLevel;
  throw InputError(fmt::format("group kernel \"{}\": expected per-group or two-level", text));
}

const TwoLevelFields& two_level_fields() {
  static const TwoLevelFields fields;
  return fields;
}

int WeightFormat::max_bits() const {
  if (is_float()) return 16;
  return *std::max_element(slot_bits.begin(), slot_bits.end());
}

int WeightFormat::pattern_length() const {
  return is_float() ? 1 : static_cast<int>(slot_bits.size());
}

int WeightFormat::pattern_bits() const {
  if (is_float()) return 16;
  int bits = 0;
  for (int b : slot_bits) bits += b;
  return bits;
}

int WeightFormat::pattern_storage_bits() const {
  const int bits = pattern_bits();
  if (!pad_pattern_to_byte) return bits;
  return static_cast<int>(round_up(static_cast<std::uint64_t>(bits), kBitsPerByte));
}

int WeightFormat::slot_shift(int slot) const {
  return max_bits() - slot_bits.at(static_cast<std::size_t>(slot));
}

std::size_t WeightFormat::row_bytes(std::size_t k) const {
  if (is_float()) return kFp16Bytes * k;
  require_pattern_multiple(*this, k, "row_bytes");
  const std::size_t patterns = k / static_cast<std::size_t>(pattern_length());
  const std::size_t bits = patterns * static_cast<std::size_t>(pattern_storage_bits());
  return ceil_div(bits, kBitsPerByte);
}

std::size_t WeightFormat::metadata_bytes_per_group() const {
  std::size_t bytes = 0;
  for (const MetadataField& field : metadata) bytes += field.bytes();
  return bytes;
}

std::size_t WeightFormat::metadata_row_bytes(const MetadataField& field, std::size_t k,
                                             int group_size) const {
  return group_count(k, group_size) * field.bytes();
}

std::size_t WeightFormat::stored_row_bytes(std::size_t k, int group_size) const {
  std::size_t bytes = row_bytes(k);
  if (!metadata.empty()) bytes += group_count(k, group_size) * metadata_bytes_per_group();
  return bytes;
}

std::uint64_t WeightFormat::stored_bytes(std::uint64_t rows, std::size_t cols,
                                         int group_size) const {
  return rows * stored_row_bytes(cols, group_size);
}

double WeightFormat::code_bits_per_weight() const {
  return static_cast<double>(pattern_storage_bits()) / pattern_length();
}

double WeightFormat::effective_bits_per_weight(std::size_t k, int group_size) const {
  if (is_float()) return 16.0;
  if (k == 0) throw InputError("effective_bits_per_weight: k must be positive");
  const double bits = static_cast<double>(stored_row_bytes(k, group_size)) * kBitsPerByte;
  return bits / static_cast<double>(k);
}

WeightFormat parse_format(std::string_view name) {
  for (const auto& f : builtin_formats()) {
    if (name == f.name) return f;
  }
  if (name.substr(0, kPatternPrefix.size()) == kPatternPrefix) return parse_pattern(name);
  throw InputError(
      fmt::format("unknown weight format \"{}\"; expected one of {}", name, accepted_names()));
}

const std::vector<std::string>& builtin_format_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : builtin_formats()) out.push_back(f.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& stored_tensor_suffixes() {
  static const std::vector<std::string> suffixes = [] {
    std::vector<std::string> out = {"qweight"};
    for (const auto& f : builtin_formats()) {
      for (const MetadataField& field : f.metadata) {
        if (std::find(out.begin(), out.end(), field.name) == out.end()) out.push_back(field.name);
      }
    }
    const TwoLevelFields& two = two_level_fields();
    for (const MetadataField* field : {&two.channel_scale, &two.group_scale, &two.group_zero}) {
      out.push_back(field->name);
    }
    return out;
  }();
  return suffixes;
}

int parse_group_size(std::string_view text) {
  if (text == "per-channel") return kPerChannel;
  int value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || value <= 0) {
    throw InputError(fmt::format(
        "group size: expected a positive integer or \"per-channel\", got \"{}\"", text));
  }
  return value;
}

std::size_t group_count(std::size_t k, int group_size) {
  if (group_size < 0) {
    throw InputError(
        fmt::format("group size {} is negative; expected a positive integer or "
                    "per-channel",
                    group_size));
  }
  if (k == 0) return 0;
  if (group_size == kPerChannel) return 1;
  return ceil_div(k, static_cast<std::size_t>(group_size));
}

void check_codes(const WeightFormat& format, const std::int8_t* codes, std::size_t k) {
  require_integer_format(format, "check_codes");
  const int bmax = format.max_bits();
  const int cmin = -(1 << (bmax - 1));
  const int cmax = (1 << (bmax - 1)) - 1;
  const auto range = static_cast<std::uint8_t>(cmax - cmin);
  const auto len = static_cast<std::size_t>(format.pattern_length());
  std::uint8_t low_masks[kMaxPatternSlots] = {};
  for (std::size_t j = 0; j < len; ++j) {
    low_masks[j] = static_cast<std::uint8_t>((1 << format.slot_shift(static_cast<int>(j))) - 1);
  }
  // Fast pass, 8 codes per 64-bit word (a row of valid codes costs a few ops per word):
  //  - c fits in bmax bits iff its bits bmax-1..7 are all equal (sign extension), i.e.
  //    (c ^ (c << 1)) has no bit in bmax..7 (bit 7 of a byte shifts into bit 0 of the next
  //    byte, which the mask leaves out since bmax >= 1);
  //  - the slot's low bits (c = v << shift) are zero. Word m of the row starts at code 8m, so
  //    its per-byte slot masks repeat with period len words.
  //    The masks are built as byte arrays, so this holds for either byte order.
  std::uint64_t high = 0;
  std::uint64_t low_words[kMaxPatternSlots] = {};
  for (std::size_t m = 0; m < len; ++m) {
    std::uint8_t bytes[8];
    for (std::size_t t = 0; t < 8; ++t) bytes[t] = low_masks[(8 * m + t) % len];
    std::memcpy(&low_words[m], bytes, sizeof bytes);
  }
  for (std::size_t t = 0; t < 8; ++t) {
    high |= static_cast<std::uint64_t>((0xFFu << bmax) & 0xFFu) << (8 * t);
  }
  bool any_mask = high != 0;
  for (std::size_t m = 0; m < len; ++m) any_mask |= low_words[m] != 0;
  if (!any_mask) return;  // int8: every code is representable
  std::uint64_t bad = 0;
  const std::size_t words = k / 8;
  std::size_t m = 0;
  for (std::size_t word = 0; word < words; ++word) {
    std::uint64_t x;
    std::memcpy(&x, codes + 8 * word, sizeof x);
    bad |= ((x ^ (x << 1)) & high) | (x & low_words[m]);
    m = m + 1 == len ? 0 : m + 1;
  }
  for (std::size_t i = 8 * words; i < k; ++i) {
    const auto c = static_cast<std::uint8_t>(codes[i]);
    bad |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(c - cmin) > range) |
           static_cast<std::uint8_t>(c & low_masks[i % len]);
  }
  if (bad == 0) return;
  for (std::size_t i = 0; i < k; ++i) {
    const int c = codes[i];
    const std::size_t j = i % len;
    if (c < cmin || c > cmax || (c & low_masks[j]) != 0) {
      const int shift = format.slot_shift(static_cast<int>(j));
      const int b = format.slot_bits[j];
      throw InputError(fmt::format(
          "code {} at column {} is not representable in slot {} (width {}) of format {} ({}): "
          "expected a multiple of {} in [{}, {}]",
          c, i, j, b, format.name, pattern_text(format), 1 << shift, -(1 << (b - 1)) * (1 << shift),
          ((1 << (b - 1)) - 1) * (1 << shift)));
    }
  }
}

void pack_row_generic(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
                      std::uint8_t* out) {
  require_integer_format(format, "pack_row");
  require_pattern_multiple(format, k, "pack_row");
  const int len = format.pattern_length();
  const int pad_bits = format.pattern_storage_bits() - format.pattern_bits();
  int shifts[kMaxPatternSlots];
  for (int j = 0; j < len; ++j) shifts[j] = format.slot_shift(j);
  std::uint64_t buffer = 0;  // pending bits, LSB first
  int pending = 0;           // < 8 between fields, so a field of <= 8 bits always fits
  std::size_t o = 0;
  for (std::size_t i = 0; i < k; i += static_cast<std::size_t>(len)) {
    // The last slot holds the least significant bits of the pattern code, so it comes first.
    for (int j = len - 1; j >= 0; --j) {
      const int b = format.slot_bits[static_cast<std::size_t>(j)];
      const std::uint64_t field =
          (static_cast<std::uint8_t>(codes[i + static_cast<std::size_t>(j)]) >> shifts[j]) &
          ((1u << b) - 1);
      buffer |= field << pending;
      pending += b;
      while (pending >= kBitsPerByte) {
        out[o++] = static_cast<std::uint8_t>(buffer);
        buffer >>= kBitsPerByte;
        pending -= kBitsPerByte;
      }
    }
    pending += pad_bits;  // zero bits
    while (pending >= kBitsPerByte) {
      out[o++] = static_cast<std::uint8_t>(buffer);
      buffer >>= kBitsPerByte;
      pending -= kBitsPerByte;
    }
  }
  if (pending > 0) out[o++] = static_cast<std::uint8_t>(buffer);
}

void unpack_row_generic(const WeightFormat& format, const std::uint8_t* packed, std::size_t k,
                        std::int8_t* codes) {
  require_integer_format(format, "unpack_row");
  require_pattern_multiple(format, k, "unpack_row");
  const int len = format.pattern_length();
  const int pad_bits = format.pattern_storage_bits() - format.pattern_bits();
  const int arithmetic_shift = kBitsPerByte - format.max_bits();
  std::uint64_t buffer = 0;
  int available = 0;
  std::size_t o = 0;
  for (std::size_t i = 0; i < k; i += static_cast<std::size_t>(len)) {
    for (int j = len - 1; j >= 0; --j) {
      const int b = format.slot_bits[static_cast<std::size_t>(j)];
      while (available < b) {
        buffer |= static_cast<std::uint64_t>(packed[o++]) << available;
        available += kBitsPerByte;
      }
      const auto field = static_cast<std::uint8_t>(buffer & ((1u << b) - 1));
      buffer >>= b;
      available -= b;
      // Sign-extend the b-bit field and shift it to c = v << (bmax - b) in one arithmetic shift.
      const auto top = static_cast<std::int8_t>(static_cast<std::uint8_t>(field << (8 - b)));
      codes[i + static_cast<std::size_t>(j)] = static_cast<std::int8_t>(top >> arithmetic_shift);
    }
    // Padding bits lie inside the pattern's own bytes; drop them.
    int skip = pad_bits;
    while (skip > 0) {
      if (available == 0) {
        buffer = packed[o++];
        available = kBitsPerByte;
      }
      const int n = std::min(skip, available);
      buffer >>= n;
      available -= n;
      skip -= n;
    }
  }
}

void pack_row_unchecked(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
                        std::uint8_t* out) {
  require_integer_format(format, "pack_row");
  require_pattern_multiple(format, k, "pack_row");
  if (const auto* fast = detail::find_fast_kernels(format)) {
    fast->pack(codes, k, out);
  } else {
    pack_row_generic(format, codes, k, out);
  }
}

void pack_row(const WeightFormat& format, const std::int8_t* codes, std::size_t k,
              std::uint8_t* out) {
  require_integer_format(format, "pack_row");
  require_pattern_multiple(format, k, "pack_row");
  check_codes(format, codes, k);
  pack_row_unchecked(format, codes, k, out);
}

void unpack_row(const WeightFormat& format, const std::uint8_t* packed, std::size_t k,
                std::int8_t* codes) {
  require_integer_format(format, "unpack_row");
  require_pattern_multiple(format, k, "unpack_row");
  if (const auto* fast = detail::find_fast_kernels(format)) {
    fast->unpack(packed, k, codes);
  } else {
    unpack_row_generic(format, packed, k, codes);
  }
}

}  // namespace lpusim
