#include "jouleperf/estimate/ideal.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <utility>

namespace jouleperf::estimate {

Result<hardware::Precision> precision_for_weight_type(std::string_view wt) {
  if (wt == "f32" || wt == "fp32") return hardware::Precision::kFp32;
  if (wt.empty() || wt == "f16" || wt == "fp16" || wt == "bf16") return hardware::Precision::kBf16;
  if (wt.size() >= 2 && (wt[0] == 'q' || wt[0] == 'Q') && wt[1] >= '2' && wt[1] <= '8')
    return hardware::Precision::kInt8;
  return make_error(Errc::kInvalidArgument, "no precision known for weight type '" + std::string(wt) +
                                                "' (name one with --precision: fp32, bf16, fp8, int8)");
}

Result<DeviceRating> rating_from_profile(const hardware::HardwareProfile& profile, hardware::Precision precision) {
  const double peak = profile.peak_flops.at(precision);
  if (!(peak > 0.0))
    return make_error(Errc::kUnsupported, fmt::format("hardware profile {} has no {} peak (use --precision or "
                                                      "--peak-flops)",
                                                      profile.name, hardware::precision_name(precision)));
  DeviceRating r;
  r.tdp_w = profile.tdp_w;
  r.peak_flops_per_s = peak;
  const std::string field = "peak_flops." + std::string(hardware::precision_name(precision));
  r.source =
      fmt::format("{} {}: TDP {:g} W ({}), peak {:.4g} FLOP/s ({})", profile.name, hardware::precision_name(precision),
                  profile.tdp_w, profile.source_of("tdp_w"), peak, profile.source_of(field));
  return r;
}

Result<IdealEstimate> ideal_energy(const ModelInfo& model, const DeviceRating& device, const WorkloadBins& bins,
                                   const RequestLengths* lengths, LogitsMode logits) {
  if (!std::isfinite(device.tdp_w) || !(device.tdp_w > 0.0))
    return make_error(Errc::kInvalidArgument, "TDP must be a finite number > 0 W");
  if (!std::isfinite(device.peak_flops_per_s) || !(device.peak_flops_per_s > 0.0))
    return make_error(Errc::kInvalidArgument, "peak FLOP/s must be a finite number > 0");
  IdealEstimate r;
  r.joules_per_flop = device.tdp_w / device.peak_flops_per_s;
  r.source = device.source;
  for (const auto& b : bins.bins)
    r.flops_binned +=
        static_cast<double>(b.requests) * request_flops(model, b.input_tokens, b.output_tokens, logits).total();
  r.energy_j = r.joules_per_flop * r.flops_binned;
  if (lengths != nullptr) {
    const auto index = bin_index_of_requests(bins, *lengths);
    std::map<std::pair<std::uint32_t, std::uint32_t>, double> cache;
    double flops = 0.0;
    for (std::size_t k = 0; k < index.size(); ++k) {
      if (index[k] >= bins.bins.size()) continue;
      const auto key = std::pair{lengths->inputs[k], lengths->outputs[k]};
      auto it = cache.find(key);
      if (it == cache.end()) it = cache.emplace(key, request_flops(model, key.first, key.second, logits).total()).first;
      flops += it->second;
    }
    r.flops_real = flops;
    r.real_energy_j = r.joules_per_flop * flops;
  }
  return r;
}

}  // namespace jouleperf::estimate
