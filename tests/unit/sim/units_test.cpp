// Unit-bearing config values: exact scales, strict grammar, messages that say what was expected,
// and canonical printing that parses back to the identical value.
#include "sim/config/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace lpusim {
namespace {

using ::testing::HasSubstr;

std::string message_of(void (*parse)(std::string_view), std::string_view text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

void bytes(std::string_view text) { parse_bytes(text); }
void bandwidth(std::string_view text) { parse_bandwidth(text); }
void frequency(std::string_view text) { parse_frequency(text); }
void duration(std::string_view text) { parse_duration(text); }
void count(std::string_view text) { parse_count(text); }
void energy_per_byte(std::string_view text) { parse_energy_per_byte(text); }

TEST(Units, DecimalSizes_ArePowersOfTen) {
  EXPECT_EQ(parse_bytes("64 B").count, 64u);
  EXPECT_EQ(parse_bytes("2 KB").count, 2000u);
  EXPECT_EQ(parse_bytes("2 kB").count, 2000u);
  EXPECT_EQ(parse_bytes("3 MB").count, 3000000u);
  EXPECT_EQ(parse_bytes("80 GB").count, 80000000000u);
  EXPECT_EQ(parse_bytes("1 TB").count, 1000000000000u);
}

TEST(Units, BinarySizes_ArePowersOfTwo) {
  EXPECT_EQ(parse_bytes("1 KiB").count, 1024u);
  EXPECT_EQ(parse_bytes("220 MiB").count, 220u * 1024 * 1024);
  EXPECT_EQ(parse_bytes("2.5 MiB").count, 2621440u);
  EXPECT_EQ(parse_bytes("1 GiB").count, 1u << 30);
  EXPECT_EQ(parse_bytes("1 TiB").count, 1ull << 40);
}

TEST(Units, SpacesAroundAndBetween_AreOptional) {
  EXPECT_EQ(parse_bytes("  64B ").count, 64u);
  EXPECT_EQ(parse_frequency("900MHz").value, 900e6);
}

TEST(Units, Bandwidth_PerSecondAndPerCycle) {
  EXPECT_EQ(parse_bandwidth("80 GB/s").value, 80e9);
  EXPECT_FALSE(parse_bandwidth("80 GB/s").per_cycle);
  EXPECT_EQ(parse_bandwidth("3.35 TB/s").value, 3.35e12);
  EXPECT_EQ(parse_bandwidth("1 GiB/s").value, 1073741824.0);
  EXPECT_EQ(parse_bandwidth("5 KB/s").value, 5000.0);
  const Bandwidth per_cycle = parse_bandwidth("56320 B/cycle");
  EXPECT_TRUE(per_cycle.per_cycle);
  EXPECT_EQ(per_cycle.value, 56320.0);
}

TEST(Units, Bandwidth_ConvertsBetweenSecondsAndCyclesAtTheClock) {
  const Hertz clock{900e6};
  EXPECT_EQ(parse_bandwidth("10240 B/cycle").per_second_at(clock).value, 10240.0 * 900e6);
  EXPECT_EQ(parse_bandwidth("90 GB/s").bytes_per_cycle_at(clock), 100.0);
  EXPECT_EQ(parse_bandwidth("100 B/cycle").bytes_per_cycle_at(clock), 100.0);
}

TEST(Units, Frequency_AnyCase) {
  EXPECT_EQ(parse_frequency("900 MHz").value, 900e6);
  EXPECT_EQ(parse_frequency("1.5 GHz").value, 1.5e9);
  EXPECT_EQ(parse_frequency("32 kHz").value, 32e3);
  EXPECT_EQ(parse_frequency("10 Hz").value, 10.0);
  EXPECT_EQ(parse_frequency("900 mhz").value, 900e6);
}

TEST(Units, Duration_SecondsAndCycles) {
  EXPECT_EQ(parse_duration("100 ns").value, 100e-9);
  EXPECT_EQ(parse_duration("250 ps").value, 250e-12);
  EXPECT_EQ(parse_duration("1 us").value, 1e-6);
  EXPECT_EQ(parse_duration("2 ms").value, 2e-3);
  EXPECT_EQ(parse_duration("1 s").value, 1.0);
  const Duration cycles = parse_duration("90 cycles");
  EXPECT_TRUE(cycles.in_cycles);
  EXPECT_DOUBLE_EQ(cycles.seconds_at(Hertz{900e6}).value, 100e-9);
  EXPECT_TRUE(parse_duration("1 cycle").in_cycles);
}

TEST(Units, Energy_PerByteAndPerBitAndPerOpAndPower) {
  EXPECT_EQ(parse_energy_per_byte("20 pJ/B"), 20.0);
  EXPECT_DOUBLE_EQ(parse_energy_per_byte("3.9 pJ/bit"), 31.2);
  EXPECT_EQ(parse_energy_per_byte("500 fJ/B"), 0.5);
  EXPECT_EQ(parse_energy_per_op("0.2 pJ"), 0.2);
  EXPECT_EQ(parse_energy_per_op("1 nJ"), 1000.0);
  EXPECT_EQ(parse_power("15 W"), 15.0);
  EXPECT_EQ(parse_power("500 mW"), 0.5);
}

TEST(Units, Count_IsAWholeNumberWithoutUnit) {
  EXPECT_EQ(parse_count("4"), 4);
  EXPECT_EQ(parse_count(" 320 "), 320);
  EXPECT_EQ(parse_count("-3"), -3);
  EXPECT_THAT(message_of(count, "4.5"), HasSubstr("expected a whole number like \"4\""));
  EXPECT_THAT(message_of(count, "4 planes"), HasSubstr("got \"4 planes\""));
  EXPECT_THAT(message_of(count, "1e3"), HasSubstr("expected a whole number"));
  EXPECT_THAT(message_of(count, ""), HasSubstr("expected a whole number"));
}

TEST(Units, NotANumber_SaysWhatWasExpected) {
  EXPECT_EQ(message_of(bandwidth, "eighty"),
            "expected a bandwidth like \"80 GB/s\", got \"eighty\"");
  EXPECT_THAT(message_of(bytes, "lots"), HasSubstr("expected a size like \"220 MiB\""));
  EXPECT_THAT(message_of(frequency, "fast"), HasSubstr("expected a frequency like \"900 MHz\""));
  EXPECT_THAT(message_of(duration, ""), HasSubstr("expected a time like \"100 ns\""));
}

TEST(Units, NumberWithoutUnit_IsAnError) {
  EXPECT_THAT(message_of(bandwidth, "80"), HasSubstr("the number needs a unit"));
  EXPECT_THAT(message_of(bytes, "64"), HasSubstr("the number needs a unit"));
  EXPECT_THAT(message_of(frequency, "900000000"), HasSubstr("the number needs a unit"));
  EXPECT_THAT(message_of(duration, "100"), HasSubstr("the number needs a unit"));
}

TEST(Units, UnitOfAnotherKind_IsAnError) {
  EXPECT_EQ(message_of(bandwidth, "80 GB"),
            "expected a bandwidth like \"80 GB/s\", got \"80 GB\" (that is "
            "a size)");
  EXPECT_THAT(message_of(bytes, "80 GB/s"), HasSubstr("(that is a bandwidth)"));
  EXPECT_THAT(message_of(frequency, "100 ns"), HasSubstr("(that is a time)"));
  EXPECT_THAT(message_of(duration, "900 MHz"), HasSubstr("(that is a frequency)"));
  EXPECT_THAT(message_of(energy_per_byte, "20 pJ"), HasSubstr("(that is an energy)"));
}

TEST(Units, UnknownUnit_IsNamed) {
  EXPECT_THAT(message_of(bandwidth, "80 GBps"), HasSubstr("unknown unit \"GBps\""));
  EXPECT_THAT(message_of(bytes, "8 Gb"), HasSubstr("unknown unit \"Gb\""));
}

TEST(Units, Sizes_AreWholeAndNotNegative) {
  EXPECT_THAT(message_of(bytes, "-5 MiB"), HasSubstr("a size cannot be negative"));
  EXPECT_THAT(message_of(bytes, "1.5 B"), HasSubstr("not a whole number of bytes"));
}

TEST(Units, NonFiniteOrMalformedNumbers_AreErrors) {
  EXPECT_THAT(message_of(bandwidth, "inf GB/s"), HasSubstr("expected a bandwidth"));
  EXPECT_THAT(message_of(bandwidth, "nan GB/s"), HasSubstr("expected a bandwidth"));
  EXPECT_THAT(message_of(bandwidth, "1e999 GB/s"), HasSubstr("out of range"));
  EXPECT_THAT(message_of(bandwidth, ". GB/s"), HasSubstr("expected a bandwidth"));
  EXPECT_EQ(parse_bandwidth("8e10 B/s").value, 80e9);
  EXPECT_EQ(parse_bandwidth(".5 GB/s").value, 0.5e9);
}

TEST(Units, ErrorsCarryTheirLocation) {
  try {
    parse_bandwidth("eighty", SourceLocation{"x.yaml", 12, "memory.bandwidth"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "x.yaml:12: memory.bandwidth: expected a bandwidth like \"80 GB/s\", got \"eighty\"");
    EXPECT_EQ(e.where().line, 12);
  }
}

TEST(Units, Formatting_PicksTheLargestExactUnit) {
  EXPECT_EQ(format_bytes(Bytes{220u * 1024 * 1024}), "220 MiB");
  EXPECT_EQ(format_bytes(Bytes{80000000000u}), "80 GB");
  EXPECT_EQ(format_bytes(Bytes{64}), "64 B");
  EXPECT_EQ(format_bytes(Bytes{0}), "0 B");
  EXPECT_EQ(format_bandwidth(BytesPerSecond{80e9}), "80 GB/s");
  EXPECT_EQ(format_bandwidth(BytesPerSecond{3.35e12}), "3.35 TB/s");
  EXPECT_EQ(format_frequency(Hertz{900e6}), "900 MHz");
  EXPECT_EQ(format_duration(Seconds{100e-9}), "100 ns");
  EXPECT_EQ(format_duration(Seconds{1e-6}), "1 us");
  EXPECT_EQ(format_duration(Seconds{0}), "0 s");
  EXPECT_EQ(format_bytes_per_cycle(56320), "56320 B/cycle");
  EXPECT_EQ(format_energy_per_byte(31.2), "31.2 pJ/B");
  EXPECT_EQ(format_energy_per_op(0.3), "0.3 pJ");
  EXPECT_EQ(format_power(30), "30 W");
}

TEST(Units, Formatting_ParsesBackToTheIdenticalValue) {
  for (double rate : {80e9, 3.35e12, 31.5e9, 1.0 / 3.0, 123456789.123, 1e20, 7.0}) {
    EXPECT_EQ(parse_bandwidth(format_bandwidth(BytesPerSecond{rate})).value, rate) << rate;
  }
  for (double seconds : {100e-9, 1e-6, 1.0 / 900e6, 0.25, 3e-13, 12.5}) {
    EXPECT_EQ(parse_duration(format_duration(Seconds{seconds})).value, seconds) << seconds;
  }
  for (double hertz : {900e6, 1.25e9, 1.0 / 7.0, 33.0}) {
    EXPECT_EQ(parse_frequency(format_frequency(Hertz{hertz})).value, hertz) << hertz;
  }
  for (double per_cycle : {56320.0, 100.0 / 9.0}) {
    EXPECT_EQ(parse_bandwidth(format_bytes_per_cycle(per_cycle)).value, per_cycle);
  }
  for (std::uint64_t size : {1ull, 1000ull, 1024ull, 2621440ull, 1ull << 40, 12345678901ull}) {
    EXPECT_EQ(parse_bytes(format_bytes(Bytes{size})).count, size) << size;
  }
}

}  // namespace
}  // namespace lpusim
