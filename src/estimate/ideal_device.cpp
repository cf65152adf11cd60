#include "jouleperf/estimate/ideal_device.hpp"

#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf::estimate {

namespace {

Result<DeviceRating> host_rating(const HostCpuPower& cpu, const std::string& weight_type, int threads) {
  hardware::HostProfileOptions ho;
  ho.threads = threads;
  ho.idle_w = cpu.idle_w;
  ho.max_w = cpu.max_w;
  ho.power_basis = "the CPU-time model's idle and full-load power";
  auto profile = hardware::read_host_cpu_profile(cpu.cpuinfo, cpu.meminfo, ho);
  if (!profile) return profile.error();
  auto precision = precision_for_weight_type(weight_type);
  if (!precision) return precision.error();
  return rating_from_profile(*profile, *precision);
}

Result<ModelInfo> model_of(const study::Config& c) {
  if (auto a = find_builtin_arch(c.model); a.ok()) return info_from_arch(*a);
  return read_gguf_info(c.model);
}

}  // namespace

Result<DeviceRating> flops_ideal_device(const study::Config& config, const Result<HostCpuPower>& host_cpu,
                                        const hardware::HardwareRegistry& registry) {
  if (auto hw = config.setting("hardware")) {
    auto prof = registry.find(*hw);
    auto prec = precision_for_weight_type(config.weight_type);
    if (prof && prec) {
      if (auto r = rating_from_profile(*prof, *prec); r) return r;
    }
    return make_error(Errc::kNotFound, "no rating for " + *hw);
  }
  if (!host_cpu) return host_cpu.error();
  return host_rating(*host_cpu, config.weight_type, config.threads);
}

std::vector<ConfigInputs> flops_ideal_inputs(const std::vector<study::Config>& configs,
                                             const Result<HostCpuPower>& host_cpu) {
  hardware::HardwareRegistry registry;
  std::vector<ConfigInputs> out;
  for (const auto& c : configs) {
    ConfigInputs in;
    in.config = c;
    if (auto m = model_of(c); m)
      in.model = *m;
    else
      in.ideal_note = m.error().message;
    if (auto r = flops_ideal_device(c, host_cpu, registry); r)
      in.device = *r;
    else
      in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + r.error().message;
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace jouleperf::estimate
