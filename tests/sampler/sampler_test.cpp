// Sampler and Meter: deterministic tests on a ManualClock, and real-thread tests on the
// SteadyClock (these also run under ThreadSanitizer: label "sampler").
#include "jouleperf/sensor/sampler.hpp"

#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "support/wait.hpp"

namespace jouleperf {
namespace {

SensorInfo fake_info(const std::string& domain, bool in_total = true) {
  SensorInfo info{"fake", domain, "scripted", {}};
  info.caps.in_total = in_total;
  return info;
}

// Steps and ramps between 30 W and 150 W over 4 s, starting at t0.
PowerProfile test_profile(double t0) {
  PowerProfile p;
  p.point(Seconds(t0), Watts(50))
      .step(Seconds(t0 + 0.5), Watts(150))
      .point(Seconds(t0 + 1.0), Watts(150))
      .point(Seconds(t0 + 2.0), Watts(30))  // ramp down
      .step(Seconds(t0 + 2.0), Watts(100))
      .point(Seconds(t0 + 3.0), Watts(100))
      .point(Seconds(t0 + 3.5), Watts(60))  // ramp down
      .step(Seconds(t0 + 3.7), Watts(120));
  return p;
}

std::vector<std::unique_ptr<Sensor>> one(std::unique_ptr<Sensor> s) {
  std::vector<std::unique_ptr<Sensor>> v;
  v.push_back(std::move(s));
  return v;
}

TEST(Sampler, PowerIntegralAt100HzIsWithinHalfAPercentOfTheAnalyticEnergy) {
  ManualClock clock(Seconds(10));
  const PowerProfile profile = test_profile(10.0);
  Sampler sampler(one(std::make_unique<FakePowerSensor>(fake_info("fake:0"), profile, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  // Exactly 100 Hz: the clock moves 10 ms and every due sensor is read.
  for (int i = 0; i < 400; ++i) {
    clock.advance(Seconds(0.01));
    sampler.poll_due();
  }
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const double truth = profile.energy(Seconds(10), Seconds(14)).value();
  EXPECT_NEAR(m->total.energy_j, truth, 0.005 * truth);
  EXPECT_EQ(m->total.energy_source, "power-integral");
  EXPECT_FALSE(m->total.estimated);
  EXPECT_GE(m->total.domains[0].samples, 400u);
  EXPECT_GT(m->total.uncertainty_j, std::abs(m->total.energy_j - truth));  // the bound covers the error
}

// The polling thread on the real clock: it reads by itself while the caller waits, and
// the meter's energy is the trapezoid over exactly the readings it took. How close that
// comes to the analytic energy depends on when the thread got the CPU (a loaded machine
// leaves gaps): the exact-100 Hz test above pins the accuracy, bench/sampler_bench.cpp
// the cost. Counts and identities only here, so load cannot fail it.
TEST(Sampler, RealThreadReadsByItselfAndIntegratesWhatItRead) {
  SteadyClock clock;
  const double t0 = clock.now().value();
  const PowerProfile profile = test_profile(t0);
  Sampler sampler(one(std::make_unique<FakePowerSensor>(fake_info("fake:0"), profile, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  // Wait on a count of readings taken since the meter started (the thread's work), not
  // for a fixed time.
  const std::size_t at_start = sampler.samples(0).size();
  ASSERT_TRUE(testing::wait_until([&] { return sampler.samples(0).size() >= at_start + 400; }));
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_GE(m->total.domains[0].samples, 400u);
  EXPECT_EQ(m->total.domains[0].failed_reads, 0u);
  EXPECT_EQ(m->total.energy_source, "power-integral");
  // Every stored reading adds the trapezoid since the one before (whichever thread took
  // it), and the meter's figure is the sum over the readings inside the run.
  const auto readings = sampler.samples(0);
  ASSERT_GE(readings.size(), at_start + 400);
  for (std::size_t i = 1; i < readings.size(); ++i) {
    const Sample &a = readings[i - 1], &b = readings[i];
    ASSERT_LE(a.t_s, b.t_s) << i;
    const double trapezoid = 0.5 * (a.power_w + b.power_w) * (b.t_s - a.t_s);
    EXPECT_NEAR(b.energy_j - a.energy_j, trapezoid, 1e-9 * (1 + b.energy_j)) << i;
  }
  EXPECT_GT(m->total.energy_j, 0.0);
  EXPECT_LE(m->total.energy_j, readings.back().energy_j - readings.front().energy_j + 1e-9);
  bool found = false;  // the run's energy is the difference of two stored readings
  for (std::size_t i = 0; i < readings.size() && !found; ++i)
    for (std::size_t j = i + 1; j < readings.size() && !found; ++j)
      found =
          std::abs(readings[j].energy_j - readings[i].energy_j - m->total.energy_j) <= 1e-9 * (1 + m->total.energy_j);
  EXPECT_TRUE(found) << m->total.energy_j;
}

TEST(Meter, SplitsEnergyIntoPhasesAtMarks) {
  ManualClock clock;
  PowerProfile flat;
  flat.point(Seconds(0), Watts(100));
  Sampler sampler(one(std::make_unique<FakePowerSensor>(fake_info("fake:0"), flat, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start("prefill").ok());
  for (int i = 0; i < 50; ++i) clock.advance(Seconds(0.01)), sampler.poll_due();
  ASSERT_TRUE(meter.mark("decode").ok());
  for (int i = 0; i < 150; ++i) clock.advance(Seconds(0.01)), sampler.poll_due();
  auto m = meter.stop();
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->phases.size(), 2u);
  EXPECT_EQ(m->phases[0].name, "prefill");
  EXPECT_NEAR(m->phases[0].energy_j, 50.0, 1e-6);
  EXPECT_EQ(m->phases[1].name, "decode");
  EXPECT_NEAR(m->phases[1].energy_j, 150.0, 1e-6);
  EXPECT_NEAR(m->total.energy_j, 200.0, 1e-6);
  EXPECT_NEAR(m->total.duration_s, 2.0, 1e-9);
}

TEST(Meter, CounterDeltasSurviveWrapsAndFailedReads) {
  ManualClock clock;
  // Raw microjoule counter wrapping at 1e6; one read fails in the middle.
  std::vector<FakeCounterSensor::Step> script{
      {900'000, {}}, {950'000, {}}, {20'000, {}}, {{}, make_error(Errc::kIo, "zone vanished")}, {90'000, {}}};
  auto info = fake_info("cpu-package:0");
  info.caps.resolution_j = 1e-6;
  info.caps.update_interval_s = 0.001;
  SamplerConfig cfg;
  cfg.counter_hz = 100;  // read the counter every 10 ms step below
  Sampler sampler(one(std::make_unique<FakeCounterSensor>(info, script, 1'000'000, 1e-6, clock)), cfg, clock);
  ASSERT_TRUE(sampler.start(false).ok());  // reads 900000
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());  // reads 950000
  clock.advance(Seconds(0.01));
  sampler.poll_due();  // 20000 (wrapped): +70000
  clock.advance(Seconds(0.01));
  sampler.poll_due();  // fails
  clock.advance(Seconds(0.01));
  auto m = meter.stop();  // 90000: +70000
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NEAR(m->total.energy_j, 0.14, 1e-9);
  EXPECT_EQ(m->total.energy_source, "counter");
  EXPECT_EQ(m->total.domains[0].failed_reads, 1u);
  EXPECT_FALSE(m->total.domains[0].stale_end);
}

TEST(Meter, AFailedClosingReadKeepsTheLastGoodEnergyAndSaysSo) {
  ManualClock clock;
  std::vector<FakeCounterSensor::Step> script{
      {0, {}}, {1000, {}}, {2000, {}}, {{}, make_error(Errc::kUnsupported, "gpu lost")}};
  Sampler sampler(one(std::make_unique<FakeCounterSensor>(fake_info("gpu:0"), script, 0, 1e-3, clock)), SamplerConfig{},
                  clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(1));
  sampler.poll_due();
  clock.advance(Seconds(1));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->total.energy_j, 1.0, 1e-9);  // 1000 mJ up to the last good read, not 0 and not invented
  EXPECT_TRUE(m->total.domains[0].stale_end);
  EXPECT_EQ(m->total.domains[0].failed_reads, 1u);
}

TEST(Sampler, ASensorThatNeverReadsFailsStartNamingIt) {
  ManualClock clock;
  std::vector<FakeCounterSensor::Step> script{{{}, make_error(Errc::kPermissionDenied, "energy_uj is root-only")}};
  Sampler sampler(one(std::make_unique<FakeCounterSensor>(fake_info("cpu-package:0"), script, 0, 1e-6, clock)),
                  SamplerConfig{}, clock);
  auto st = sampler.start(false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kPermissionDenied);
  EXPECT_NE(st.error().message.find("cpu-package:0"), std::string::npos);
}

TEST(Meter, ReportsEnergyAboveIdleAndLeavesSubDomainsOutOfTheTotal) {
  ManualClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<FakePowerSensor>(fake_info("cpu-package:0"),
                                                      PowerProfile().point(Seconds(0), Watts(40)), clock));
  sensors.push_back(std::make_unique<FakePowerSensor>(fake_info("cpu-core:0", false),
                                                      PowerProfile().point(Seconds(0), Watts(25)), clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  meter.set_idle(given_idle(Watts(10)));
  ASSERT_TRUE(meter.start().ok());
  for (int i = 0; i < 100; ++i) clock.advance(Seconds(0.01)), sampler.poll_due();
  auto m = meter.stop();
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->total.energy_j, 40.0, 1e-6);  // the core sub-domain is inside the package
  ASSERT_TRUE(m->total.above_idle_j.has_value());
  EXPECT_NEAR(*m->total.above_idle_j, 30.0, 1e-6);
  ASSERT_EQ(m->total.domains.size(), 2u);
  EXPECT_NEAR(m->total.domains[1].energy_j, 25.0, 1e-6);
}

TEST(Meter, FlagsIntervalsShorterThanTheUpdateInterval) {
  ManualClock clock;
  std::vector<FakeCounterSensor::Step> script{{0, {}}, {10, {}}, {20, {}}, {30, {}}};
  auto info = fake_info("gpu:0");
  info.caps.update_interval_s = 0.1;  // NVML-like
  Sampler sampler(one(std::make_unique<FakeCounterSensor>(info, script, 0, 1e-3, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(0.02));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->total.below_resolution);
}

TEST(Sampler, MeasuredIdleIsTheMeanPowerOverTheWindow) {
  SteadyClock clock;
  Sampler sampler(
      one(std::make_unique<FakePowerSensor>(fake_info("fake:0"), PowerProfile().point(Seconds(0), Watts(12.5)), clock)),
      SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  auto idle = measure_idle(sampler, Seconds(0.2));
  sampler.stop();
  ASSERT_TRUE(idle.ok());
  EXPECT_NEAR(idle->total_power_w, 12.5, 1e-6);
  ASSERT_EQ(idle->power_w.size(), 1u);
}

TEST(Sampler, ReadsCountersLessOftenThanPowerByDefault) {
  ManualClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(
      std::make_unique<FakePowerSensor>(fake_info("p:0"), PowerProfile().point(Seconds(0), Watts(1)), clock));
  sensors.push_back(std::make_unique<FakeCounterSensor>(fake_info("c:0"), std::vector<FakeCounterSensor::Step>{{0, {}}},
                                                        0, 1.0, clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  for (int i = 0; i < 100; ++i) clock.advance(Seconds(0.01)), sampler.poll_due();
  EXPECT_EQ(sampler.samples(0).size(), 101u);  // 100 Hz power: start + 100
  EXPECT_EQ(sampler.samples(1).size(), 11u);   // 10 Hz counter: start + 10
}

TEST(Sampler, RingKeepsTheNewestSamplesAndCountsTheDropped) {
  ManualClock clock;
  SamplerConfig cfg;
  cfg.ring_capacity = 8;
  Sampler sampler(
      one(std::make_unique<FakePowerSensor>(fake_info("fake:0"), PowerProfile().point(Seconds(0), Watts(1)), clock)),
      cfg, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  for (int i = 0; i < 20; ++i) clock.advance(Seconds(0.01)), sampler.poll_due();
  std::uint64_t dropped = 0;
  auto s = sampler.samples(0, &dropped);
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(dropped, 13u);  // 21 reads (start + 20), 8 kept
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_GT(s[i].t_s, s[i - 1].t_s);
}

}  // namespace
}  // namespace jouleperf
