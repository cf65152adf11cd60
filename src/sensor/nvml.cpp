// One Sensor per NVIDIA GPU, over the shared NvmlLibrary: the board energy counter
// where the GPU has one, else sampled board power.
#include "jouleperf/sensor/nvml.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <optional>
#include <utility>

#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/nvml_library.hpp"
#include "jouleperf/sensor/nvml_visible.hpp"

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

// What one GPU's sensor records besides its readings.
struct GpuFacts {
  std::optional<std::string> name;            // product name
  std::optional<std::string> driver_version;  // the node's driver
  std::string max_power_basis;                // how caps.max_power_w was chosen
};

class NvmlGpuSensor final : public Sensor {
 public:
  NvmlGpuSensor(std::shared_ptr<const NvmlLibrary> lib, nvml::Device dev, SensorInfo info, GpuFacts facts,
                EnergyMode mode, bool read_power, const Clock& clock)
      : lib_(std::move(lib)),
        dev_(dev),
        info_(std::move(info)),
        facts_(std::move(facts)),
        mode_(mode),
        read_power_(read_power),
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
    if (facts_.name) out.emplace_back("name", *facts_.name);
    if (!info_.device_uuid.empty()) out.emplace_back("uuid", info_.device_uuid);
    if (facts_.driver_version) out.emplace_back("driver_version", *facts_.driver_version);
    if (auto mw = lib_->enforced_power_limit_mw(dev_))
      out.emplace_back("power_limit_w", fmt::format("{:g}", *mw * kWattsPerMilliwatt));
    if (auto c = lib_->temperature_c(dev_)) out.emplace_back("temperature_c", std::to_string(*c));
    if (auto mhz = lib_->sm_clock_mhz(dev_)) out.emplace_back("sm_clock_mhz", std::to_string(*mhz));
    add_control_facts(out);
    out.emplace_back("energy_mode", mode_ == EnergyMode::kCounter ? "counter" : "power-sampling");
    out.emplace_back("max_power_w", fmt::format("{:g}", info_.caps.max_power_w));
    out.emplace_back("max_power_basis", facts_.max_power_basis);
    if (mode_ == EnergyMode::kCounter) {
      out.emplace_back("rejected_reads", std::to_string(unwrap_.rejected()));
      out.emplace_back("counter_resets", std::to_string(unwrap_.wraps()));
    }
    return out;
  }

 private:
  Error failed(const Error& e) const { return make_error(e.code, "nvml " + info_.domain + ": " + e.message); }

  // What the power and clock controls allow and what holds the clock now (docs/controls.md),
  // read-only: the limit's range and default, the highest SM clock, the supported graphics
  // clocks, the slowdown temperature and the current throttle reasons. Each when NVML gives it.
  void add_control_facts(std::vector<std::pair<std::string, std::string>>& out) const {
    if (auto r = lib_->power_limit_range_mw(dev_))
      out.emplace_back("power_limit_range_w",
                       fmt::format("{:g}..{:g}", r->min_mw * kWattsPerMilliwatt, r->max_mw * kWattsPerMilliwatt));
    if (auto mw = lib_->default_power_limit_mw(dev_))
      out.emplace_back("default_power_limit_w", fmt::format("{:g}", *mw * kWattsPerMilliwatt));
    if (auto mhz = lib_->max_sm_clock_mhz(dev_)) out.emplace_back("max_sm_clock_mhz", std::to_string(*mhz));
    if (auto clocks = lib_->supported_graphics_clocks_mhz(dev_); clocks && !clocks->empty())
      out.emplace_back("graphics_clocks_mhz",
                       fmt::format("{}..{} ({} clocks)", clocks->back(), clocks->front(), clocks->size()));
    if (auto c = lib_->slowdown_temperature_c(dev_)) out.emplace_back("slowdown_temp_c", std::to_string(*c));
    if (auto r = lib_->throttle_reasons(dev_)) {
      std::string names;
      for (const auto& n : nvml::throttle_reason_names(*r)) {
        if (!names.empty()) names += ",";
        names += n;
      }
      out.emplace_back("throttle_reasons", names.empty() ? "none" : names);
    }
  }

  std::shared_ptr<const NvmlLibrary> lib_;  // keeps NVML initialized and loaded while this sensor lives
  nvml::Device dev_;
  SensorInfo info_;
  GpuFacts facts_;
  EnergyMode mode_;
  bool read_power_;
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

// The bound on a GPU's power, W, and how it was chosen (docs/sensors.md, "Plausibility").
std::pair<double, std::string> max_power_of(const NvmlLibrary& lib, nvml::Device dev, const NvmlOptions& opts) {
  if (opts.max_power_w) return {*opts.max_power_w, "given (options)"};
  if (auto max_mw = lib.max_power_limit_mw(dev); max_mw && *max_mw > 0)
    return {2.0 * *max_mw * kWattsPerMilliwatt,
            fmt::format("2 x the board's maximum power limit ({:g} W)", *max_mw * kWattsPerMilliwatt)};
  return {kNvmlDefaultMaxPowerW,
          fmt::format("default {:g} W (NVML gives no maximum power limit)", kNvmlDefaultMaxPowerW)};
}

// The GPU's UUID; "" when NVML cannot give it.
std::string uuid_of(const NvmlLibrary& lib, nvml::Device dev) {
  auto uuid = lib.device_uuid(dev);
  return uuid ? *uuid : std::string();
}

// The sensor of GPU `index`, or nullptr with the reason in `problems`.
std::unique_ptr<Sensor> open_gpu(const std::shared_ptr<const NvmlLibrary>& lib, unsigned index, const NvmlOptions& opts,
                                 const std::optional<std::string>& driver_version, const Clock& clock,
                                 std::vector<SensorProblem>& problems) {
  const std::string domain = "gpu:" + std::to_string(index);
  auto problem = [&](const Error& e, const std::string& what) {
    problems.push_back({"nvml", domain, make_error(e.code, what + ": " + e.message)});
    return nullptr;
  };
  auto dev = lib->device_handle(index);
  if (!dev) return problem(dev.error(), "cannot open " + domain);
  GpuFacts facts;
  facts.driver_version = driver_version;
  if (auto n = lib->device_name(*dev)) facts.name = *n;
  const std::string description =
      facts.name ? *facts.name : "NVIDIA GPU " + std::to_string(index) + " (name unavailable)";
  auto [max_power_w, basis] = max_power_of(*lib, *dev, opts);
  facts.max_power_basis = std::move(basis);
  const std::string uuid = uuid_of(*lib, *dev);

  // Probe the counter; only NOT_SUPPORTED (or FUNCTION_NOT_FOUND) means "use power".
  auto energy = lib->total_energy_mj(*dev);
  EnergyMode mode = EnergyMode::kCounter;
  bool power = true;
  if (energy) {
    power = opts.counter_power && lib->power_mw(*dev).ok();
  } else if (energy.error().code != Errc::kUnsupported) {
    return problem(energy.error(), description + ": cannot read the energy counter");
  } else if (auto mw = lib->power_mw(*dev); !mw) {
    return problem(mw.error(),
                   description + ": no energy counter (" + energy.error().message + ") and no power reading");
  } else {
    mode = EnergyMode::kPowerSampling;
  }
  SensorInfo info = gpu_info(domain, description, mode, power, max_power_w);
  info.device_uuid = uuid;
  return std::make_unique<NvmlGpuSensor>(lib, *dev, std::move(info), std::move(facts), mode, power, clock);
}

// The NVML indices to open: every GPU, or those opts.visible_devices names.
Result<std::vector<unsigned>> gpus_to_open(const NvmlLibrary& lib, unsigned count, const NvmlOptions& opts) {
  std::vector<unsigned> all(count);
  std::iota(all.begin(), all.end(), 0u);
  if (!opts.visible_devices) return all;
  std::vector<NvmlGpuId> ids;
  for (unsigned i : all) {
    NvmlGpuId id{i, ""};
    if (auto dev = lib.device_handle(i)) id.uuid = uuid_of(lib, *dev);
    ids.push_back(std::move(id));
  }
  return select_visible_gpus(*opts.visible_devices, ids);
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
  auto indices = gpus_to_open(*shared, *count, opts);
  if (!indices) return indices.error();
  if (indices->empty() && *count > 0)
    problems.push_back({"nvml", "CUDA_VISIBLE_DEVICES",
                        make_error(Errc::kNotFound, fmt::format("CUDA_VISIBLE_DEVICES='{}' makes none of the {} GPUs "
                                                                "visible to this process",
                                                                opts.visible_devices.value_or(""), *count))});
  std::optional<std::string> driver_version;
  if (auto v = shared->driver_version()) driver_version = *v;

  std::vector<std::unique_ptr<Sensor>> out;
  for (unsigned i : *indices)
    if (auto s = open_gpu(shared, i, opts, driver_version, clock, problems)) out.push_back(std::move(s));
  return out;
}

}  // namespace jouleperf
