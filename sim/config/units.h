// Parsing and printing of unit-bearing config values ("900 MHz", "80 GB/s", "220 MiB", "100 ns",
// "56320 B/cycle", "20 pJ/B"): exact SI/IEC scales, strict grammar, errors that say what was
// expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/error.h"
#include "kernels/quantity.h"

namespace lpusim {

// A bandwidth as written: per second ("80 GB/s") or per clock cycle ("56320 B/cycle").
struct Bandwidth {
  double value = 0;
  bool per_cycle = false;

  BytesPerSecond per_second_at(Hertz clock) const;
  double bytes_per_cycle_at(Hertz clock) const;
};

// A duration as written: in seconds ("100 ns") or in clock cycles ("90 cycles").
struct Duration {
  double value = 0;
  bool in_cycles = false;

  Seconds seconds_at(Hertz clock) const;
};

// Each parser accepts surrounding spaces and an optional space between number and unit, and
// throws InputError at `where` ("expected a bandwidth like "80 GB/s", got "eighty"") on a
// missing number, a missing or unknown unit, or a unit of another kind. Sign and range are
// the caller's to check, except that sizes must be whole non-negative byte counts.

// Sizes: B; KB/MB/GB/TB (powers of 10, "kB" too); KiB/MiB/GiB/TiB (powers of 2).
Bytes parse_bytes(std::string_view text, const SourceLocation& where = {});
// Bandwidths: B/s, KB/s..TB/s, KiB/s..TiB/s, and B/cycle.
Bandwidth parse_bandwidth(std::string_view text, const SourceLocation& where = {});
// Frequencies: Hz, kHz, MHz, GHz (case-insensitive).
Hertz parse_frequency(std::string_view text, const SourceLocation& where = {});
// Durations: ps, ns, us, ms, s, and cycle(s).
Duration parse_duration(std::string_view text, const SourceLocation& where = {});
// A plain whole number without unit ("4", "-1"); no fraction, no exponent.
std::int64_t parse_count(std::string_view text, const SourceLocation& where = {});
// Energy per byte in pJ/B: fJ/B, pJ/B, nJ/B, and per bit (fJ/bit, pJ/bit, nJ/bit).
double parse_energy_per_byte(std::string_view text, const SourceLocation& where = {});
// Energy per operation in pJ: fJ, pJ, nJ.
double parse_energy_per_op(std::string_view text, const SourceLocation& where = {});
// Power in W: mW, W, kW.
double parse_power(std::string_view text, const SourceLocation& where = {});

// Canonical printing: the largest unit whose text parses back to exactly the same value.
std::string format_bytes(Bytes size);                    // "220 MiB", "64 B", "80 GB"
std::string format_bandwidth(BytesPerSecond rate);       // "80 GB/s"
std::string format_bytes_per_cycle(double rate);         // "56320 B/cycle"
std::string format_frequency(Hertz frequency);           // "900 MHz"
std::string format_duration(Seconds duration);           // "100 ns"
std::string format_energy_per_byte(double pj_per_byte);  // "160 pJ/B"
std::string format_energy_per_op(double pj);             // "0.3 pJ"
std::string format_power(double watts);                  // "30 W"

}  // namespace lpusim
