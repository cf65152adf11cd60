// Energy slices (sensor/energy_slices.hpp): a run's energy over time from the sampler's
// rings, exact for a power profile sampled at its corners, and summing to the Meter's
// total when the Meter's edges are given.
#include "jouleperf/sensor/energy_slices.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {
namespace {

struct Rig {
  ManualClock clock;
  std::unique_ptr<Sampler> sampler;
  // Two sensors in the total (100 W flat; 50 W rising to 250 W over [2, 2.25] s, linear
  // between the 0.25 s readings so that their trapezoid is exact) and a sub-domain that
  // must not be counted.
  Rig() {
    std::vector<std::unique_ptr<Sensor>> s;
    auto info = [](const char* domain, bool in_total) {
      SensorInfo i{"fake", domain, "scripted", {}};
      i.caps.power = true;
      i.caps.in_total = in_total;
      return i;
    };
    PowerProfile flat, step, sub;
    flat.point(Seconds(0), Watts(100)).point(Seconds(100), Watts(100));
    step.point(Seconds(0), Watts(50)).point(Seconds(2), Watts(50)).point(Seconds(2.25), Watts(250));
    step.point(Seconds(100), Watts(250));
    sub.point(Seconds(0), Watts(30)).point(Seconds(100), Watts(30));
    s.push_back(std::make_unique<FakePowerSensor>(info("fake:0", true), flat, clock));
    s.push_back(std::make_unique<FakePowerSensor>(info("fake:1", true), step, clock));
    s.push_back(std::make_unique<FakePowerSensor>(info("fake:sub", false), sub, clock));
    sampler = std::make_unique<Sampler>(std::move(s), SamplerConfig{}, clock);
    EXPECT_TRUE(sampler->start(false));
  }
  void run_to(double t) {
    while (clock.now().value() < t - 1e-12) {
      clock.advance(Seconds(0.25));
      sampler->poll_due();
    }
  }
};

double total(const std::vector<EnergySlice>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0, [](double a, const EnergySlice& s) { return a + s.energy_j; });
}

TEST(EnergySlices, FollowThePowerOfTheSensorsInTheTotal) {
  Rig rig;
  rig.run_to(4.0);
  auto slices = energy_slices(*rig.sampler, {0.0, 4.0, {}, {}}, 0.5);
  ASSERT_TRUE(slices) << slices.error().to_string();
  ASSERT_EQ(slices->size(), 8u);
  // The sub-domain is left out: 100 W + the rising sensor, whose ramp adds 37.5 J.
  const std::vector<double> expected = {75, 75, 75, 75, 50 + 37.5 + 62.5, 175, 175, 175};
  for (std::size_t k = 0; k < slices->size(); ++k) EXPECT_NEAR((*slices)[k].energy_j, expected[k], 1e-9) << k;
  EXPECT_DOUBLE_EQ(slices->back().t1_s, 4.0);
}

TEST(EnergySlices, WithTheMetersEdgesTheySumToItsTotalExactly) {
  Rig rig;
  rig.run_to(0.3);
  Meter meter(*rig.sampler);
  const double t_start = rig.clock.now().value();
  ASSERT_TRUE(meter.start());
  rig.run_to(3.7);
  auto m = meter.stop();
  ASSERT_TRUE(m) << m.error().to_string();
  auto span = meter.span();
  ASSERT_TRUE(span) << span.error().to_string();
  EXPECT_DOUBLE_EQ(span->t0_s, t_start);
  EXPECT_DOUBLE_EQ(span->t1_s, rig.clock.now().value());
  for (double dt : {0.01, 0.1, 0.33, 10.0}) {
    auto slices = energy_slices(*rig.sampler, *span, dt);
    ASSERT_TRUE(slices) << slices.error().to_string();
    EXPECT_NEAR(total(*slices), m->total.energy_j, 1e-12 * m->total.energy_j) << dt;
  }
}

TEST(EnergySlices, ARunLongerThanTheRingIsRefusedNotLumped) {
  ManualClock clock;
  SensorInfo info{"fake", "fake:0", "flat", {}};
  info.caps.power = true;
  std::vector<std::unique_ptr<Sensor>> s;
  s.push_back(std::make_unique<FakePowerSensor>(
      info, PowerProfile().point(Seconds(0), Watts(10)).point(Seconds(1e4), Watts(10)), clock));
  SamplerConfig cfg;
  cfg.ring_capacity = 8;  // keeps the last 8 readings
  Sampler sampler(std::move(s), cfg, clock);
  ASSERT_TRUE(sampler.start(false));
  for (int k = 0; k < 40; ++k) {
    clock.advance(Seconds(0.25));
    sampler.poll_due();
  }
  auto slices = energy_slices(sampler, {0.0, 10.0, {}, {}}, 1.0);
  ASSERT_FALSE(slices);
  EXPECT_EQ(slices.error().code, Errc::kNotFound);
  EXPECT_NE(slices.error().message.find("oldest kept"), std::string::npos);
  EXPECT_TRUE(energy_slices(sampler, {8.5, 10.0, {}, {}}, 0.5));  // what the ring still holds
}

TEST(EnergySlices, BadSpansAndLengthsAreErrors) {
  Rig rig;
  rig.run_to(1.0);
  EXPECT_EQ(energy_slices(*rig.sampler, {1.0, 1.0, {}, {}}, 0.1).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(energy_slices(*rig.sampler, {0.0, 1.0, {}, {}}, 0.0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(energy_slices(*rig.sampler, {0.0, 1e9, {}, {}}, 1e-3).error().code, Errc::kInvalidArgument);
  SliceSpan short_edges{0.0, 1.0, std::vector<SensorSnapshot>(1), {}};
  EXPECT_EQ(energy_slices(*rig.sampler, short_edges, 0.1).error().code, Errc::kInvalidArgument);
  Meter meter(*rig.sampler);
  EXPECT_FALSE(meter.span());  // nothing measured yet
}

}  // namespace
}  // namespace jouleperf
