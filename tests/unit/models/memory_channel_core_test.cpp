// Timing rules of the memory channel core, with exact femtosecond expectations.
#include "models/memory_channel_core.h"

#include <gtest/gtest.h>

#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kNs = 1'000'000;

MemoryChannelCore channel() { return MemoryChannelCore(testing::round_number_chip().memory); }

TEST(MemoryChannel, TransferOfNBytes_OccupiesBurstRoundedBytesOverBandwidth) {
  MemoryChannelCore ch = channel();
  // 100 bytes round up to 128 (two 64 B bursts): 128 B / 100 GB/s = 1.28 ns.
  const TransferTiming t = ch.schedule(0, 100, 1);
  EXPECT_EQ(t.start, 0u);
  EXPECT_EQ(t.last_byte, 1'280'000u);
  EXPECT_EQ(ch.stats().burst_bytes, 128u);
  EXPECT_EQ(ch.stats().bytes, 100u);
}

TEST(MemoryChannel, Transfer_CompletesOneLatencyAfterItsLastByte) {
  MemoryChannelCore ch = channel();
  const TransferTiming t = ch.schedule(0, 6400, 1);  // 64 ns on the channel
  EXPECT_EQ(t.last_byte, 64 * kNs);
  EXPECT_EQ(t.complete, 164 * kNs);
}

TEST(MemoryChannel, RowsAreRoundedToBurstsEach) {
  MemoryChannelCore ch = channel();
  const TransferTiming t = ch.schedule(0, 65, 3);  // 3 rows x 128 B = 384 B
  EXPECT_EQ(t.last_byte, 3'840'000u);
  EXPECT_EQ(ch.stats().burst_bytes, 384u);
}

TEST(MemoryChannel, BackToBackTransfers_SerialiseOnTheChannel) {
  MemoryChannelCore ch = channel();
  ch.schedule(0, 6400, 1);
  const TransferTiming second = ch.schedule(0, 6400, 1);
  EXPECT_EQ(second.start, 64 * kNs);
  EXPECT_EQ(second.last_byte, 128 * kNs);
  EXPECT_EQ(ch.stats().busy_fs, 128 * kNs);
}

MemoryChannelCore channel_with(int outstanding) {
  MemoryConfig config = testing::round_number_chip().memory;
  config.outstanding = outstanding;
  return MemoryChannelCore(config);
}

TEST(MemoryChannel, FullOutstandingSlots_BlockIssueUntilOldestCompletes) {
  MemoryChannelCore ch = channel_with(4);             // 4 bursts in flight
  for (int i = 0; i < 4; ++i) ch.schedule(0, 64, 1);  // each 0.64 ns, done at +100 ns latency
  const Femtoseconds first_complete = 640'000 + 100 * kNs;
  EXPECT_EQ(ch.issue_slot_fs(0), first_complete);
  EXPECT_EQ(ch.issue_slot_fs(first_complete - 1), first_complete);
  const TransferTiming fifth = ch.schedule(0, 64, 1);
  EXPECT_EQ(fifth.start, first_complete);
  EXPECT_EQ(ch.stats().stall_fs, first_complete);
}

TEST(MemoryChannel, IdleChannel_StartsTransferWhenRequested) {
  MemoryChannelCore ch = channel();
  const TransferTiming t = ch.schedule(500 * kNs, 64, 1);
  EXPECT_EQ(t.start, 500 * kNs);
}

TEST(MemoryChannel, InFlightTime_IsTheUnionOfTransferLifetimes) {
  MemoryChannelCore ch = channel();
  ch.schedule(0, 6400, 1);  // [0, 164)
  ch.schedule(0, 6400, 1);  // [64, 228)
  EXPECT_EQ(ch.in_flight().total(), 228 * kNs);
}

// Bursts, not transfers, hold the slots. 4 slots, 100 bursts of 0.64 ns, latency 100 ns: bursts
// 0..3 cross at once, [0, 2.56); burst 4 waits for burst 0 to land (100.64) and bursts 4..7
// follow it back to back, and so on: each window of 4 bursts starts one period (100 ns + one
// burst, 100.64 ns) after the previous. Burst 99 is the last of window 24: it starts at
// 24 x 100.64 + 3 x 0.64 = 2417.28 ns and ends 0.64 ns later.
TEST(MemoryChannel, OutstandingBursts_BelowBandwidthTimesLatency_ThrottleAStream) {
  MemoryChannelCore ch = channel_with(4);
  const TransferTiming t = ch.schedule(0, 6400, 1);
  EXPECT_EQ(t.start, 0u);
  EXPECT_EQ(t.last_byte, 2'417'920'000u);
  EXPECT_EQ(t.complete, t.last_byte + 100 * kNs);
  EXPECT_EQ(ch.stats().busy_fs, 64 * kNs);  // the channel carried 64 ns of data
}

// From (outstanding - 1) x burst >= bandwidth x latency on (157 x 64 B = 10,048 B >= 10,000 B),
// a stream is never throttled: 6400 B, then 64,000 B, back to back at the full bandwidth.
TEST(MemoryChannel, OutstandingBursts_CoveringBandwidthTimesLatency_DoNotThrottle) {
  for (const int outstanding : {158, 159, 256, 65536}) {
    MemoryChannelCore ch = channel_with(outstanding);
    ch.schedule(0, 6400, 1);
    const TransferTiming t = ch.schedule(0, 64000, 1);
    EXPECT_EQ(t.last_byte, 704 * kNs) << outstanding;
    EXPECT_EQ(ch.stats().stall_fs, 0u) << outstanding;
  }
}

// Raising the limit never makes a transfer later: the end of a mixed sequence of transfers,
// with idle gaps, is non-increasing in outstanding, from 1 up to the unthrottled value.
TEST(MemoryChannel, MoreOutstandingBursts_NeverFinishLater) {
  Femtoseconds previous = kMaxFemtoseconds;
  for (int outstanding = 1; outstanding <= 200; ++outstanding) {
    MemoryChannelCore ch = channel_with(outstanding);
    Femtoseconds ready = 0;
    Femtoseconds last = 0;
    for (int i = 0; i < 12; ++i) {
      const std::uint64_t bytes = 64u * static_cast<std::uint64_t>(1 + (i * 37) % 300);
      ready += static_cast<Femtoseconds>((i * 53) % 7) * 40 * kNs;
      const Femtoseconds at = ch.issue_slot_fs(ready);
      last = ch.schedule(at, bytes, 1 + static_cast<std::uint64_t>(i % 3)).complete;
      ready = at;
    }
    EXPECT_LE(last, previous) << "outstanding " << outstanding;
    previous = last;
  }
}

}  // namespace
}  // namespace lpusim
