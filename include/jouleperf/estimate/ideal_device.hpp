// The one policy for the device of the FLOPs-ideal baseline (the paper's "naive" estimate,
// estimate/ideal.hpp): which rated power and peak a configuration is priced at.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/ideal.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

struct IdealDeviceOptions {
  // An explicit rating for every configuration (both or neither): TDP, W; peak, FLOP/s.
  double tdp_w = 0.0, peak_flops = 0.0;
  std::string hardware;   // a profile for every configuration (else the config's "hardware" setting)
  std::string precision;  // peak at this precision: fp32|tf32|bf16|fp8|int8 (else from the weight type)
  // The host CPU for a configuration that names no hardware: its profile from `cpuinfo`
  // (peak at the configuration's thread count) with host_max_w as its TDP — the watts the
  // CPU-time model charges every estimated cell (sensor/cpu_model.hpp resolves them).
  bool host_fallback = true;
  std::string cpuinfo = "/proc/cpuinfo", meminfo = "/proc/meminfo";
  double host_idle_w = 0.0, host_max_w = 0.0;  // W; max 0: the host's power is unknown
  std::string host_power_basis = "the CPU-time model's idle and full-load power";
  std::string host_power_error;  // why the host's power is unknown (host_max_w 0), for the note
};

// The device `config` is priced at, in this order:
//   1. tdp_w and peak_flops when given ("--tdp-w X --peak-flops Y");
//   2. the profile `hardware`, else the config's "hardware" setting, looked up in `registry`
//      at `precision` (else the precision of the config's weight type);
//   3. else (host_fallback) the measured host CPU: hardware/host_profile.hpp from cpuinfo at
//      the config's thread count, its source labelled "host CPU (measured, /proc/cpuinfo)".
// kInvalidArgument when only one of tdp_w/peak_flops is given or a precision is unknown;
// the registry's error for an unknown profile; kUnsupported for a profile without that
// peak; kNotFound without hardware when host_fallback is off or host_max_w is 0; the
// profile reader's error when cpuinfo cannot be read.
Result<DeviceRating> flops_ideal_device(const study::Config& config, const IdealDeviceOptions& options,
                                        const hardware::HardwareRegistry& registry);

// What the FLOPs-ideal baseline needs per configuration: the architecture (a built-in name
// or the GGUF's header) and the device (flops_ideal_device with `options` and the built-in
// profiles). Never fails: what is missing is absent, with why in ConfigInputs::ideal_note.
std::vector<ConfigInputs> flops_ideal_inputs(const std::vector<study::Config>& configs,
                                             const IdealDeviceOptions& options);

}  // namespace jouleperf::estimate
