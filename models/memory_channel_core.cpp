#include "models/memory_channel_core.h"

#include <algorithm>
#include <cmath>

#include "kernels/int_math.h"

namespace lpusim {

MemoryChannelCore::MemoryChannelCore(const MemoryConfig& config)
    : config_(config),
      latency_fs_(seconds_to_fs(config.latency.value)),
      burst_fs_(occupancy_fs(config.burst.count)),
      outstanding_(static_cast<std::uint64_t>(std::max(config.outstanding, 1))),
      never_throttled_(mul_saturated(outstanding_ - 1, burst_fs_) >= latency_fs_) {}

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

bool MemoryChannelCore::window_full() const {
  return !never_throttled_ && window_bursts_ >= outstanding_;
}

Femtoseconds MemoryChannelCore::front_last_byte() const {
  const BurstRun& f = window_.front();
  return add_saturated(f.start, occupancy_fs(mul_saturated(f.first + 1, config_.burst.count)));
}

Femtoseconds MemoryChannelCore::issue_slot_fs(Femtoseconds ready_fs) const {
  if (!window_full()) return ready_fs;
  return std::max(ready_fs, add_saturated(front_last_byte(), latency_fs_));
}

void MemoryChannelCore::push_run(Femtoseconds start, std::uint64_t count) {
  window_.push_back(BurstRun{start, 0, count});
  window_bursts_ += count;
  while (window_bursts_ > outstanding_) {
    BurstRun& f = window_.front();
    const std::uint64_t drop = std::min(f.count, window_bursts_ - outstanding_);
    f.first += drop;
    f.count -= drop;
    window_bursts_ -= drop;
    if (f.count == 0) window_.pop_front();
  }
}

void MemoryChannelCore::shift_window(std::uint64_t periods) {
  const Femtoseconds shift = mul_saturated(periods, add_saturated(latency_fs_, burst_fs_));
  for (BurstRun& run : window_) run.start = add_saturated(run.start, shift);
  channel_free_fs_ = add_saturated(channel_free_fs_, shift);
}

TransferTiming MemoryChannelCore::schedule(Femtoseconds ready_fs, std::uint64_t bytes,
                                           std::uint64_t rows) {
  const Femtoseconds issue_fs = issue_slot_fs(ready_fs);
  stats_.stall_fs += issue_fs - ready_fs;
  const std::uint64_t moved = mul_saturated(rounded_bytes(bytes), rows);
  TransferTiming t;
  t.start = std::max(issue_fs, channel_free_fs_);
  if (never_throttled_ || moved == 0) {
    // No burst waits for a slot: the transfer crosses the channel in one run.
    t.last_byte = add_saturated(t.start, occupancy_fs(moved));
    stats_.busy_fs = add_saturated(stats_.busy_fs, t.last_byte - t.start);
    channel_free_fs_ = t.last_byte;
  } else {
    // Bursts in runs: burst i issues when burst i - outstanding has landed (its slot is free) and
    // crosses the channel when the bursts before it have. While the window is full, the next
    // bursts follow the oldest run of the window one slot later, so they go as one run of up to
    // that run's length. Once that slot rule, not the channel, sets a run's start ("binding"), it
    // sets every later burst of the transfer: burst i + outstanding lands exactly one period
    // (latency + one burst) after burst i. After a whole window of binding bursts, the rest of
    // the transfer repeats that window period by period, so whole periods are skipped at once.
    const std::uint64_t burst = config_.burst.count;
    std::uint64_t remaining = moved / burst;
    std::uint64_t binding_bursts = 0;
    bool first = true;
    while (remaining > 0) {
      const bool full = window_bursts_ >= outstanding_;
      const Femtoseconds slot = full ? add_saturated(front_last_byte(), latency_fs_) : 0;
      const bool binding = full && slot >= channel_free_fs_ && slot >= ready_fs;
      if (binding && binding_bursts >= outstanding_ && remaining >= outstanding_) {
        const std::uint64_t periods = remaining / outstanding_;
        const Femtoseconds window_busy = occupancy_fs(mul_saturated(outstanding_, burst));
        stats_.busy_fs = add_saturated(stats_.busy_fs, mul_saturated(periods, window_busy));
        shift_window(periods);
        remaining -= periods * outstanding_;
        continue;
      }
      const Femtoseconds at = std::max({ready_fs, slot, channel_free_fs_});
      const std::uint64_t k =
          std::min(remaining, full ? window_.front().count : outstanding_ - window_bursts_);
      if (first) t.start = at;
      first = false;
      const Femtoseconds end = add_saturated(at, occupancy_fs(mul_saturated(k, burst)));
      stats_.busy_fs = add_saturated(stats_.busy_fs, end - at);
      channel_free_fs_ = end;
      push_run(at, k);
      binding_bursts = binding ? binding_bursts + k : 0;
      remaining -= k;
    }
    t.last_byte = channel_free_fs_;
  }
  t.complete = add_saturated(t.last_byte, latency_fs_);
  stats_.transfers += 1;
  stats_.bytes = add_saturated(stats_.bytes, mul_saturated(bytes, rows));
  stats_.burst_bytes = add_saturated(stats_.burst_bytes, moved);
  in_flight_.add(t.start, t.complete);
  return t;
}

}  // namespace lpusim
