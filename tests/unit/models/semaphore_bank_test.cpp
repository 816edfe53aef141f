// Semaphore timing core: increments land at their time; a wait takes the earliest landed one.
#include "models/semaphore_bank.h"

#include <gtest/gtest.h>

namespace lpusim {
namespace {

TEST(SemaphoreBank, InitialValue_IsAvailableAtStart) {
  SemaphoreBank bank({{"free", 2}}, 1000);
  EXPECT_EQ(bank.value_at(0, 1000), 2u);
  EXPECT_EQ(bank.try_take(0, 1000), std::optional<Femtoseconds>(1000));
  EXPECT_EQ(bank.value_at(0, 1000), 1u);
}

TEST(SemaphoreBank, IncrementLandingLater_IsNotTakenBeforeItLands) {
  SemaphoreBank bank({{"full", 0}}, 0);
  bank.post(0, 500);
  EXPECT_FALSE(bank.try_take(0, 499).has_value());
  EXPECT_EQ(bank.try_take(0, 500), std::optional<Femtoseconds>(500));
}

TEST(SemaphoreBank, EarliestLandedIncrement_IsTakenFirst) {
  SemaphoreBank bank({{"s", 0}}, 0);
  bank.post(0, 300);
  bank.post(0, 100);
  EXPECT_EQ(bank.earliest_pending(0), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.try_take(0, 1000), std::optional<Femtoseconds>(100));
  EXPECT_EQ(bank.try_take(0, 1000), std::optional<Femtoseconds>(300));
  EXPECT_FALSE(bank.try_take(0, 1000).has_value());
}

}  // namespace
}  // namespace lpusim
