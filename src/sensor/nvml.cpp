// One Sensor per NVIDIA GPU, over the shared NvmlLibrary: the board energy counter
// where the GPU has one, else sampled board power.
#include "jouleperf/sensor/nvml.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <utility>

#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/nvml_library.hpp"

namespace jouleperf {

namespace {

constexpr double kJoulesPerMillijoule = 1.0 / units::kMillijoulesPerJoule;
constexpr double kWattsPerMilliwatt = 1.0 / units::kMilliwattsPerWatt;
// NVML refreshes the energy counter and the power reading about every 100 ms on most
// boards (docs/sensors.d/nvml.md).
constexpr double kUpdateIntervalS = 0.1;

enum class EnergyMode {
  kCounter,        // nvmlDeviceGetTotalEnergyConsumption, mJ
  kPowerSampling,  // nvmlDeviceGetPowerUsage, mW, integrated by the sampler
};

class NvmlGpuSensor final : public Sensor {
 public:
  NvmlGpuSensor(std::shared_ptr<const NvmlLibrary> lib, nvml::Device dev, SensorInfo info,
                std::optional<std::string> name, EnergyMode mode, bool read_power, std::string max_power_basis,
                const Clock& clock)
      : lib_(std::move(lib)),
        dev_(dev),
        info_(std::move(info)),
        name_(std::move(name)),
        mode_(mode),
        read_power_(read_power),
        max_power_basis_(std::move(max_power_basis)),
        clock_(clock),
        unwrap_(counter_options(info_.caps.max_power_w)) {}

  const SensorInfo& info() const override { return info_; }

  Result<Reading> read() override {
    if (mode_ == EnergyMode::kCounter) {
      auto mj = lib_->total_energy_mj(dev_);
      const Seconds t = clock_.now();
      if (!mj) return failed(mj.error());
      const CounterUpdate u = unwrap_.update(*mj, t);
      Reading r;
      r.t = t;
      if (u.rejected) {
        r.rejected = "nvml " + info_.domain + ": " + *u.rejected;
        return r;
      }
      r.energy = u.energy;
      r.rebased = u.rebased;
      r.gap_s = u.gap_s;
      if (read_power_) {
        // Power is extra detail here: a failed or implausible power read does not spoil the energy.
        if (auto mw = lib_->power_mw(dev_)) {
          const double w = *mw * kWattsPerMilliwatt;
          if (w <= info_.caps.max_power_w) r.power = Watts(w);
        }
      }
      return r;
    }
    auto mw = lib_->power_mw(dev_);
    const Seconds t = clock_.now();
    if (!mw) return failed(mw.error());
    Reading r;
    r.t = t;
    r.power = Watts(*mw * kWattsPerMilliwatt);  // the Sampler rejects it above caps.max_power_w
    return r;
  }

  std::vector<std::pair<std::string, std::string>> conditions() override {
    std::vector<std::pair<std::string, std::string>> out;
    if (name_) out.emplace_back("name", *name_);
    if (auto mw = lib_->enforced_power_limit_mw(dev_))
      out.emplace_back("power_limit_w", fmt::format("{:g}", *mw * kWattsPerMilliwatt));
    if (auto c = lib_->temperature_c(dev_)) out.emplace_back("temperature_c", std::to_string(*c));
    if (auto mhz = lib_->sm_clock_mhz(dev_)) out.emplace_back("sm_clock_mhz", std::to_string(*mhz));
    out.emplace_back("energy_mode", mode_ == EnergyMode::kCounter ? "counter" : "power-sampling");
    out.emplace_back("max_power_w", fmt::format("{:g}", info_.caps.max_power_w));
    out.emplace_back("max_power_basis", max_power_basis_);
    if (mode_ == EnergyMode::kCounter) {
      out.emplace_back("rejected_reads", std::to_string(unwrap_.rejected()));
      out.emplace_back("counter_resets", std::to_string(unwrap_.wraps()));
    }
    return out;
  }

 private:
  Error failed(const Error& e) const { return make_error(e.code, "nvml " + info_.domain + ": " + e.message); }

  std::shared_ptr<const NvmlLibrary> lib_;  // keeps NVML initialized and loaded while this sensor lives
  nvml::Device dev_;
  SensorInfo info_;
  std::optional<std::string> name_;
  EnergyMode mode_;
  bool read_power_;
  std::string max_power_basis_;
  const Clock& clock_;
  CounterUnwrapper unwrap_;  // 64-bit mJ: a decrease is a driver reload (a reset), if plausible

  static CounterOptions counter_options(double max_power_w) {
    CounterOptions o;
    o.joules_per_raw = kJoulesPerMillijoule;
    o.on_decrease = CounterDecrease::kReset;
    o.max_power_w = max_power_w;
    o.slack_s = kUpdateIntervalS;
    return o;
  }
};

SensorInfo gpu_info(const std::string& domain, const std::string& description, EnergyMode mode, bool power,
                    double max_power_w) {
  SensorInfo info;
  info.caps.max_power_w = max_power_w;
  info.name = "nvml";
  info.domain = domain;
  info.description = description;
  info.caps.update_interval_s = kUpdateIntervalS;
  if (mode == EnergyMode::kCounter) {
    info.caps.energy_counter = true;
    info.caps.resolution_j = kJoulesPerMillijoule;
  }
  if (power) {
    info.caps.power = true;
    info.caps.power_resolution_w = kWattsPerMilliwatt;
  }
  return info;
}

}  // namespace

Result<std::vector<std::unique_ptr<Sensor>>> open_nvml_sensors(const NvmlOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems) {
  if (opts.max_power_w && !(*opts.max_power_w > 0 && std::isfinite(*opts.max_power_w)))
    return make_error(Errc::kInvalidArgument, "nvml: the power bound must be a positive number of W");
  auto lib = NvmlLibrary::open(opts.library);
  if (!lib) return lib.error();
  std::shared_ptr<const NvmlLibrary> shared = std::move(lib).value();
  auto count = shared->device_count();
  if (!count) return count.error();

  std::vector<std::unique_ptr<Sensor>> out;
  for (unsigned i = 0; i < *count; ++i) {
    const std::string domain = "gpu:" + std::to_string(i);
    auto problem = [&](const Error& e, const std::string& what) {
      problems.push_back({"nvml", domain, make_error(e.code, what + ": " + e.message)});
    };
    auto dev = shared->device_handle(i);
    if (!dev) {
      problem(dev.error(), "cannot open " + domain);
      continue;
    }
    std::optional<std::string> name;
    if (auto n = shared->device_name(*dev)) name = *n;
    const std::string description = name ? *name : "NVIDIA GPU " + std::to_string(i) + " (name unavailable)";

    double max_power_w = kNvmlDefaultMaxPowerW;
    std::string basis = fmt::format("default {:g} W (NVML gives no maximum power limit)", kNvmlDefaultMaxPowerW);
    if (opts.max_power_w) {
      max_power_w = *opts.max_power_w;
      basis = "given (options)";
    } else if (auto max_mw = shared->max_power_limit_mw(*dev); max_mw && *max_mw > 0) {
      max_power_w = 2.0 * *max_mw * kWattsPerMilliwatt;
      basis = fmt::format("2 x the board's maximum power limit ({:g} W)", *max_mw * kWattsPerMilliwatt);
    }

    // Probe the counter; only NOT_SUPPORTED (or FUNCTION_NOT_FOUND) means "use power".
    auto energy = shared->total_energy_mj(*dev);
    if (energy) {
      const bool power = opts.counter_power && shared->power_mw(*dev).ok();
      out.push_back(std::make_unique<NvmlGpuSensor>(
          shared, *dev, gpu_info(domain, description, EnergyMode::kCounter, power, max_power_w), name,
          EnergyMode::kCounter, power, basis, clock));
      continue;
    }
    if (energy.error().code != Errc::kUnsupported) {
      problem(energy.error(), description + ": cannot read the energy counter");
      continue;
    }
    auto power = shared->power_mw(*dev);
    if (!power) {
      problem(power.error(), description + ": no energy counter (" + energy.error().message + ") and no power reading");
      continue;
    }
    out.push_back(std::make_unique<NvmlGpuSensor>(
        shared, *dev, gpu_info(domain, description, EnergyMode::kPowerSampling, true, max_power_w), name,
        EnergyMode::kPowerSampling, true, basis, clock));
  }
  return out;
}

}  // namespace jouleperf
