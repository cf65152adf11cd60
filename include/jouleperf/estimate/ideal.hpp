// The FLOPs-ideal baseline (the paper's "naive" estimate): the energy a device would
// use running the workload's FLOPs at its peak rate and its rated power,
// E_ideal = TDP / peak FLOP/s * sum over bins N(I*, O*) * FLOPs(I*, O*).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/hardware/profile.hpp"
#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf::estimate {

// A device's rated power and peak throughput.
struct DeviceRating {
  double tdp_w = 0.0;             // W
  double peak_flops_per_s = 0.0;  // FLOP/s at the precision used
  std::string source;             // "h100-sxm bf16 (datasheet ...)" or "--tdp-w/--peak-flops"
};

// The arithmetic precision the matrix units run for a weight type: f32 -> fp32,
// f16 / bf16 / "" (as stored, built-ins are bf16) -> bf16, q8_0 / q4_0 / q4_k... (llama.cpp
// quantized types, integer dot products) -> int8. kInvalidArgument otherwise.
Result<hardware::Precision> precision_for_weight_type(std::string_view weight_type);

// TDP and the peak at `precision` from a profile. kUnsupported when the profile has no
// peak at that precision (name it with --precision or give --peak-flops).
Result<DeviceRating> rating_from_profile(const hardware::HardwareProfile& profile, hardware::Precision precision);

struct IdealEstimate {
  double joules_per_flop = 0.0;         // TDP / peak, J/FLOP
  double flops_binned = 0.0;            // sum over bins N * FLOPs(I*, O*)
  double energy_j = 0.0;                // the paper's E_ideal on the bins, J
  std::optional<double> flops_real;     // sum over requests FLOPs(i, o)
  std::optional<double> real_energy_j;  // E_ideal on the real lengths, J
  std::string source;                   // DeviceRating::source
};

// E_ideal on the bins and, when `lengths` is given, on every request's real lengths
// (requests in no bin are left out, as in the bins). kInvalidArgument for a TDP or peak
// that is not finite and > 0.
Result<IdealEstimate> ideal_energy(const ModelInfo& model, const DeviceRating& device, const WorkloadBins& bins,
                                   const RequestLengths* lengths, LogitsMode logits = LogitsMode::kLast);

}  // namespace jouleperf::estimate
