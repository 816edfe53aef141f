// `.lpuasm` caps: a number or a count in the text that would drive an allocation (a semaphore's
// starting count, the number of semaphores, tags or instructions) is refused at its line, just past
// the cap, and accepted at the cap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kernels/asm.h"
#include "kernels/error.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    read_asm(text, "k.lpuasm");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(AsmLimits, SemaphoreInitAtTheCap_IsAccepted) {
  const Program p = read_asm(".sem s init=65535\n", "k.lpuasm");
  ASSERT_EQ(p.semaphores.size(), 1u);
  EXPECT_EQ(p.semaphores[0].initial, AsmLimits::kMaxSemaphoreInit);
}

TEST(AsmLimits, SemaphoreInitOnePastTheCap_IsRefusedAtItsLine) {
  EXPECT_THAT(error_of(".sem a\n.sem s init=65536\n"),
              HasSubstr("k.lpuasm:2: .sem: init: expected at most 65535, got 65536"));
}

TEST(AsmLimits, SemaphoreInitOfInt32Max_IsRefused) {
  EXPECT_THAT(error_of(".sem s init=2147483647\n"), HasSubstr("expected at most 65535"));
}

TEST(AsmLimits, SemaphoreInitsSummingPastTheTotalCap_AreRefused) {
  std::string text;
  const std::uint64_t per = AsmLimits::kMaxSemaphoreInit;
  const std::uint64_t full = AsmLimits::kMaxTotalSemaphoreInit / per;  // 16 at 65535 fit
  for (std::uint64_t i = 0; i < full; ++i) text += ".sem s" + std::to_string(i) + " init=65535\n";
  EXPECT_NO_THROW(read_asm(text, "k.lpuasm"));
  text += ".sem last init=65535\n";
  EXPECT_THAT(error_of(text), HasSubstr(":" + std::to_string(full + 1) +
                                        ": .sem: init: expected the semaphores' "
                                        "init= to sum to at most 1048576"));
}

TEST(AsmLimits, SemaphoreCountPastTheCap_IsRefused) {
  std::string text;
  for (std::size_t i = 0; i < AsmLimits::kMaxSemaphores; ++i)
    text += ".sem s" + std::to_string(i) + "\n";
  EXPECT_NO_THROW(read_asm(text, "k.lpuasm"));
  text += ".sem one_more\n";
  EXPECT_THAT(error_of(text), HasSubstr(".sem: expected at most 65536 semaphores, got more"));
}

TEST(AsmLimits, TagCountPastTheCap_IsRefused) {
  std::string text;
  text.reserve(AsmLimits::kMaxTags * 10);
  for (std::size_t i = 0; i < AsmLimits::kMaxTags; ++i) text += ".tag t" + std::to_string(i) + "\n";
  EXPECT_EQ(read_asm(text, "k.lpuasm").tags.size(), AsmLimits::kMaxTags + 1);  // + "no tag"
  text += ".tag one_more\n";
  EXPECT_THAT(error_of(text), HasSubstr(".tag: expected at most 65536 tags, got more"));
}

// 4,194,305 one-cycle NOPs: refused at the line of the one past the cap (about 1 s, 400 MB).
TEST(AsmLimits, InstructionCountPastTheCap_IsRefusedAtItsLine) {
  const std::string nop = "  NOP n=1\n";
  std::string text = ".queue vxm\n";
  text.reserve(text.size() + (AsmLimits::kMaxInstructions + 1) * nop.size());
  for (std::size_t i = 0; i <= AsmLimits::kMaxInstructions; ++i) text += nop;
  EXPECT_THAT(error_of(text),
              HasSubstr("k.lpuasm:" + std::to_string(AsmLimits::kMaxInstructions + 2) +
                        ": expected at most 4194304 instructions in a program"));
}

}  // namespace
}  // namespace lpusim
