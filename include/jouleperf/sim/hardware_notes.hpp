// What the simulator draws from a hardware profile, for `hardware show`: the device
// kind's power curve and where it comes from, and for GPUs the calibrated vllm stack's
// achieved rates (its efficiencies times the datasheet figures).
#pragma once

#include <string>
#include <vector>

#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::sim {

// Lines for people (rates in FLOP/s and B/s with SI prefixes, host time in ms). Never fails.
std::vector<std::string> hardware_notes(const hardware::HardwareProfile& p);

}  // namespace jouleperf::sim
