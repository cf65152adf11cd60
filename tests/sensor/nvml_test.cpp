// The NVML sensor against fake libnvidia-ml builds (tests/sensor/fake_nvml.c): the
// same dlopen, the same C symbols, GPUs scripted through FAKE_NVML_SCRIPT.
#include "jouleperf/sensor/nvml.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/nvml_library.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using SensorList = std::vector<std::unique_ptr<Sensor>>;
using Conditions = std::vector<std::pair<std::string, std::string>>;

constexpr int kGpuIsLost = 15;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::map<std::string, std::string> as_map(const Conditions& c) { return {c.begin(), c.end()}; }

struct FakeCounts {
  int init_calls = 0;
  int shutdown_calls = 0;
  int depth = 0;
};

class NvmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The test's own reference keeps the fake loaded, so its counters survive the
    // sensors' dlclose and its test-only controls can be called.
    fake_ = dlopen(JP_FAKE_NVML_LIB, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(fake_, nullptr) << dlerror();
    ASSERT_TRUE(resolve("fake_nvml_lose_gpu", lose_gpu_));
    ASSERT_TRUE(resolve("fake_nvml_counts", counts_));
  }
  void TearDown() override {
    unsetenv("FAKE_NVML_SCRIPT");
    if (fake_ != nullptr) dlclose(fake_);
  }

  template <class Fn>
  bool resolve(const char* name, Fn& fn) {
    void* sym = dlsym(fake_, name);
    if (sym == nullptr) return false;
    std::memcpy(&fn, &sym, sizeof fn);
    return true;
  }

  void script(const std::string& text) {
    const auto path = dir_.write("nvml_script.txt", text);
    ASSERT_EQ(setenv("FAKE_NVML_SCRIPT", path.c_str(), 1), 0);
  }

  Result<SensorList> open(const std::string& library = JP_FAKE_NVML_LIB) {
    NvmlOptions opts;
    opts.library = library;
    return open_nvml_sensors(opts, clock_, problems_);
  }

  FakeCounts counts() const {
    FakeCounts c;
    counts_(&c.init_calls, &c.shutdown_calls, &c.depth);
    return c;
  }

  void lose_gpu(unsigned index, int rc) const { lose_gpu_(index, rc); }

  testing::TempDir dir_;
  ManualClock clock_;
  std::vector<SensorProblem> problems_;

 private:
  void* fake_ = nullptr;
  void (*lose_gpu_)(unsigned, int) = nullptr;
  void (*counts_)(int*, int*, int*) = nullptr;
};

TEST_F(NvmlTest, CounterGpuReportsScriptedMillijouleDeltas) {
  script("gpu energy_mj=123456789,250 power_mw=180500 name=NVIDIA A100-SXM4-40GB\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  EXPECT_TRUE(problems_.empty());
  Sensor& s = *sensors->at(0);
  const SensorInfo& info = s.info();
  EXPECT_EQ(info.name, "nvml");
  EXPECT_EQ(info.domain, "gpu:0");
  EXPECT_EQ(info.description, "NVIDIA A100-SXM4-40GB");
  EXPECT_TRUE(info.caps.energy_counter);
  EXPECT_TRUE(info.caps.power);
  EXPECT_FALSE(info.caps.estimated);
  EXPECT_DOUBLE_EQ(info.caps.resolution_j, 1e-3);
  EXPECT_DOUBLE_EQ(info.caps.update_interval_s, 0.1);

  auto r1 = s.read();
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  clock_.advance(Seconds(0.5));
  auto r2 = s.read();
  auto r3 = s.read();
  ASSERT_TRUE(r2.ok() && r3.ok());
  ASSERT_TRUE(r1->energy && r2->energy && r3->energy);
  // 250 mJ per call of nvmlDeviceGetTotalEnergyConsumption.
  EXPECT_NEAR((*r2->energy - *r1->energy).value(), 0.250, 1e-9);
  EXPECT_NEAR((*r3->energy - *r1->energy).value(), 0.500, 1e-9);
  EXPECT_DOUBLE_EQ(r2->t.value(), 0.5);
  ASSERT_TRUE(r2->power.has_value());
  EXPECT_DOUBLE_EQ(r2->power->value(), 180.5);
}

TEST_F(NvmlTest, HostileBoundIsTwiceTheBoardMaximumElseTheDefault) {
  script(
      "gpu energy_mj=1,1 limit_mw=300000 max_limit_mw=400000 name=NVIDIA A100-SXM4-80GB\n"
      "gpu power_mw=60000 limit_mw=250000 name=Tesla P40\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 2u);
  // The board's maximum limit (400 W), not the enforced one a sweep may change.
  EXPECT_DOUBLE_EQ(sensors->at(0)->info().caps.max_power_w, 800.0);
  EXPECT_DOUBLE_EQ(sensors->at(1)->info().caps.max_power_w, kNvmlDefaultMaxPowerW);
  const auto c0 = as_map(sensors->at(0)->conditions());
  EXPECT_EQ(c0.at("max_power_w"), "800");
  EXPECT_TRUE(contains(c0.at("max_power_basis"), "maximum power limit (400 W)")) << c0.at("max_power_basis");
  EXPECT_TRUE(contains(as_map(sensors->at(1)->conditions()).at("max_power_basis"), "default"));

  NvmlOptions given;
  given.library = JP_FAKE_NVML_LIB;
  given.max_power_w = 700.0;
  auto overridden = open_nvml_sensors(given, clock_, problems_);
  ASSERT_TRUE(overridden.ok());
  EXPECT_DOUBLE_EQ(overridden->at(0)->info().caps.max_power_w, 700.0);
  given.max_power_w = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(open_nvml_sensors(given, clock_, problems_).error().code, Errc::kInvalidArgument);
}

TEST_F(NvmlTest, HostileCounterRisingFasterThanTheBoundIsRejectedEveryTime) {
  // 100 kJ per call: every step implies megawatts, from the last good value or not.
  script("gpu energy_mj=0,100000000 power_mw=200000 max_limit_mw=400000 name=Runaway\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sensor& s = *sensors->at(0);
  auto first = s.read();
  ASSERT_TRUE(first.ok() && first->energy);
  for (int i = 0; i < 3; ++i) {
    clock_.advance(Seconds(0.1));
    auto r = s.read();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->rejected.has_value()) << i;
    EXPECT_FALSE(r->energy.has_value());
    EXPECT_TRUE(contains(*r->rejected, "nvml gpu:0")) << *r->rejected;
    EXPECT_TRUE(contains(*r->rejected, "800 W bound")) << *r->rejected;
  }
  EXPECT_EQ(as_map(s.conditions()).at("rejected_reads"), "3");
}

TEST_F(NvmlTest, HostilePowerAboveTheBoundIsRejectedByTheSampler) {
  // 4 MW once; the first value is the probe at open.
  script("gpu power_mw=100000,100000,100000,4000000000,100000 name=Tesla P100-PCIE-16GB\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sampler sampler(std::move(sensors).value(), SamplerConfig{}, clock_);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock_.advance(Seconds(1));
  sampler.snapshot();  // 4 MW: rejected
  clock_.advance(Seconds(1));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(m->total.energy_j, 200.0, 1e-9);  // 100 W bridged over 2 s
  EXPECT_EQ(m->total.rejected_reads, 1u);
  EXPECT_TRUE(contains(m->total.domains[0].rejection, "2000 W bound")) << m->total.domains[0].rejection;
}

TEST_F(NvmlTest, CounterGpuThroughSamplerAndMeter) {
  script("gpu energy_mj=5000,250 name=Tesla V100-SXM2-16GB\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  SamplerConfig cfg;
  cfg.hz = 10.0;
  Sampler sampler(std::move(sensors).value(), cfg, clock_);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  for (int k = 0; k < 4; ++k) {
    clock_.advance(Seconds(0.1));
    sampler.poll_due();
  }
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  // Reads after the meter's start: 4 polls + the closing snapshot, 250 mJ each.
  ASSERT_EQ(m->total.domains.size(), 1u);
  const DomainEnergy& d = m->total.domains[0];
  EXPECT_EQ(d.samples, 5u);
  EXPECT_EQ(d.failed_reads, 0u);
  EXPECT_NEAR(d.energy_j, 5 * 0.250, 1e-9);
  EXPECT_NEAR(m->total.energy_j, 1.25, 1e-9);
  EXPECT_EQ(d.source, EnergySource::kCounter);
  EXPECT_EQ(m->total.energy_source, "counter");
  EXPECT_FALSE(m->total.estimated);
  EXPECT_EQ(d.domain, "gpu:0");
  EXPECT_EQ(d.sensor, "nvml");
}

TEST_F(NvmlTest, GpuWithoutCounterFallsBackToPowerNeverZero) {
  // Power (W) per call: open's probe, sampler start, meter start, 4 polls, meter stop.
  const std::vector<double> power_w = {50, 100, 100, 200, 300, 300, 100, 100};
  std::string mw;
  for (double p : power_w) {
    if (!mw.empty()) mw += ',';
    mw += std::to_string(static_cast<int>(p * 1000));
  }
  script("gpu power_mw=" + mw + " name=Tesla P100-PCIE-16GB\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  const SensorInfo info = sensors->at(0)->info();
  EXPECT_FALSE(info.caps.energy_counter);
  EXPECT_TRUE(info.caps.power);
  EXPECT_DOUBLE_EQ(info.caps.power_resolution_w, 1e-3);
  EXPECT_DOUBLE_EQ(info.caps.update_interval_s, 0.1);
  EXPECT_EQ(info.description, "Tesla P100-PCIE-16GB");

  SamplerConfig cfg;
  cfg.hz = 10.0;
  Sampler sampler(std::move(sensors).value(), cfg, clock_);
  ASSERT_TRUE(sampler.start(false).ok());  // power_w[1] at t=0
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());  // power_w[2] at t=0
  for (int k = 0; k < 4; ++k) {
    clock_.advance(Seconds(0.1));
    sampler.poll_due();  // power_w[3..6] at t=0.1..0.4
  }
  auto m = meter.stop();  // power_w[7] at t=0.4 (dt = 0)
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  double expected_j = 0.0;
  for (int k = 2; k < 6; ++k) expected_j += 0.5 * (power_w[k] + power_w[k + 1]) * 0.1;
  ASSERT_NEAR(expected_j, 90.0, 1e-9);  // 15 + 25 + 30 + 20
  const DomainEnergy& d = m->total.domains.at(0);
  EXPECT_NEAR(d.energy_j, expected_j, 1e-9);
  EXPECT_GT(m->total.energy_j, 0.0);
  EXPECT_EQ(d.source, EnergySource::kPowerIntegral);
  EXPECT_EQ(m->total.energy_source, "power-integral");
  EXPECT_EQ(sampler.source(0), EnergySource::kPowerIntegral);
}

TEST_F(NvmlTest, PowerSensorReadsCarryPowerOnly) {
  script("gpu energy_rc=3 power_mw=75250 name=GeForce GTX 1080\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok());
  ASSERT_EQ(sensors->size(), 1u);
  auto r = sensors->at(0)->read();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->energy.has_value());
  ASSERT_TRUE(r->power.has_value());
  EXPECT_DOUBLE_EQ(r->power->value(), 75.25);
}

TEST_F(NvmlTest, GpuLostMidRunIsAnErrorNotAZero) {
  // Readings 1..3 succeed (the first is open's probe), then the GPU falls off the bus.
  script("gpu energy_mj=1000,100 fail_after=3 fail_rc=15 name=NVIDIA H100 80GB HBM3\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sensor& s = *sensors->at(0);
  ASSERT_TRUE(s.read().ok());
  ASSERT_TRUE(s.read().ok());
  auto bad = s.read();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kIo);
  EXPECT_TRUE(contains(bad.error().message, "GPU is lost")) << bad.error().message;
  EXPECT_TRUE(contains(bad.error().message, "gpu:0")) << bad.error().message;
  EXPECT_TRUE(contains(bad.error().message, "nvmlDeviceGetTotalEnergyConsumption")) << bad.error().message;
  EXPECT_FALSE(s.read().ok());  // stays lost
}

TEST_F(NvmlTest, SamplerCountsFailedReadsAndKeepsLastGoodEnergy) {
  script("gpu energy_mj=0,400 name=NVIDIA A100-PCIE-40GB\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  SamplerConfig cfg;
  cfg.hz = 10.0;
  Sampler sampler(std::move(sensors).value(), cfg, clock_);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  for (int k = 0; k < 2; ++k) {
    clock_.advance(Seconds(0.1));
    sampler.poll_due();
  }
  lose_gpu(0, kGpuIsLost);
  for (int k = 0; k < 2; ++k) {
    clock_.advance(Seconds(0.1));
    sampler.poll_due();
  }
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const DomainEnergy& d = m->total.domains.at(0);
  EXPECT_NEAR(d.energy_j, 2 * 0.400, 1e-9);  // the two good polls after the meter's start
  EXPECT_EQ(d.samples, 2u);
  EXPECT_EQ(d.failed_reads, 3u);  // two polls and the closing snapshot
  EXPECT_TRUE(d.stale_end);
  auto snaps = sampler.snapshot();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_FALSE(snaps[0].fresh);
  ASSERT_TRUE(snaps[0].last_error.has_value());
  EXPECT_EQ(snaps[0].last_error->code, Errc::kIo);
  EXPECT_TRUE(contains(snaps[0].last_error->message, "GPU is lost"));
  // Since the sampler's first read: the meter's start and the two good polls.
  EXPECT_NEAR(snaps[0].energy.value(), 3 * 0.400, 1e-9);
}

TEST_F(NvmlTest, BackgroundSamplerAndCallerShareTheLibrary) {
  // The polling thread and the caller's snapshots read the same NVML library at once;
  // every successful read, from either thread, adds exactly 250 mJ on GPU 0.
  script("gpu energy_mj=0,250 name=A\ngpu energy_mj=0,100 power_mw=90000 name=B\n");
  SteadyClock steady;
  NvmlOptions opts;
  opts.library = JP_FAKE_NVML_LIB;
  auto threaded = open_nvml_sensors(opts, steady, problems_);
  ASSERT_TRUE(threaded.ok());
  SamplerConfig cfg;
  cfg.hz = 2000.0;
  Sampler sampler(std::move(threaded).value(), cfg, steady);
  ASSERT_TRUE(sampler.start(true).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  for (int k = 0; k < 200; ++k) (void)sampler.snapshot();
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->total.domains.size(), 2u);
  EXPECT_GE(m->total.domains[0].samples, 201u);
  EXPECT_NEAR(m->total.domains[0].energy_j, 0.250 * static_cast<double>(m->total.domains[0].samples), 1e-9);
  EXPECT_NEAR(m->total.domains[1].energy_j, 0.100 * static_cast<double>(m->total.domains[1].samples), 1e-9);
  EXPECT_EQ(m->total.domains[0].failed_reads, 0u);
}

TEST_F(NvmlTest, MixedGpusAndPerGpuProblems) {
  script(
      "gpu energy_mj=10,10 name=Counter GPU\n"
      "gpu power_mw=150000 name=Power GPU\n"
      "gpu energy_rc=4 power_mw=1000 name=Locked GPU\n"
      "gpu handle_rc=15 name=Gone GPU\n"
      "gpu energy_rc=3 power_rc=3 name=Blind GPU\n"
      "gpu energy_rc=15 power_mw=1000 name=Lost GPU\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 2u);
  EXPECT_EQ(sensors->at(0)->info().domain, "gpu:0");
  EXPECT_TRUE(sensors->at(0)->info().caps.energy_counter);
  EXPECT_FALSE(sensors->at(0)->info().caps.power);  // no power scripted: counter only
  EXPECT_EQ(sensors->at(1)->info().domain, "gpu:1");
  EXPECT_FALSE(sensors->at(1)->info().caps.energy_counter);
  EXPECT_TRUE(sensors->at(1)->info().caps.power);

  ASSERT_EQ(problems_.size(), 4u);
  EXPECT_EQ(problems_[0].name, "nvml");
  EXPECT_EQ(problems_[0].target, "gpu:2");
  EXPECT_EQ(problems_[0].error.code, Errc::kPermissionDenied);
  EXPECT_TRUE(contains(problems_[0].error.message, "Insufficient Permissions")) << problems_[0].error.message;
  EXPECT_EQ(problems_[1].target, "gpu:3");
  EXPECT_EQ(problems_[1].error.code, Errc::kIo);
  EXPECT_TRUE(contains(problems_[1].error.message, "nvmlDeviceGetHandleByIndex_v2"));
  EXPECT_EQ(problems_[2].target, "gpu:4");
  EXPECT_EQ(problems_[2].error.code, Errc::kUnsupported);
  EXPECT_TRUE(contains(problems_[2].error.message, "nvmlDeviceGetPowerUsage")) << problems_[2].error.message;
  EXPECT_EQ(problems_[3].target, "gpu:5");
  EXPECT_EQ(problems_[3].error.code, Errc::kIo);
  EXPECT_TRUE(contains(problems_[3].error.message, "GPU is lost"));
}

TEST_F(NvmlTest, LibraryLackingTheEnergySymbolIsUnsupported) {
  script("gpu energy_mj=10,10 name=Any\n");
  const FakeCounts before = counts();
  auto sensors = open(JP_FAKE_NVML_NO_ENERGY_LIB);
  ASSERT_FALSE(sensors.ok());
  EXPECT_EQ(sensors.error().code, Errc::kUnsupported);
  EXPECT_TRUE(contains(sensors.error().message, "nvmlDeviceGetTotalEnergyConsumption")) << sensors.error().message;
  EXPECT_TRUE(contains(sensors.error().message, JP_FAKE_NVML_NO_ENERGY_LIB)) << sensors.error().message;
  EXPECT_EQ(sensors.error().message.find('\n'), std::string::npos);
  // A different build, so the full fake's counters must not have moved.
  EXPECT_EQ(counts().init_calls, before.init_calls);
}

TEST_F(NvmlTest, MissingLibraryIsNotFoundWithHint) {
  auto sensors = open("/nonexistent/dir/libnvidia-ml.so.1");
  ASSERT_FALSE(sensors.ok());
  EXPECT_EQ(sensors.error().code, Errc::kNotFound);
  const std::string& msg = sensors.error().message;
  EXPECT_TRUE(contains(msg, "/nonexistent/dir/libnvidia-ml.so.1")) << msg;
  EXPECT_TRUE(contains(msg, "No such file")) << msg;  // dlerror's text
  EXPECT_TRUE(contains(msg, "--nvml-lib")) << msg;
  EXPECT_TRUE(contains(msg, "JOULEPERF_NVML_LIB")) << msg;
}

TEST_F(NvmlTest, InitFailuresKeepTheirKind) {
  script("init_rc 9\n");
  auto a = open();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(a.error().message, "Driver Not Loaded")) << a.error().message;
  EXPECT_TRUE(contains(a.error().message, "nvmlInit_v2"));

  script("init_rc 4\n");
  auto b = open();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::kPermissionDenied);

  script("count_rc 999\ngpu energy_mj=1,1\n");
  auto c = open();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::kInternal);
  EXPECT_TRUE(contains(c.error().message, "nvmlDeviceGetCount_v2"));
  EXPECT_EQ(counts().depth, 0);  // the failed open shut NVML down again
}

TEST_F(NvmlTest, ConditionsNamePowerLimitTemperatureClock) {
  script(
      "gpu energy_mj=1,1 limit_mw=400000 temp_c=41 sm_mhz=1410 name=NVIDIA A100-SXM4-80GB\n"
      "gpu power_mw=60000 limit_mw=237500 name=Tesla P40\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok());
  ASSERT_EQ(sensors->size(), 2u);
  auto c0 = as_map(sensors->at(0)->conditions());
  EXPECT_EQ(c0["name"], "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(c0["power_limit_w"], "400");
  EXPECT_EQ(c0["temperature_c"], "41");
  EXPECT_EQ(c0["sm_clock_mhz"], "1410");
  EXPECT_EQ(c0["energy_mode"], "counter");
  auto c1 = as_map(sensors->at(1)->conditions());
  EXPECT_EQ(c1["name"], "Tesla P40");
  EXPECT_EQ(c1["power_limit_w"], "237.5");
  EXPECT_EQ(c1.count("temperature_c"), 0u);  // NOT_SUPPORTED: omitted
  EXPECT_EQ(c1.count("sm_clock_mhz"), 0u);
  EXPECT_EQ(c1["energy_mode"], "power-sampling");
}

TEST_F(NvmlTest, ConditionsCarryTheUuidAndTheDriverVersion) {
  script(
      "driver 535.104.05\n"
      "gpu energy_mj=1,1 uuid=GPU-8932f937-d72c-4106-c12f-20bd9faed9f6 name=NVIDIA H100 80GB HBM3\n"
      "gpu power_mw=60000 name=Tesla P40\n"
      "gpu energy_mj=1,1 uuid_rc=3 name=No UUID\n");
  auto sensors = open();
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 3u);
  auto c0 = as_map(sensors->at(0)->conditions());
  EXPECT_EQ(c0["uuid"], "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6");
  EXPECT_EQ(c0["driver_version"], "535.104.05");
  EXPECT_EQ(sensors->at(0)->info().device_uuid, "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6");
  // The fake's default UUID: the index in the last group.
  EXPECT_EQ(as_map(sensors->at(1)->conditions())["uuid"], "GPU-00000000-0000-0000-0000-000000000001");
  auto c2 = as_map(sensors->at(2)->conditions());
  EXPECT_EQ(c2.count("uuid"), 0u);  // NOT_SUPPORTED: omitted
  EXPECT_EQ(c2["driver_version"], "535.104.05");
  EXPECT_EQ(sensors->at(2)->info().device_uuid, "");

  sensors->clear();               // NVML shuts down, so the next open reads the new script
  script("gpu energy_mj=1,1\n");  // no driver line: the fake's default
  auto plain = open();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(as_map(plain->at(0)->conditions())["driver_version"], "550.54.15");
}

// CUDA_VISIBLE_DEVICES (NvmlOptions::visible_devices) against the fake NVML.
class NvmlVisibleTest : public NvmlTest {
 protected:
  void SetUp() override {
    NvmlTest::SetUp();
    script(
        "gpu energy_mj=1,1 uuid=GPU-8932f937-d72c-4106-c12f-20bd9faed9f6 name=A\n"
        "gpu energy_mj=1,1 uuid=GPU-1c0ffee0-1111-2222-3333-444455556666 name=B\n"
        "gpu power_mw=60000 name=C\n");
  }
  Result<SensorList> open_visible(const std::string& visible, const std::string& library = JP_FAKE_NVML_LIB) {
    NvmlOptions opts;
    opts.library = library;
    opts.visible_devices = visible;
    return open_nvml_sensors(opts, clock_, problems_);
  }
  static std::vector<std::string> domains(const SensorList& l) {
    std::vector<std::string> out;
    for (const auto& s : l) out.push_back(s->info().domain);
    return out;
  }
};

TEST_F(NvmlVisibleTest, IndicesOpenOnlyThoseGpusNamedByTheirNvmlIndex) {
  auto r = open_visible("2,0");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(domains(*r), (std::vector<std::string>{"gpu:0", "gpu:2"}));
  EXPECT_EQ(r->at(1)->info().description, "C");
  EXPECT_EQ(r->at(1)->info().device_uuid, "GPU-00000000-0000-0000-0000-000000000002");
  EXPECT_TRUE(problems_.empty());
}

TEST_F(NvmlVisibleTest, UuidsAndUniquePrefixesAreMatchedAgainstNvmlDeviceGetUuid) {
  auto full = open_visible("GPU-1c0ffee0-1111-2222-3333-444455556666");
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(domains(*full), (std::vector<std::string>{"gpu:1"}));
  EXPECT_EQ(as_map(full->at(0)->conditions())["uuid"], "GPU-1c0ffee0-1111-2222-3333-444455556666");
  auto prefix = open_visible("GPU-8932f937,GPU-00000000");
  ASSERT_TRUE(prefix.ok()) << prefix.error().to_string();
  EXPECT_EQ(domains(*prefix), (std::vector<std::string>{"gpu:0", "gpu:2"}));
}

TEST_F(NvmlVisibleTest, AnEntryNamingNoGpuIsAnErrorNamingIt) {
  auto index = open_visible("0,7");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(index.error().message, "CUDA_VISIBLE_DEVICES entry '7'")) << index.error().message;
  auto uuid = open_visible("GPU-deadbeef");
  ASSERT_FALSE(uuid.ok());
  EXPECT_EQ(uuid.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(uuid.error().message, "'GPU-deadbeef'")) << uuid.error().message;
  EXPECT_TRUE(contains(uuid.error().message, "GPU-1c0ffee0-1111-2222-3333-444455556666")) << uuid.error().message;
  EXPECT_EQ(counts().depth, 0);  // the failed open shut NVML down again
}

TEST_F(NvmlVisibleTest, AMigInstanceIsUnsupported) {
  auto r = open_visible("MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_TRUE(contains(r.error().message, "MIG")) << r.error().message;
}

TEST_F(NvmlVisibleTest, EmptyMeansNoGpuWithAProblemSayingWhy) {
  auto r = open_visible("");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->empty());
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].target, "CUDA_VISIBLE_DEVICES");
  EXPECT_TRUE(contains(problems_[0].error.message, "none of the 3 GPUs")) << problems_[0].error.message;

  // Named with --sensor nvml, no GPU is an error that says why.
  SensorOptions named;
  named.names = {"nvml"};
  named.nvml.library = JP_FAKE_NVML_LIB;
  named.nvml.visible_devices = "";
  auto set = open_sensors(default_sensor_registry(), named, clock_);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(set.error().message, "found no device: CUDA_VISIBLE_DEVICES='' makes none of the 3 GPUs"))
      << set.error().message;
}

TEST_F(NvmlVisibleTest, WithoutNvmlDeviceGetUuidIndicesStillWorkAndUuidsNameNoGpu) {
  auto by_index = open_visible("1", JP_FAKE_NVML_NO_OPTIONAL_LIB);
  ASSERT_TRUE(by_index.ok()) << by_index.error().to_string();
  EXPECT_EQ(domains(*by_index), (std::vector<std::string>{"gpu:1"}));
  EXPECT_EQ(by_index->at(0)->info().device_uuid, "");
  auto by_uuid = open_visible("GPU-8932f937", JP_FAKE_NVML_NO_OPTIONAL_LIB);
  ASSERT_FALSE(by_uuid.ok());
  EXPECT_EQ(by_uuid.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(by_uuid.error().message, "UUID unavailable")) << by_uuid.error().message;
}

TEST_F(NvmlTest, OptionalSymbolsMayBeAbsent) {
  script("gpu energy_mj=1,1 limit_mw=400000 temp_c=41 sm_mhz=1410 name=Old Driver GPU\n");
  auto sensors = open(JP_FAKE_NVML_NO_OPTIONAL_LIB);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  const Conditions c = sensors->at(0)->conditions();
  // The facts the optional symbols give are omitted; what jouleperf knows itself stays.
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0], (std::pair<std::string, std::string>{"name", "Old Driver GPU"}));
  EXPECT_EQ(c[1], (std::pair<std::string, std::string>{"energy_mode", "counter"}));
  EXPECT_EQ(c[2], (std::pair<std::string, std::string>{"max_power_w", "2000"}));  // no limit constraints: default
  EXPECT_EQ(c[3].first, "max_power_basis");
  EXPECT_EQ(c[4], (std::pair<std::string, std::string>{"rejected_reads", "0"}));
  EXPECT_EQ(c[5], (std::pair<std::string, std::string>{"counter_resets", "0"}));
  EXPECT_DOUBLE_EQ(sensors->at(0)->info().caps.max_power_w, kNvmlDefaultMaxPowerW);
  EXPECT_TRUE(sensors->at(0)->read().ok());
}

TEST_F(NvmlTest, OneInitAndOneShutdownAfterTheLastSensor) {
  script("gpu energy_mj=1,1 name=A\ngpu power_mw=1000 name=B\n");
  const FakeCounts before = counts();
  auto sensors = open();
  ASSERT_TRUE(sensors.ok());
  ASSERT_EQ(sensors->size(), 2u);
  EXPECT_EQ(counts().init_calls, before.init_calls + 1);
  EXPECT_EQ(counts().depth, 1);
  sensors->at(0).reset();
  EXPECT_EQ(counts().shutdown_calls, before.shutdown_calls);  // the other GPU still holds NVML
  EXPECT_TRUE(sensors->at(1)->read().ok());
  sensors->clear();
  EXPECT_EQ(counts().shutdown_calls, before.shutdown_calls + 1);
  EXPECT_EQ(counts().depth, 0);

  // No usable GPU: nothing holds the library, so it is shut down at once.
  script("gpu handle_rc=15\n");
  const FakeCounts mid = counts();
  auto none = open();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(problems_.size(), 1u);
  EXPECT_EQ(counts().init_calls, mid.init_calls + 1);
  EXPECT_EQ(counts().shutdown_calls, mid.shutdown_calls + 1);
}

TEST_F(NvmlTest, ReinitReadsTheNewScript) {
  script("gpu energy_mj=1,1 name=First\n");
  {
    auto a = open();
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->size(), 1u);
    EXPECT_EQ(a->at(0)->info().description, "First");
  }
  script("gpu power_mw=5000 name=Second\ngpu power_mw=6000 name=Third\n");
  auto b = open();
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ(b->at(1)->info().description, "Third");
}

TEST(NvmlErrc, MapsReturnCodes) {
  EXPECT_EQ(nvml::errc_for(nvml::kErrorNotSupported), Errc::kUnsupported);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorFunctionNotFound), Errc::kUnsupported);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorNoPermission), Errc::kPermissionDenied);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorGpuIsLost), Errc::kIo);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorDriverNotLoaded), Errc::kNotFound);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorLibraryNotFound), Errc::kNotFound);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorTimeout), Errc::kTimeout);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorInvalidArgument), Errc::kInvalidArgument);
  EXPECT_EQ(nvml::errc_for(nvml::kErrorUnknown), Errc::kInternal);
}

}  // namespace
}  // namespace jouleperf
