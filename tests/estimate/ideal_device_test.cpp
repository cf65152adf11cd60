// The one FLOPs-ideal device policy (estimate::flops_ideal_device): an explicit rating,
// else a hardware profile (named, else the config's setting), else the measured host CPU
// from a cpuinfo file, labelled as such.
#include "jouleperf/estimate/ideal_device.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace jouleperf::estimate {
namespace {

constexpr const char* kCpuinfo =
    "processor : 0\nmodel name : AMD Ryzen 7\ncpu MHz : 3000.0\nflags : sse sse2 fma avx avx2\n\n"
    "processor : 1\nmodel name : AMD Ryzen 7\ncpu MHz : 3000.0\nflags : sse sse2 fma avx avx2\n";

study::Config config(const std::string& hardware) {
  study::Config c;
  c.weight_type = std::string("f32");
  c.threads = 2;
  if (!hardware.empty()) c.settings.emplace_back(std::string("hardware"), hardware);
  return c;
}

TEST(FlopsIdealDevice, AnExplicitRatingWinsAndGoesInPairs) {
  IdealDeviceOptions o;
  o.tdp_w = 100;
  o.peak_flops = 1e12;
  auto r = flops_ideal_device(config("h100-sxm"), o, hardware::HardwareRegistry());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->tdp_w, 100);
  EXPECT_DOUBLE_EQ(r->peak_flops_per_s, 1e12);
  o.peak_flops = 0;
  auto half = flops_ideal_device(config(""), o, hardware::HardwareRegistry());
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().code, Errc::kInvalidArgument);
}

TEST(FlopsIdealDevice, AProfileByNameElseTheConfigsSetting) {
  const hardware::HardwareRegistry registry;
  auto setting = flops_ideal_device(config("h100-sxm"), IdealDeviceOptions{}, registry);
  ASSERT_TRUE(setting.ok()) << setting.error().to_string();
  EXPECT_NE(setting->source.find("h100-sxm"), std::string::npos) << setting->source;
  IdealDeviceOptions named;
  named.hardware = "a6000";
  auto a6000 = flops_ideal_device(config("h100-sxm"), named, registry);
  ASSERT_TRUE(a6000.ok()) << a6000.error().to_string();
  EXPECT_NE(a6000->source.find("a6000"), std::string::npos) << a6000->source;
  named.hardware = "no-such-gpu";
  EXPECT_FALSE(flops_ideal_device(config(""), named, registry).ok());
}

TEST(FlopsIdealDevice, ElseTheMeasuredHostCpuLabelledAsSuch) {
  testing::TempDir dir;
  IdealDeviceOptions o;
  o.cpuinfo = dir.write("cpuinfo", kCpuinfo).string();
  o.meminfo = (dir.path() / "absent").string();
  o.host_idle_w = 10;
  o.host_max_w = 65;
  auto r = flops_ideal_device(config(""), o, hardware::HardwareRegistry());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->tdp_w, 65);
  // 2 threads x 3 GHz x 32 FP32 FLOP/cycle (avx2 + fma).
  EXPECT_DOUBLE_EQ(r->peak_flops_per_s, 2 * 3e9 * 32);
  EXPECT_EQ(r->source.find("host CPU (measured, "), 0u) << r->source;
  EXPECT_NE(r->source.find("cpuinfo; 2 threads)"), std::string::npos) << r->source;
  o.host_max_w = 0;  // the host's power unknown: no device, said why
  auto none = flops_ideal_device(config(""), o, hardware::HardwareRegistry());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  o.host_max_w = 65;
  o.host_fallback = false;
  EXPECT_FALSE(flops_ideal_device(config(""), o, hardware::HardwareRegistry()).ok());
}

}  // namespace
}  // namespace jouleperf::estimate
