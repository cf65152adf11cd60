// Random variates built only on std::mt19937_64's raw output, whose sequence the C++
// standard fixes, so a seed gives the same workload with every compiler and library
// (std::*_distribution are implementation-defined). No global generator: callers pass one.
#pragma once

#include <random>

namespace jouleperf::workload {

// Uniform in [0, 1): the top 53 bits of one draw.
double uniform01(std::mt19937_64& rng);
// Standard normal (Box-Muller, two draws per variate, nothing cached).
double standard_normal(std::mt19937_64& rng);
// Exponential with the given rate (> 0), mean 1 / rate.
double exponential(std::mt19937_64& rng, double rate);
// Gamma with shape k > 0 and scale theta > 0 (Marsaglia-Tsang; shape < 1 by boosting).
double gamma_variate(std::mt19937_64& rng, double shape, double scale);

}  // namespace jouleperf::workload
