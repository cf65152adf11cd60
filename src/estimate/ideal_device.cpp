#include "jouleperf/estimate/ideal_device.hpp"

#include <fmt/format.h>

#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf::estimate {
namespace {

Result<hardware::Precision> precision_of(const study::Config& c, const IdealDeviceOptions& o) {
  return o.precision.empty() ? precision_for_weight_type(c.weight_type) : hardware::parse_precision(o.precision);
}

Result<DeviceRating> host_device(const study::Config& c, const IdealDeviceOptions& o) {
  if (!o.host_fallback || !(o.host_max_w > 0.0))
    return make_error(Errc::kNotFound,
                      o.host_fallback && !o.host_power_error.empty()
                          ? "no hardware profile, and the host CPU's power is unknown: " + o.host_power_error
                          : "no hardware profile (give --hardware NAME or --tdp-w and --peak-flops)");
  hardware::HostProfileOptions ho;
  ho.threads = c.threads;
  ho.idle_w = o.host_idle_w;
  ho.max_w = o.host_max_w;
  ho.power_basis = o.host_power_basis;
  auto profile = hardware::read_host_cpu_profile(o.cpuinfo, o.meminfo, ho);
  if (!profile) return profile.error();
  auto precision = precision_of(c, o);
  if (!precision) return precision.error();
  auto r = rating_from_profile(*profile, *precision);
  if (!r) return r.error();
  r->source = fmt::format("host CPU (measured, {}; {} threads): {}", o.cpuinfo,
                          c.threads > 0 ? std::to_string(c.threads) : "all", r->source);
  return r;
}

Result<ModelInfo> model_of(const study::Config& c) {
  if (auto a = find_builtin_arch(c.model); a.ok()) return info_from_arch(*a);
  return read_gguf_info(c.model);
}

}  // namespace

Result<DeviceRating> flops_ideal_device(const study::Config& c, const IdealDeviceOptions& o,
                                        const hardware::HardwareRegistry& registry) {
  if (o.tdp_w > 0.0 || o.peak_flops > 0.0) {
    if (!(o.tdp_w > 0.0) || !(o.peak_flops > 0.0))
      return make_error(Errc::kInvalidArgument, "--tdp-w and --peak-flops go together");
    return DeviceRating{o.tdp_w, o.peak_flops, fmt::format("--tdp-w {:g} --peak-flops {:g}", o.tdp_w, o.peak_flops)};
  }
  const std::string name = o.hardware.empty() ? c.setting("hardware").value_or("") : o.hardware;
  if (name.empty()) return host_device(c, o);
  auto profile = registry.find(name);
  if (!profile) return profile.error();
  auto precision = precision_of(c, o);
  if (!precision) return precision.error();
  return rating_from_profile(*profile, *precision);
}

std::vector<ConfigInputs> flops_ideal_inputs(const std::vector<study::Config>& configs,
                                             const IdealDeviceOptions& options) {
  const hardware::HardwareRegistry registry;
  std::vector<ConfigInputs> out;
  for (const auto& c : configs) {
    ConfigInputs in;
    in.config = c;
    if (auto m = model_of(c); m)
      in.model = *m;
    else
      in.ideal_note = m.error().message;
    if (auto r = flops_ideal_device(c, options, registry); r)
      in.device = *r;
    else
      in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + r.error().message;
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace jouleperf::estimate
