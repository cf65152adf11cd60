// Plausibility in the Sampler and Meter (issue 12): implausible samples are rejected,
// counted apart from failed reads, never integrated, and the measurement says so.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {
namespace {

// Plays scripted readings (power and/or energy), one per read; the last repeats.
class ScriptedSensor final : public Sensor {
 public:
  struct Step {
    std::optional<double> power_w;
    std::optional<double> energy_j;
  };
  ScriptedSensor(SensorInfo info, std::vector<Step> steps, const Clock& clock)
      : info_(std::move(info)), steps_(std::move(steps)), clock_(clock) {}
  const SensorInfo& info() const override { return info_; }
  Result<Reading> read() override {
    const Step& s = steps_[std::min(next_++, steps_.size() - 1)];
    Reading r;
    r.t = clock_.now();
    if (s.power_w) r.power = Watts(*s.power_w);
    if (s.energy_j) r.energy = Joules(*s.energy_j);
    return r;
  }

 private:
  SensorInfo info_;
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  const Clock& clock_;
};

SensorInfo power_info(double max_power_w) {
  SensorInfo info{"fake", "gpu:0", "scripted", {}};
  info.caps.power = true;
  info.caps.max_power_w = max_power_w;
  return info;
}

std::vector<std::unique_ptr<Sensor>> one(std::unique_ptr<Sensor> s) {
  std::vector<std::unique_ptr<Sensor>> v;
  v.push_back(std::move(s));
  return v;
}

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(HostileSampler, BadPowerSamplesAreRejectedAndBridgedNotIntegrated) {
  for (const double bad : {kNan, kInf, -kInf, -5.0, 1e30, 2500.0}) {
    ManualClock clock;
    // start, meter.start, bad, then good to the end.
    std::vector<ScriptedSensor::Step> steps{{100.0, {}}, {100.0, {}}, {bad, {}}, {100.0, {}}};
    Sampler sampler(one(std::make_unique<ScriptedSensor>(power_info(2000.0), steps, clock)), SamplerConfig{}, clock);
    ASSERT_TRUE(sampler.start(false).ok());
    Meter meter(sampler);
    ASSERT_TRUE(meter.start().ok());
    clock.advance(Seconds(1));
    sampler.snapshot();
    clock.advance(Seconds(1));
    auto m = meter.stop();
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_NEAR(m->total.energy_j, 200.0, 1e-9) << bad;  // 100 W bridged over 2 s
    EXPECT_EQ(m->total.rejected_reads, 1u) << bad;
    EXPECT_FALSE(m->total.incomplete) << bad;  // a bridged sample loses no coverage
    EXPECT_EQ(m->total.domains[0].failed_reads, 0u);
    EXPECT_FALSE(m->total.domains[0].rejection.empty());
    for (const auto& s : sampler.samples(0)) EXPECT_TRUE(std::isfinite(s.power_w) && s.power_w <= 2000.0) << bad;
  }
}

TEST(HostileSampler, RejectedClosingReadLeavesAStaleIncompleteFigure) {
  ManualClock clock;
  std::vector<ScriptedSensor::Step> steps{{100.0, {}}, {100.0, {}}, {100.0, {}}, {1e30, {}}};
  Sampler sampler(one(std::make_unique<ScriptedSensor>(power_info(2000.0), steps, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(1));
  sampler.snapshot();
  clock.advance(Seconds(1));
  auto m = meter.stop();  // 1e30: rejected
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(m->total.energy_j, 100.0, 1e-9);  // up to the last good sample only
  EXPECT_TRUE(m->total.domains[0].stale_end);
  EXPECT_TRUE(m->total.incomplete);
  EXPECT_TRUE(m->total.domains[0].incomplete);
  const auto j = to_json(*m);
  EXPECT_EQ(j["rejected_reads"], 1u);
  EXPECT_EQ(j["incomplete"], true);
  EXPECT_EQ(j["domains"][0]["rejected_reads"], 1u);
  EXPECT_TRUE(j["domains"][0]["rejection"].is_string());
  EXPECT_NE(j["domains"][0]["rejection"].get<std::string>().find("2000 W bound"), std::string::npos);
}

TEST(HostileSampler, IncompleteFiguresSubtractIdleOnlyOverTheCoveredTime) {
  for (const bool per_domain : {true, false}) {
    ManualClock clock;
    std::vector<ScriptedSensor::Step> steps{{100.0, {}}, {100.0, {}}, {100.0, {}}, {1e30, {}}};
    Sampler sampler(one(std::make_unique<ScriptedSensor>(power_info(2000.0), steps, clock)), SamplerConfig{}, clock);
    ASSERT_TRUE(sampler.start(false).ok());
    Meter meter(sampler);
    IdleBaseline idle = given_idle(Watts(40.0));
    if (per_domain) idle.power_w = {40.0};
    meter.set_idle(idle);
    ASSERT_TRUE(meter.start().ok());
    clock.advance(Seconds(1));
    sampler.snapshot();
    clock.advance(Seconds(1));
    auto m = meter.stop();  // rejected: the figure covers 1 s of 2
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    ASSERT_TRUE(m->total.incomplete);
    EXPECT_NEAR(m->total.domains[0].power_w, 100.0, 1e-9);  // over the covered second, not 50 W
    if (per_domain) {
      ASSERT_TRUE(m->total.above_idle_j.has_value());
      EXPECT_NEAR(*m->total.above_idle_j, 100.0 - 40.0, 1e-9);
      EXPECT_NEAR(*m->total.domains[0].above_idle_j, 100.0 - 40.0, 1e-9);
    } else {
      EXPECT_FALSE(m->total.above_idle_j.has_value());  // a total idle cannot match a partial coverage
    }
  }
}

TEST(HostileSampler, FirstReadRejectedFailsTheStartSayingWhy) {
  ManualClock clock;
  Sampler sampler(
      one(std::make_unique<ScriptedSensor>(power_info(0.0), std::vector<ScriptedSensor::Step>{{kNan, {}}}, clock)),
      SamplerConfig{}, clock);
  auto st = sampler.start(false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("rejected as implausible: power is NaN"), std::string::npos) << st.error().message;
}

TEST(HostileSampler, CounterEnergyThatIsNotFiniteOrGoesDownIsRejected) {
  ManualClock clock;
  SensorInfo info{"fake", "cpu-package:0", "scripted", {}};
  info.caps.energy_counter = true;
  info.caps.max_power_w = 1000.0;
  // Extra power above the bound is dropped; the energy beside it is still good.
  std::vector<ScriptedSensor::Step> steps{{{}, 0.0}, {{}, 1.0}, {5000.0, 2.0}, {{}, kNan}, {{}, 1.5}, {{}, 3.0}};
  Sampler sampler(one(std::make_unique<ScriptedSensor>(info, steps, clock)), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());  // 1.0
  for (int i = 0; i < 3; ++i) {
    clock.advance(Seconds(1));
    sampler.snapshot();  // 2.0 (+5000 W dropped), NaN, 1.5
  }
  clock.advance(Seconds(1));
  auto m = meter.stop();  // 3.0
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(m->total.energy_j, 2.0, 1e-12);
  EXPECT_EQ(m->total.rejected_reads, 2u);
  EXPECT_EQ(m->total.domains[0].samples, 2u);
  for (const auto& s : sampler.samples(0)) EXPECT_FALSE(s.power_w > 1000.0);
}

TEST(HostileSampler, BoundedFakeCounterJumpIsRejectedNotCounted) {
  ManualClock clock;
  SensorInfo info{"fake", "cpu-package:0", "scripted", {}};
  info.caps.max_power_w = 1000.0;
  info.caps.update_interval_s = 0.001;
  std::vector<FakeCounterSensor::Step> script{
      {1'000'000, {}}, {1'500'000, {}}, {100'002'000'000ULL, {}}, {2'500'000, {}}};  // uJ; the third is +100 kJ
  Sampler sampler(one(std::make_unique<FakeCounterSensor>(info, script, 262'143'328'850ULL, 1e-6, clock)),
                  SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(1));
  sampler.snapshot();
  clock.advance(Seconds(1));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(m->total.energy_j, 1.0, 1e-9);  // 1.5 J -> 2.5 J, bridged over the jump
  EXPECT_EQ(m->total.rejected_reads, 1u);
  EXPECT_FALSE(m->total.incomplete);
}

}  // namespace
}  // namespace jouleperf
