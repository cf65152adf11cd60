// Checks on every number the command line (or its JOULEPERF_<NAME> environment mirror)
// hands a subcommand. One pass over the built CLI11 app attaches them to every option,
// so a new option is covered without a line of its own. The ranges of options that need
// more than ">= 0" are listed by long name in number_flags.cpp (kNamedRanges) and hold
// for every subcommand that has an option of that name (docs/workloads.md, "Limits").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>

#include "jouleperf/workload/arrivals.hpp"

namespace jouleperf::cli {

// The most requests a command draws, simulates or sends (-n/--count, --requests, ...):
// workload::kMaxRequests (10 million), refused before anything is allocated.
inline constexpr std::uint64_t kMaxRequestCount = workload::kMaxRequests;

// The highest idle power a command subtracts (--idle-power), W: 100 kW, a full rack.
// Above it the figure is a typo, not a machine.
inline constexpr double kMaxIdlePowerW = 100'000.0;

// Walks every option of `app` and of its subcommands, recursively, and attaches to every
// option of a numeric type (CLI11 type INT, UINT or FLOAT, lists included):
//  - an empty value is an error (CLI11 would read it as 0);
//  - FLOAT: NaN and infinities ("nan", "inf", "1e400") are errors;
//  - a negative value is an error (a UINT would wrap to 2^64 - 1) unless the option was
//    marked with allow_negative(); a UINT too large for 64 bits is an error;
//  - the option's named range, if its long name has one (kNamedRanges).
// Values from the environment mirror pass the same checks, and the message then names the
// variable. Every failure is a CLI11 ValidationError ("--flag: why"), so exit code 2.
// Call after every option is declared and the mirrors are set.
void add_number_checks(CLI::App& app);

// Marks `opt` as accepting negative numbers (add_number_checks leaves the sign alone).
CLI::Option* allow_negative(CLI::Option* opt);

}  // namespace jouleperf::cli
