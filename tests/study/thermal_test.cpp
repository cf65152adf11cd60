// The thermal protocol's gates (issue 19, docs/controls.md): the cool-down waits for its
// target (or a fixed time) and says whether it got there; the warm-up runs batches until
// the temperature is steady or its cap; the slope is a least-squares fit per device. A
// scripted probe on a ManualClock stands in for a GPU cooling and heating.
#include "jouleperf/study/thermal.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>

namespace jouleperf::study {
namespace {

// A device whose temperature is a function of the clock's time.
// A device whose temperature is a function of the clock's time; NaN: the read fails.
class ScriptedProbe final : public DeviceProbe {
 public:
  ScriptedProbe(const Clock& clock, std::function<double(double)> temp, std::string domain = "gpu:0")
      : clock_(clock), temp_(std::move(temp)), domain_(std::move(domain)) {}
  const std::string& domain() const override { return domain_; }
  Result<DeviceSnapshot> read() override {
    const double t = temp_(clock_.now().value());
    if (std::isnan(t)) return make_error(Errc::kIo, domain_ + ": no data");
    DeviceSnapshot s;
    s.temperature_c = t;
    return s;
  }

 private:
  const Clock& clock_;
  std::function<double(double)> temp_;
  std::string domain_;
};

std::unique_ptr<DeviceWatch> watch_of(std::vector<std::unique_ptr<DeviceProbe>> probes, const Clock& clock) {
  auto w = DeviceWatch::start(std::move(probes), clock, 3600.0);  // the thread reads once; the test drives the rest
  EXPECT_TRUE(w);
  return w ? std::move(*w) : nullptr;
}

std::unique_ptr<DeviceWatch> watch_of(const Clock& clock, std::function<double(double)> temp) {
  std::vector<std::unique_ptr<DeviceProbe>> probes;
  probes.push_back(std::make_unique<ScriptedProbe>(clock, std::move(temp)));
  return watch_of(std::move(probes), clock);
}

// Cools from 80 C toward 30 C with a 20 s time constant.
double cooling(double t) { return 30.0 + 50.0 * std::exp(-t / 20.0); }

TEST(ThermalCoolDown, WaitsUntilTheTargetAndRecordsTheWait) {
  ManualClock clock;
  auto watch = watch_of(clock, cooling);
  ThermalOptions o;
  o.cooldown_temp_c = 50.0;
  o.poll_s = 0.5;
  auto c = cool_down(*watch, o, clock, nullptr);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->reached);
  EXPECT_EQ(*c->target_c, 50.0);
  EXPECT_LE(*c->temp_c, 50.0);
  // 80 -> 50 C takes 20 ln(50/20) = 18.3 s; polled every 0.5 s.
  EXPECT_NEAR(c->waited_s, 20.0 * std::log(50.0 / 20.0), 0.5);
}

TEST(ThermalCoolDown, GivesUpAtTheLongestWaitAndSaysSo) {
  ManualClock clock;
  auto watch = watch_of(clock, cooling);
  ThermalOptions o;
  o.cooldown_temp_c = 25.0;  // below ambient: never reached
  o.cooldown_s = 10.0;
  auto c = cool_down(*watch, o, clock, nullptr);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->reached);
  EXPECT_NEAR(c->waited_s, 10.0, 0.3);
  EXPECT_GT(*c->temp_c, 25.0);
}

// A CPU zone or a drive that never cools to a GPU's target does not hold the gate; a
// device that stops answering does not stop it either (the others are read).
TEST(ThermalCoolDown, GoesByTheGpusAndSurvivesADeviceThatDoesNotAnswer) {
  ManualClock clock;
  std::vector<std::unique_ptr<DeviceProbe>> probes;
  probes.push_back(std::make_unique<ScriptedProbe>(
      clock, [](double) { return 60.0; }, "thermal:nvme"));
  probes.push_back(std::make_unique<ScriptedProbe>(clock, cooling, "gpu:0"));
  probes.push_back(std::make_unique<ScriptedProbe>(
      clock, [](double) { return std::nan(""); }, "gpu:1"));
  auto watch = watch_of(std::move(probes), clock);
  ThermalOptions o;
  o.cooldown_temp_c = 50.0;
  o.poll_s = 0.5;
  auto c = cool_down(*watch, o, clock, nullptr);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->reached);
  EXPECT_NEAR(c->waited_s, 18.3, 0.5);
  EXPECT_GT(watch->failed_reads(), 0u);
  EXPECT_NE(watch->last_error().find("gpu:1: no data"), std::string::npos) << watch->last_error();
  // A stop (SIGINT) ends even a fixed wait within a poll.
  std::atomic<bool> stop{true};
  ThermalOptions fixed;
  fixed.cooldown_s = 300.0;
  auto stopped = cool_down(*watch, fixed, clock, &stop);
  ASSERT_TRUE(stopped);
  EXPECT_FALSE(stopped->reached);
  EXPECT_LT(stopped->waited_s, 1.0);
}

TEST(ThermalCoolDown, AFixedWaitWaitsThatLong) {
  ManualClock clock;
  auto watch = watch_of(clock, cooling);
  ThermalOptions o;
  o.cooldown_s = 7.0;
  auto c = cool_down(*watch, o, clock, nullptr);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->reached);
  EXPECT_FALSE(c->target_c);
  EXPECT_DOUBLE_EQ(c->waited_s, 7.0);
  EXPECT_NEAR(*c->temp_c, cooling(7.0), 1e-9);
}

// Heats toward 70 C with a 30 s time constant; each batch lasts 2 s.
TEST(ThermalWarmUp, StopsAtSteadyStateAndRecordsIt) {
  ManualClock clock;
  auto watch = watch_of(clock, [](double t) { return 70.0 - 40.0 * std::exp(-t / 30.0); });
  ThermalOptions o;
  o.warm_to_steady = true;
  o.steady_slope_c_per_min = 1.0;
  o.steady_window_s = 20.0;
  o.warmup_max_s = 600.0;
  int batches = 0;
  auto r = warm_until_steady(
      *watch, o, clock,
      [&]() -> Status {
        clock.advance(Seconds(2.0));
        ++batches;
        return {};
      },
      nullptr);
  EXPECT_TRUE(r.at("steady").get<bool>()) << r.dump();
  EXPECT_EQ(r.at("batches").get<int>(), batches);
  // Slope 80 e^(-t/30) C/min falls below 1 C/min after 30 ln 80 = 131 s (its window lags 10 s).
  EXPECT_NEAR(r.at("ran_s").get<double>(), 141.0, 6.0);
  EXPECT_LT(std::abs(r.at("slope_c_per_min").get<double>()), 1.0);
  EXPECT_NEAR(r.at("temp_c").get<double>(), 70.0, 2.0);
}

TEST(ThermalWarmUp, ReachesItsCapUnsteadyOrStopsOnAFailedBatch) {
  ManualClock clock;
  auto watch = watch_of(clock, [](double t) { return 30.0 + 0.1 * t; });  // 6 C/min, forever
  ThermalOptions o;
  o.warm_to_steady = true;
  o.steady_window_s = 10.0;
  o.warmup_max_s = 60.0;
  auto r = warm_until_steady(
      *watch, o, clock,
      [&]() -> Status {
        clock.advance(Seconds(2.0));
        return {};
      },
      nullptr);
  EXPECT_FALSE(r.at("steady").get<bool>());
  EXPECT_NEAR(r.at("ran_s").get<double>(), 60.0, 2.0);
  EXPECT_NEAR(r.at("slope_c_per_min").get<double>(), 6.0, 0.01);
  // A device with no temperature has no slope: never steady, however flat the others.
  ManualClock quiet;
  auto blind = watch_of(quiet, [](double) { return std::nan(""); });
  auto unseen = warm_until_steady(
      *blind, o, quiet,
      [&]() -> Status {
        quiet.advance(Seconds(2.0));
        return {};
      },
      nullptr);
  EXPECT_FALSE(unseen.at("steady").get<bool>()) << unseen.dump();
  auto failed = warm_until_steady(
      *watch, o, clock, [&]() -> Status { return make_error(Errc::kUnsupported, "does not fit"); }, nullptr);
  EXPECT_FALSE(failed.at("steady").get<bool>());
  EXPECT_EQ(failed.at("batches").get<int>(), 0);
  EXPECT_NE(failed.at("stopped").get<std::string>().find("does not fit"), std::string::npos);
}

TEST(ThermalOptionsCheck, RefusesNonsense) {
  ThermalOptions o;
  EXPECT_TRUE(validate(o));
  o.cooldown_s = 0.0;
  EXPECT_FALSE(validate(o));
  o.cooldown_s.reset();
  o.warm_to_steady = true;
  o.steady_window_s = 900.0;  // longer than the 600 s cap
  auto st = validate(o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("--steady-window"), std::string::npos);
}

TEST(ThermalSlope, IsTheSteepestDevicesLeastSquaresSlopePerMinute) {
  std::vector<DeviceSample> s;
  for (int i = 0; i < 5; ++i) {
    DeviceSample a{static_cast<double>(i), 0, {}}, b{static_cast<double>(i), 1, {}};
    a.snapshot.temperature_c = 40.0 + 0.05 * i;  // 3 C/min
    b.snapshot.temperature_c = 60.0 - 0.2 * i;   // -12 C/min
    s.push_back(a);
    s.push_back(b);
  }
  EXPECT_NEAR(*steepest_slope_c_per_min(s), -12.0, 1e-9);
  EXPECT_FALSE(steepest_slope_c_per_min({}));
  s.push_back({9.0, 2, {}});  // a third device, read once: its slope is unknown
  s.back().snapshot.temperature_c = 50.0;
  EXPECT_FALSE(steepest_slope_c_per_min(s));
}

}  // namespace
}  // namespace jouleperf::study
