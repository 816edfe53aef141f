// Transparent huge pages for large allocations (the kernel's THP mode is `madvise`).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace lpusim {

// Asks the kernel to back the whole huge pages inside [data, data + bytes) with huge pages: a
// block of hundreds of MB then takes a few hundred page faults instead of tens of thousands, and
// its walks miss the TLB far less. A hint: where the system has no huge pages to give, nothing
// changes. Blocks under two huge pages are left alone.
inline void advise_huge_pages(const void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
  if (bytes < 2 * kHugePage) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHugePage - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace lpusim
