#include "jouleperf/sensor/nvml_settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "jouleperf/core/text.hpp"

namespace jouleperf {

namespace {

constexpr const char* kPowerLimit = "power_limit_mw";
constexpr const char* kLockedClocks = "locked_clocks_mhz";
constexpr const char* kReset = "reset";
constexpr const char* kFix = "run as root or with CAP_SYS_ADMIN, with persistence mode on (`nvidia-smi -pm 1`)";

// "<uuid>/<what>" split; kInvalidArgument for anything else.
struct Target {
  std::string uuid, what;
};
Result<Target> parse_target(const std::string& target) {
  const auto slash = target.find('/');
  if (slash == std::string::npos || slash == 0 ||
      (target.substr(slash + 1) != kPowerLimit && target.substr(slash + 1) != kLockedClocks))
    return make_error(Errc::kInvalidArgument, fmt::format("nvml: \"{}\" is not a setting (<uuid>/{} or <uuid>/{})",
                                                          target, kPowerLimit, kLockedClocks));
  return Target{target.substr(0, slash), target.substr(slash + 1)};
}

// An NVML error on `uuid`, with the fix when it is a permission.
Error on_gpu(const std::string& uuid, const Error& e) {
  std::string msg = fmt::format("GPU {}: {}", uuid, e.message);
  if (e.code == Errc::kPermissionDenied) msg += fmt::format(" ({})", kFix);
  return make_error(e.code, msg);
}

class NvmlWriter final : public SettingWriter {
 public:
  explicit NvmlWriter(std::shared_ptr<const NvmlLibrary> lib) : lib_(std::move(lib)) {}
  std::string backend() const override { return "nvml"; }

  Result<std::string> read(const std::string& target) const override {
    auto t = parse_target(target);
    if (!t) return t.error();
    auto dev = lib_->device_by_uuid(t->uuid);
    if (!dev) return dev.error();
    if (t->what == kLockedClocks) return std::string(kReset);
    auto mw = lib_->power_limit_mw(*dev);
    if (!mw) return on_gpu(t->uuid, mw.error());
    return std::to_string(*mw);
  }

  Result<std::string> in_force(const std::string& target) const override {
    auto t = parse_target(target);
    if (!t) return t.error();
    auto dev = lib_->device_by_uuid(t->uuid);
    if (!dev) return dev.error();
    auto v = t->what == kLockedClocks ? lib_->sm_clock_mhz(*dev) : lib_->enforced_power_limit_mw(*dev);
    if (!v) return on_gpu(t->uuid, v.error());
    return std::to_string(*v);
  }

  Status write(const std::string& target, const std::string& value) override {
    auto t = parse_target(target);
    if (!t) return t.error();
    auto dev = lib_->device_by_uuid(t->uuid);
    if (!dev) return dev.error();
    Status st;
    if (t->what == kLockedClocks && value == kReset) {
      st = lib_->reset_locked_clocks(*dev);
    } else {
      auto n = parse_u64(value);
      if (!n || *n == 0 || *n > 0xffffffffULL)
        return make_error(Errc::kInvalidArgument,
                          fmt::format("nvml: {} = \"{}\" is not a positive whole number{}", target, value,
                                      t->what == kLockedClocks ? " or reset" : ""));
      const auto v = static_cast<unsigned>(*n);
      st = t->what == kLockedClocks ? lib_->set_locked_clocks_mhz(*dev, v, v) : lib_->set_power_limit_mw(*dev, v);
    }
    if (!st) return on_gpu(t->uuid, st.error());
    return {};
  }

 private:
  std::shared_ptr<const NvmlLibrary> lib_;
};

// May this process set the power limit? Sets it to the value it has (changes nothing).
Status check_permission(const NvmlLibrary& lib, nvml::Device dev, const std::string& uuid, const char* setting) {
  auto now = lib.power_limit_mw(dev);
  if (!now) return on_gpu(uuid, now.error());
  if (auto st = lib.set_power_limit_mw(dev, *now); !st)
    return on_gpu(uuid, make_error(st.error().code, fmt::format("{}: {}", setting, st.error().message)));
  return {};
}

// NvmlWriter over a library loaded on first use.
class LazyNvmlWriter final : public SettingWriter {
 public:
  explicit LazyNvmlWriter(std::string library) : library_(std::move(library)) {}
  std::string backend() const override { return "nvml"; }
  Result<std::string> read(const std::string& target) const override {
    auto w = writer();
    if (!w) return w.error();
    return (*w)->read(target);
  }
  Result<std::string> in_force(const std::string& target) const override {
    auto w = writer();
    if (!w) return w.error();
    return (*w)->in_force(target);
  }
  Status write(const std::string& target, const std::string& value) override {
    auto w = writer();
    if (!w) return w.error();
    return (*w)->write(target, value);
  }

 private:
  Result<SettingWriter*> writer() const {
    if (!inner_) {
      auto lib = NvmlLibrary::open(library_);
      if (!lib) return make_error(lib.error().code, "nvml: " + lib.error().message);
      inner_ = std::make_unique<NvmlWriter>(std::move(*lib));
    }
    return inner_.get();
  }
  std::string library_;
  mutable std::unique_ptr<NvmlWriter> inner_;
};

}  // namespace

std::unique_ptr<SettingWriter> nvml_writer(std::shared_ptr<const NvmlLibrary> lib) {
  return std::make_unique<NvmlWriter>(std::move(lib));
}

std::unique_ptr<SettingWriter> nvml_writer(std::string library) {
  return std::make_unique<LazyNvmlWriter>(std::move(library));
}

Status check_gpu_power_limit(const NvmlLibrary& lib, const std::string& uuid, double watts) {
  auto dev = lib.device_by_uuid(uuid);
  if (!dev) return dev.error();
  auto range = lib.power_limit_range_mw(*dev);
  if (!range) return on_gpu(uuid, range.error());
  const double mw = watts * 1000.0;
  if (mw < range->min_mw || mw > range->max_mw)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("GPU {}: gpu_power_limit_w {:g} is outside the range it accepts, {:g}..{:g} W "
                                  "(nvmlDeviceGetPowerManagementLimitConstraints)",
                                  uuid, watts, range->min_mw / 1000.0, range->max_mw / 1000.0));
  return check_permission(lib, *dev, uuid, "gpu_power_limit_w");
}

Status check_gpu_locked_clock(const NvmlLibrary& lib, const std::string& uuid, unsigned mhz) {
  auto dev = lib.device_by_uuid(uuid);
  if (!dev) return dev.error();
  auto clocks = lib.supported_graphics_clocks_mhz(*dev);
  if (!clocks) return on_gpu(uuid, clocks.error());
  if (std::find(clocks->begin(), clocks->end(), mhz) == clocks->end()) {
    std::vector<unsigned> near = *clocks;
    std::sort(near.begin(), near.end(), [mhz](unsigned a, unsigned b) {
      return std::abs(static_cast<long>(a) - static_cast<long>(mhz)) <
             std::abs(static_cast<long>(b) - static_cast<long>(mhz));
    });
    near.resize(std::min<std::size_t>(near.size(), 3));
    return make_error(Errc::kInvalidArgument,
                      fmt::format("GPU {}: gpu_locked_clocks_mhz {} is not a supported graphics clock "
                                  "(nvmlDeviceGetSupportedGraphicsClocks: {}..{} MHz, {} clocks; nearest {})",
                                  uuid, mhz, clocks->empty() ? 0 : clocks->back(),
                                  clocks->empty() ? 0 : clocks->front(), clocks->size(), fmt::join(near, ", ")));
  }
  // May this process lock clocks, and does the GPU support it (Volta and newer, not MIG)?
  // Unlocking is the value restore writes anyway.
  if (auto st = lib.reset_locked_clocks(*dev); !st)
    return on_gpu(uuid, make_error(st.error().code, fmt::format("gpu_locked_clocks_mhz: {}", st.error().message)));
  return {};
}

}  // namespace jouleperf
