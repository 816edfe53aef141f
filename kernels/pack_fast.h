// Specialised pack/unpack kernels for the built-in weight formats (int8, int4, q3.5, q3.5-b8,
// q3, q2.5): whole blocks of 8 pattern codes through one 64-bit little-endian word.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/format.h"

namespace lpusim::detail {

using PackRowFn = void (*)(const std::int8_t* codes, std::size_t k, std::uint8_t* out);
using UnpackRowFn = void (*)(const std::uint8_t* packed, std::size_t k, std::int8_t* codes);

// One format's kernels. They assume k is a multiple of the pattern length and do not check
// codes; they agree bit for bit with pack_row_generic / unpack_row_generic.
struct FastRowKernels {
  PackRowFn pack;
  UnpackRowFn unpack;
};

// The kernels of `format`, or nullptr when only the generic path applies (pattern:*, fp16).
const FastRowKernels* find_fast_kernels(const WeightFormat& format);

}  // namespace lpusim::detail
