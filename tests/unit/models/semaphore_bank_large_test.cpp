// A semaphore's initial value costs O(1) memory: the largest initial value a .lpuasm file can
// declare is held as a count, and behaves like that many increments landed at the start.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "models/semaphore_bank.h"

namespace lpusim {
namespace {

constexpr std::uint32_t kLargest = std::numeric_limits<std::int32_t>::max();

TEST(SemaphoreBank, LargestInitialValue_IsACountNotOneEntryPerUnit) {
  SemaphoreBank bank({{"big", kLargest}, {"max", std::numeric_limits<std::uint32_t>::max()}}, 7);
  EXPECT_EQ(bank.value_at(0, 7), kLargest);
  EXPECT_EQ(bank.value_at(1, 7), std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(bank.value_at(0, 6), 0u);
  EXPECT_EQ(bank.try_take(0, 7), std::optional<Femtoseconds>(7));
  EXPECT_EQ(bank.value_at(0, 100), kLargest - 1);
}

TEST(SemaphoreBank, InitialIncrements_AreTakenBeforeLaterPosts) {
  SemaphoreBank bank({{"s", 2}}, 100);
  bank.post(0, 100);
  bank.post(0, 150);
  EXPECT_FALSE(bank.try_take(0, 99).has_value());
  EXPECT_EQ(bank.earliest_pending(0), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.value_at(0, 120), 3u);
  EXPECT_EQ(bank.try_take(0, 200), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.try_take(0, 200), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.try_take(0, 200), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.earliest_pending(0), std::optional<Femtoseconds>(150));
  EXPECT_EQ(bank.try_take(0, 200), std::optional<Femtoseconds>(150));
  EXPECT_FALSE(bank.earliest_pending(0).has_value());
}

}  // namespace
}  // namespace lpusim
