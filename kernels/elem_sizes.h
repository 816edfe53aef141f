// Bytes of the element types the kernels and the workload lay out by hand (fp16 weights and
// metadata, f32 activations, int32 accumulators). They equal elem_bytes() of the matching ElemType
// (a unit test checks it); these are constants so that sizes and strides stay constant
// expressions. Signed, like the strides of a View.
#pragma once

#include <cstdint>

namespace lpusim {

inline constexpr std::int64_t kFp16Bytes = 2;
inline constexpr std::int64_t kF32Bytes = 4;
inline constexpr std::int64_t kInt32Bytes = 4;
inline constexpr std::int64_t kInt8Bytes = 1;
inline constexpr std::int64_t kU16Bytes = 2;
// MATMUL partial sums are int32 (integer weights) or f32 (fp16 weights): the same width.
inline constexpr std::int64_t kMatmulPartialBytes = kInt32Bytes;
static_assert(kInt32Bytes == kF32Bytes, "MATMUL partials of both kinds share one layout");

inline constexpr int kBitsPerByte = 8;

}  // namespace lpusim
