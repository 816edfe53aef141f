// Specialised pack/unpack kernels for the built-in weight formats. The slot widths are template
// parameters, so every shift and mask is a constant: 8 pattern codes of a pattern w <= 8 bits wide
// take exactly w bytes (8 for a byte-padded pattern), built in or read from one 64-bit
// little-endian word. int8 is a copy and int4 a nibble loop.
#include "kernels/pack_fast.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/elem_sizes.h"
#include "kernels/int_math.h"

namespace lpusim::detail {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the fast kernels load packed words little-endian; use the generic path");

constexpr int kPatternsPerBlock = 8;  // 8 pattern codes of w bits = w whole bytes
constexpr int kWordBytes = 8;

// Compile-time description of a pattern [B...].
template <bool Pad, int... B>
struct Pattern {
  static constexpr int kLength = sizeof...(B);
  static constexpr int kBits[kLength] = {B...};
  static constexpr int kWidth = (B + ...);
  static constexpr int kStorage = Pad ? static_cast<int>(round_up(kWidth, kBitsPerByte)) : kWidth;
  static constexpr int kMax = [] {
    int m = 0;
    for (int b : kBits) m = b > m ? b : m;
    return m;
  }();
  static constexpr int kBlockBytes = kStorage * kPatternsPerBlock / kBitsPerByte;
  static constexpr int kBlockWeights = kLength * kPatternsPerBlock;
  static_assert(kBlockBytes <= kWordBytes, "fast kernels need patterns of at most 8 bits");

  // Bit position of slot j inside its pattern code: the slots after it hold the lower bits.
  static constexpr int position(int j) {
    int p = 0;
    for (int m = j + 1; m < kLength; ++m) p += kBits[m];
    return p;
  }
  static constexpr int shift(int j) { return kMax - kBits[j]; }
};

template <class P>
inline std::uint64_t pack_block(const std::int8_t* codes) {
  std::uint64_t word = 0;
#pragma GCC unroll 16
  for (int i = 0; i < kPatternsPerBlock; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < P::kLength; ++j) {
      const std::uint64_t field =
          (static_cast<std::uint8_t>(codes[i * P::kLength + j]) >> P::shift(j)) &
          ((1u << P::kBits[j]) - 1);
      word |= field << (i * P::kStorage + P::position(j));
    }
  }
  return word;
}

template <class P>
inline void unpack_block(std::uint64_t word, std::int8_t* codes) {
#pragma GCC unroll 16
  for (int i = 0; i < kPatternsPerBlock; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < P::kLength; ++j) {
      constexpr int kByte = 8;
      const int b = P::kBits[j];
      const int top = i * P::kStorage + P::position(j) + b;  // one past the field's top bit
      // Bring the field to the top of a byte, then one arithmetic shift sign-extends it and
      // leaves c = v << (bmax - b).
      const auto high =
          static_cast<std::uint8_t>(top >= kByte ? word >> (top - kByte) : word << (kByte - top));
      const auto mask = static_cast<std::uint8_t>(0xFF << (kByte - b));
      codes[i * P::kLength + j] =
          static_cast<std::int8_t>(static_cast<std::int8_t>(high & mask) >> (kByte - P::kMax));
    }
  }
}

template <class P>
void pack_row_fast(const std::int8_t* codes, std::size_t k, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + P::kBlockWeights <= k; i += P::kBlockWeights) {
    const std::uint64_t word = pack_block<P>(codes + i);
    std::memcpy(out, &word, P::kBlockBytes);
    out += P::kBlockBytes;
  }
  if (i == k) return;
  // Tail of fewer than 8 pattern codes: pad with zero codes, write only the bytes it covers.
  std::int8_t tail[P::kBlockWeights] = {};
  std::memcpy(tail, codes + i, k - i);
  const std::uint64_t word = pack_block<P>(tail);
  const std::size_t bits = (k - i) / P::kLength * P::kStorage;
  std::memcpy(out, &word, ceil_div(bits, kBitsPerByte));
}

template <class P>
void unpack_row_fast(const std::uint8_t* packed, std::size_t k, std::int8_t* codes) {
  const std::size_t full_blocks = k / P::kBlockWeights;
  const std::size_t row_bytes = ceil_div((k / P::kLength) * P::kStorage, kBitsPerByte);
  std::size_t block = 0;
  // A block loads 8 bytes but consumes kBlockBytes: stop while the load stays inside the row.
  for (; block < full_blocks && block * P::kBlockBytes + kWordBytes <= row_bytes; ++block) {
    std::uint64_t word;
    std::memcpy(&word, packed + block * P::kBlockBytes, kWordBytes);
    unpack_block<P>(word, codes + block * P::kBlockWeights);
  }
  for (std::size_t i = block * P::kBlockWeights; i < k; i += P::kBlockWeights) {
    const std::size_t offset = block * P::kBlockBytes;
    std::uint64_t word = 0;
    std::memcpy(&word, packed + offset, std::min<std::size_t>(kWordBytes, row_bytes - offset));
    std::int8_t out[P::kBlockWeights];
    unpack_block<P>(word, out);
    std::memcpy(codes + i, out, std::min<std::size_t>(P::kBlockWeights, k - i));
    ++block;
  }
}

void pack_int8(const std::int8_t* codes, std::size_t k, std::uint8_t* out) {
  if (k > 0) std::memcpy(out, codes, k);  // an empty row may come with null pointers
}

void unpack_int8(const std::uint8_t* packed, std::size_t k, std::int8_t* codes) {
  if (k > 0) std::memcpy(codes, packed, k);
}

// int4: k even in bits 0-3, k odd in bits 4-7 (what LSB-first dense packing gives).
void pack_int4(const std::int8_t* codes, std::size_t k, std::uint8_t* out) {
  for (std::size_t i = 0; i < k / 2; ++i) {
    out[i] = static_cast<std::uint8_t>((codes[2 * i] & 0x0F) |
                                       (static_cast<std::uint8_t>(codes[2 * i + 1]) << 4));
  }
  if (k % 2 != 0) out[k / 2] = static_cast<std::uint8_t>(codes[k - 1] & 0x0F);
}

void unpack_int4(const std::uint8_t* packed, std::size_t k, std::int8_t* codes) {
  for (std::size_t i = 0; i < k / 2; ++i) {
    const std::uint8_t byte = packed[i];
    codes[2 * i] = static_cast<std::int8_t>(static_cast<std::int8_t>(byte << 4) >> 4);
    codes[2 * i + 1] = static_cast<std::int8_t>(static_cast<std::int8_t>(byte) >> 4);
  }
  if (k % 2 != 0) {
    codes[k - 1] = static_cast<std::int8_t>(static_cast<std::int8_t>(packed[k / 2] << 4) >> 4);
  }
}

using Q35 = Pattern<false, 4, 3>;
using Q35B8 = Pattern<true, 4, 3>;
using Q3 = Pattern<false, 3>;
using Q25 = Pattern<false, 3, 2>;

struct Entry {
  std::vector<int> slot_bits;
  bool pad;
  FastRowKernels kernels;
};

const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {{8}, false, {pack_int8, unpack_int8}},
      {{4}, false, {pack_int4, unpack_int4}},
      {{4, 3}, false, {pack_row_fast<Q35>, unpack_row_fast<Q35>}},
      {{4, 3}, true, {pack_row_fast<Q35B8>, unpack_row_fast<Q35B8>}},
      {{3}, false, {pack_row_fast<Q3>, unpack_row_fast<Q3>}},
      {{3, 2}, false, {pack_row_fast<Q25>, unpack_row_fast<Q25>}},
  };
  return entries;
}

}  // namespace

const FastRowKernels* find_fast_kernels(const WeightFormat& format) {
  for (const auto& e : table()) {
    if (e.pad == format.pad_pattern_to_byte && e.slot_bits == format.slot_bits) return &e.kernels;
  }
  return nullptr;
}

}  // namespace lpusim::detail
