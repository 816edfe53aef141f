// The memory channel module alone (round-number chip: 100 B/ns, 100 ns latency, 64 B bursts, 4 (or
// 256) transfers in flight): transfers serialise on the channel and complete a latency after their
// last byte; a fifth transfer waits for an outstanding slot; each run starts with an idle channel.
#include "models/memory_channel.h"

#include <gtest/gtest.h>

#include "tests/sc/module_harness.h"
#include "tests/support/test_hw.h"

namespace lpusim {
namespace {

constexpr Femtoseconds kNs = 1'000'000;

MemoryChannel& channel() {
  static MemoryChannel* c = [] {
    testing::set_up_kernel();
    return new MemoryChannel("memory_channel");  // lives with the elaboration
  }();
  return *c;
}

TEST(MemoryChannel, BackToBackTransfers_SerialiseAndCompleteALatencyAfterTheirLastByte) {
  MemoryChannel& m = channel();
  m.reset(testing::round_number_chip().memory);
  // 6400 B = 64 ns on the channel each; usable 100 ns after the last byte.
  const TransferTiming a = m.transfer(0, 6400, 1);
  const TransferTiming b = m.transfer(0, 6400, 1);
  EXPECT_EQ(a.start, 0u);
  EXPECT_EQ(a.last_byte, 64 * kNs);
  EXPECT_EQ(a.complete, 164 * kNs);
  EXPECT_EQ(b.start, 64 * kNs);
  EXPECT_EQ(b.last_byte, 128 * kNs);
  EXPECT_EQ(b.complete, 228 * kNs);
  EXPECT_EQ(m.core().stats().transfers, 2u);
}

TEST(MemoryChannel, FifthTransferInFlight_IssuesWhenTheFirstCompletes) {
  MemoryChannel& m = channel();
  MemoryConfig four = testing::round_number_chip().memory;
  four.outstanding = 4;  // bursts; each transfer here is one
  m.reset(four);
  // 64 B = 0.64 ns each: the first completes at 100.64 ns, when a slot frees for the fifth.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(m.issue_slot(0), 0u);
    m.transfer(0, 64, 1);
  }
  EXPECT_EQ(m.issue_slot(0), 100 * kNs + 640'000);
}

TEST(MemoryChannel, Reset_StartsTheNextRunWithAnIdleChannel) {
  MemoryChannel& m = channel();
  m.reset(testing::round_number_chip().memory);
  m.transfer(0, 6400, 1);
  m.reset(testing::round_number_chip().memory);
  const TransferTiming t = m.transfer(0, 6400, 1);
  EXPECT_EQ(t.start, 0u);
  EXPECT_EQ(m.core().stats().transfers, 1u);
}

}  // namespace
}  // namespace lpusim
