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

TEST(MemoryChannel, FullOutstandingSlots_BlockIssueUntilOldestCompletes) {
  MemoryChannelCore ch = channel();                   // 4 outstanding
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

}  // namespace
}  // namespace lpusim
