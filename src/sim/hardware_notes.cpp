#include "jouleperf/sim/hardware_notes.hpp"

#include <fmt/format.h>

#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

namespace {

std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  return fmt::format("{:.4g} {}{}", v, prefixes[i], unit);
}

}  // namespace

std::vector<std::string> hardware_notes(const hardware::HardwareProfile& p) {
  std::vector<std::string> out;
  const PowerModel pm = default_power_model(p.kind);
  out.push_back(
      fmt::format("simulator power model: P = idle + (TDP - idle) * f(a), f(a) = {:.3g} + {:.3g} * a^{:.3g}, "
                  "a = min(1, compute util + {:.3g} * memory util)",
                  pm.active_floor, 1.0 - pm.active_floor, pm.exponent, pm.memory_weight));
  const auto note = power_model_calibration(p.kind);
  out.push_back(
      "  " + (note.empty() ? std::string("engineering estimate, not fitted (docs/simulator.md)") : std::string(note)));
  if (p.kind != hardware::DeviceKind::kGpu) return out;
  auto v = find_stack("vllm");
  if (!v) return out;
  const auto& f = p.peak_flops;
  out.push_back(fmt::format(
      "vllm on this profile: {} bf16 ({:.3g} of peak), {} ({:.3g} of bandwidth), {:.3g} ms host per step",
      si(v->compute_efficiency * (f.bf16 > 0 ? f.bf16 : f.fp32), "FLOP/s"), v->compute_efficiency,
      si(v->memory_efficiency * p.memory_bandwidth_bps, "B/s"), v->memory_efficiency, v->host_s_per_step * 1e3));
  if (!v->calibration.empty()) out.push_back("  " + v->calibration);
  return out;
}

}  // namespace jouleperf::sim
