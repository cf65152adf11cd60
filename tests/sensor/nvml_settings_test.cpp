// A GPU's power limit and locked clocks through NVML, the checks made before a sweep
// changes them, and the device probes and watch of the thermal protocol (issue 19,
// docs/controls.md) — against the fake libnvidia-ml (tests/sensor/fake_nvml.c), whose GPU
// draws min(limit, demand) for the work this process does and whose temperature follows
// that power with a time constant.
#include "jouleperf/sensor/nvml_settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/device_probe.hpp"
#include "jouleperf/sensor/device_watch.hpp"
#include "jouleperf/sensor/nvml.hpp"
#include "jouleperf/sensor/nvml_library.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

constexpr const char* kUuid = "GPU-00000000-0000-0000-0000-000000000000";

std::string slurp(const std::filesystem::path& p) {
  std::stringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Keeps this process busy for `s` seconds (the fake GPU does the process's work).
void busy_for(double s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
  volatile double x = 1.0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 10000; ++i) x = x * 1.0000001 + 1e-9;
}

class NvmlSettingsTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("FAKE_NVML_SCRIPT"); }
  // One modelled GPU: 60 W idle, 300 W flat out, limit 100..300 W, four clocks, 30 C
  // ambient, 0.15 C/W, time constant `tau_s`; extra keys appended.
  std::shared_ptr<NvmlLibrary> open(const std::string& extra = "", double tau_s = 0.2) {
    state_ = (dir_.path() / "gpu.state").string();
    const auto script =
        dir_.write("nvml.txt",
                   "gpu demand_mw=60000,300000 max_limit_mw=300000 min_limit_mw=100000 clocks_mhz=1980,1500,1200,900 "
                   "ambient_c=30 c_per_w=0.15 tau_s=" +
                       std::to_string(tau_s) + " slowdown_c=80 state=" + state_ + " " + extra + " name=Fake H100\n");
    setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
    auto lib = NvmlLibrary::open(JP_FAKE_NVML_LIB);
    EXPECT_TRUE(lib) << lib.error().to_string();
    return lib ? *lib : nullptr;
  }
  testing::TempDir dir_;
  std::string state_;
};

TEST_F(NvmlSettingsTest, TheWriterSetsReadsBackAndResetsThePowerLimitAndClocks) {
  auto lib = open();
  ASSERT_TRUE(lib);
  auto w = nvml_writer(lib);
  EXPECT_EQ(w->backend(), "nvml");
  const std::string limit = std::string(kUuid) + "/power_limit_mw", clocks = std::string(kUuid) + "/locked_clocks_mhz";
  auto before = w->read(limit);
  ASSERT_TRUE(before) << before.error().to_string();
  EXPECT_EQ(*before, "300000");
  ASSERT_TRUE(w->write(limit, "150000"));
  EXPECT_EQ(*w->in_force(limit), "150000");                 // the enforced limit, read back
  EXPECT_TRUE(contains(slurp(state_), "limit_mw 150000"));  // the driver keeps it past this process
  // NVML cannot read locked clocks back: the original is "reset", the record the clock now.
  EXPECT_EQ(*w->read(clocks), "reset");
  ASSERT_TRUE(w->write(clocks, "1500"));
  EXPECT_EQ(*w->in_force(clocks), "1500");
  EXPECT_TRUE(contains(slurp(state_), "locked_mhz 1500"));
  ASSERT_TRUE(w->write(clocks, "reset"));
  EXPECT_TRUE(contains(slurp(state_), "locked_mhz 0"));
  // Malformed targets and values, a UUID no GPU has.
  EXPECT_EQ(w->read(std::string(kUuid) + "/fan_speed").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(w->write(limit, "lots").error().code, Errc::kInvalidArgument);
  auto nobody = w->read("GPU-ffffffff-0000-0000-0000-000000000000/power_limit_mw");
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, Errc::kNotFound);
  // Outside the board's range NVML refuses (INVALID_ARGUMENT).
  EXPECT_EQ(w->write(limit, "50000").error().code, Errc::kInvalidArgument);
}

TEST_F(NvmlSettingsTest, ChecksRefuseOutOfRangeUnsupportedAndForbiddenSettingsChangingNothing) {
  {
    auto lib = open();
    ASSERT_TRUE(lib);
    EXPECT_TRUE(check_gpu_power_limit(*lib, kUuid, 150));
    EXPECT_TRUE(check_gpu_locked_clock(*lib, kUuid, 1200));
    auto low = check_gpu_power_limit(*lib, kUuid, 90);
    ASSERT_FALSE(low);
    EXPECT_EQ(low.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(low.error().message, "gpu_power_limit_w 90 is outside the range it accepts, 100..300 W"))
        << low.error().message;
    auto odd = check_gpu_locked_clock(*lib, kUuid, 1234);
    ASSERT_FALSE(odd);
    EXPECT_EQ(odd.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(odd.error().message, "nearest 1200, 1500, 900")) << odd.error().message;
    auto clocks = lib->supported_graphics_clocks_mhz(*lib->device_by_uuid(kUuid));
    ASSERT_TRUE(clocks);
    EXPECT_EQ(*clocks, (std::vector<unsigned>{1980, 1500, 1200, 900}));
  }
  // Not root: NO_PERMISSION, found by setting the limit it already has; the fix named.
  std::filesystem::remove(state_);  // the checks above set the limit to the value it had
  auto lib = open("set_rc=4");
  ASSERT_TRUE(lib);
  for (const auto& st : {check_gpu_power_limit(*lib, kUuid, 150), check_gpu_locked_clock(*lib, kUuid, 1200)}) {
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::kPermissionDenied);
    EXPECT_TRUE(contains(st.error().message, kUuid)) << st.error().message;
    EXPECT_TRUE(contains(st.error().message, "CAP_SYS_ADMIN")) << st.error().message;
    EXPECT_TRUE(contains(st.error().message, "nvidia-smi -pm 1")) << st.error().message;
  }
  EXPECT_FALSE(std::filesystem::exists(state_));  // nothing was set
}

TEST_F(NvmlSettingsTest, PowerFollowsTheCapAndTemperatureFollowsPower) {
  auto lib = open();
  ASSERT_TRUE(lib);
  auto dev = *lib->device_by_uuid(kUuid);
  ASSERT_TRUE(lib->set_power_limit_mw(dev, 100000));
  ASSERT_TRUE(lib->temperature_c(dev));  // the model starts counting here
  busy_for(1.0);
  auto busy_mw = lib->power_mw(dev);
  ASSERT_TRUE(busy_mw);
  EXPECT_LE(*busy_mw, 100000u);  // min(cap, demand): the cap binds
  EXPECT_GT(*busy_mw, 90000u);
  auto reasons = lib->throttle_reasons(dev);
  ASSERT_TRUE(reasons);
  EXPECT_TRUE(*reasons & nvml::kThrottleSwPowerCap) << *reasons;
  EXPECT_LT(*lib->sm_clock_mhz(dev), 1980u);  // capped: below the maximum clock
  // 1 s is 5 time constants: at steady state, 30 C + 0.15 C/W x 100 W.
  auto hot = lib->temperature_c(dev);
  ASSERT_TRUE(hot);
  EXPECT_NEAR(*hot, 45.0, 1.5);
  ::usleep(1000000);  // idle: 60 W, toward 39 C
  EXPECT_NEAR(*lib->temperature_c(dev), 39.0, 1.5);
  EXPECT_TRUE(*lib->throttle_reasons(dev) & nvml::kThrottleGpuIdle);
  EXPECT_NEAR(*lib->power_mw(dev), 60000.0, 6000.0);
}

// The sensor's conditions say, read-only, what the controls allow and what holds the clock:
// `jouleperf sensors --sensor nvml -o json` shows them (the check to run on a lent GPU).
TEST_F(NvmlSettingsTest, TheSensorsConditionsSayWhatTheControlsAllow) {
  auto lib = open();
  ASSERT_TRUE(lib);
  SteadyClock clock;
  std::vector<SensorProblem> problems;
  NvmlOptions o;
  o.library = JP_FAKE_NVML_LIB;
  auto sensors = open_nvml_sensors(o, clock, problems);
  ASSERT_TRUE(sensors) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  std::map<std::string, std::string> facts;
  for (const auto& [k, v] : (*sensors)[0]->conditions()) facts[k] = v;
  EXPECT_EQ(facts["power_limit_range_w"], "100..300");
  EXPECT_EQ(facts["default_power_limit_w"], "300");
  EXPECT_EQ(facts["max_sm_clock_mhz"], "1980");
  EXPECT_EQ(facts["graphics_clocks_mhz"], "900..1980 (4 clocks)");
  EXPECT_EQ(facts["slowdown_temp_c"], "80");
  EXPECT_EQ(facts["throttle_reasons"], "gpu_idle");  // nothing runs
}

TEST(NvmlThrottleReasons, NamesEveryBitAndSpellsUnknownOnesInHex) {
  EXPECT_TRUE(nvml::throttle_reason_names(0).empty());
  EXPECT_EQ(nvml::throttle_reason_names(nvml::kThrottleGpuIdle | nvml::kThrottleSwPowerCap |
                                        nvml::kThrottleHwThermalSlowdown | 0x10000),
            (std::vector<std::string>{"gpu_idle", "sw_power_cap", "hw_thermal_slowdown", "0x10000"}));
}

TEST_F(NvmlSettingsTest, TheWatchSeesTemperatureRiseAndThrottleReasonsOverAWindow) {
  auto lib = open("", 0.5);
  ASSERT_TRUE(lib);
  ASSERT_TRUE(lib->set_power_limit_mw(*lib->device_by_uuid(kUuid), 150000));
  auto probe = nvml_probe(lib, kUuid, "gpu:0");
  ASSERT_TRUE(probe) << probe.error().to_string();
  std::vector<std::unique_ptr<DeviceProbe>> probes;
  probes.push_back(std::move(*probe));
  SteadyClock clock;
  auto watch = DeviceWatch::start(std::move(probes), clock, 0.05);
  ASSERT_TRUE(watch) << watch.error().to_string();
  const double t0 = clock.now().value();
  ASSERT_TRUE((*watch)->read_now());
  busy_for(1.0);
  ASSERT_TRUE((*watch)->read_now());
  const auto w = (*watch)->window(t0, clock.now().value());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].domain, "gpu:0");
  EXPECT_GE(w[0].reads, 5u);  // the thread polled between the two reads
  ASSERT_TRUE(w[0].temp_start_c && w[0].temp_end_c && w[0].temp_max_c);
  EXPECT_GT(*w[0].temp_end_c, *w[0].temp_start_c + 5.0);  // toward 52.5 C from 30 C
  EXPECT_EQ(*w[0].power_limit_w, 150.0);
  EXPECT_TRUE(w[0].throttle_known);
  EXPECT_TRUE(w[0].throttle_reasons & nvml::kThrottleSwPowerCap);
  EXPECT_TRUE((*watch)->last_error().empty()) << (*watch)->last_error();
  EXPECT_FALSE(DeviceWatch::start({}, clock, 0.05));  // nothing to watch
}

TEST(ThermalZones, EveryZoneWithATemperatureIsAProbeNamedByItsTypeAndCpuHwmonToo) {
  testing::TempDir dir;
  dir.write("thermal/thermal_zone0/type", "acpitz\n");
  dir.write("thermal/thermal_zone0/temp", "41000\n");
  dir.write("thermal/thermal_zone1/type", "x86_pkg_temp\n");
  dir.write("thermal/thermal_zone1/temp", "56500\n");
  dir.write("thermal/thermal_zone2/type", "x86_pkg_temp\n");
  dir.write("thermal/thermal_zone2/temp", "57000\n");
  dir.write("thermal/thermal_zone3/type", "iwlwifi_1\n");
  dir.write("thermal/thermal_zone3/temp", "");               // a zone that does not answer now: left out
  dir.write("thermal/cooling_device0/type", "Processor\n");  // not a zone
  auto probes = thermal_zone_probes((dir.path() / "thermal").string());
  ASSERT_TRUE(probes) << probes.error().to_string();
  ASSERT_EQ(probes->size(), 3u);
  EXPECT_EQ((*probes)[0]->domain(), "thermal:acpitz");
  EXPECT_EQ((*probes)[1]->domain(), "thermal:x86_pkg_temp:1");  // types repeat: the zone's number too
  auto t = (*probes)[1]->read();
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(*t->temperature_c, 56.5);
  dir.write("thermal/thermal_zone2/temp", "broken\n");  // later reads that fail name the file
  auto bad = (*probes)[2]->read();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_TRUE(contains(bad.error().message, "thermal_zone2/temp")) << bad.error().message;
  // hwmon: only the CPU's drivers; temp1_input is the package (coretemp) or Tctl (k10temp).
  dir.write("hwmon/hwmon0/name", "nvme\n");
  dir.write("hwmon/hwmon0/temp1_input", "38850\n");
  dir.write("hwmon/hwmon3/name", "k10temp\n");
  dir.write("hwmon/hwmon3/temp1_input", "61250\n");
  auto hwmon = cpu_hwmon_probes((dir.path() / "hwmon").string());
  ASSERT_TRUE(hwmon) << hwmon.error().to_string();
  ASSERT_EQ(hwmon->size(), 1u);
  EXPECT_EQ((*hwmon)[0]->domain(), "hwmon:k10temp:3");
  EXPECT_DOUBLE_EQ(*(*hwmon)[0]->read()->temperature_c, 61.25);
  // No thermal tree (a VM): no probe, no error.
  auto none = thermal_zone_probes((dir.path() / "absent").string());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace jouleperf
