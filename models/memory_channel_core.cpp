#include "models/memory_channel_core.h"

#include <algorithm>
#include <cmath>

#include "kernels/int_math.h"

namespace lpusim {

MemoryChannelCore::MemoryChannelCore(const MemoryConfig& config)
    : config_(config), latency_fs_(seconds_to_fs(config.latency.value)) {}

std::uint64_t MemoryChannelCore::rounded_bytes(std::uint64_t bytes) const {
  const std::uint64_t burst = config_.burst.count;
  return mul_saturated(ceil_div(bytes, burst), burst);
}

Femtoseconds MemoryChannelCore::occupancy_fs(std::uint64_t rounded) const {
  // Exact in integer femtoseconds for rates that divide evenly; rounded up otherwise.
  // Saturates at the maximum time when the transfer outlasts what 64-bit femtoseconds hold.
  const long double fs = static_cast<long double>(rounded) * kFemtosecondsPerSecond /
                         static_cast<long double>(config_.bandwidth.value);
  if (!(fs < static_cast<long double>(kFemtosecondLimit))) return kMaxFemtoseconds;
  return static_cast<Femtoseconds>(std::ceil(fs - 1e-6L));
}

Femtoseconds MemoryChannelCore::issue_slot_fs(Femtoseconds ready_fs) const {
  if (completions_.size() < static_cast<std::size_t>(config_.outstanding)) return ready_fs;
  return std::max(ready_fs, completions_.top());
}

TransferTiming MemoryChannelCore::schedule(Femtoseconds ready_fs, std::uint64_t bytes,
                                           std::uint64_t rows) {
  const Femtoseconds issue_fs = issue_slot_fs(ready_fs);
  stats_.stall_fs += issue_fs - ready_fs;
  while (!completions_.empty() && completions_.top() <= issue_fs) completions_.pop();

  const std::uint64_t moved = mul_saturated(rounded_bytes(bytes), rows);
  TransferTiming t;
  t.start = std::max(issue_fs, channel_free_fs_);
  t.last_byte = add_saturated(t.start, occupancy_fs(moved));
  t.complete = add_saturated(t.last_byte, latency_fs_);
  channel_free_fs_ = t.last_byte;
  completions_.push(t.complete);

  stats_.transfers += 1;
  stats_.bytes = add_saturated(stats_.bytes, mul_saturated(bytes, rows));
  stats_.burst_bytes = add_saturated(stats_.burst_bytes, moved);
  stats_.busy_fs = add_saturated(stats_.busy_fs, t.last_byte - t.start);
  busy_.add(t.start, t.last_byte);
  in_flight_.add(t.start, t.complete);
  return t;
}

}  // namespace lpusim
