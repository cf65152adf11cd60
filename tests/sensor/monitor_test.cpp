// Monitor (sensor/monitor.hpp): open, begin_window, end_window — nested and overlapping
// windows over one sampler, and the errors a caller can make.
#include "jouleperf/sensor/monitor.hpp"

#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"

namespace jouleperf {
namespace {

SensorRegistry fake_registry(const Clock& clock) {
  SensorRegistry r;
  r.add({"fake", "100 W, rising to 300 W from t = 10 s to 11 s", true,
         [&clock](const SensorOptions&, const Clock&, std::vector<SensorProblem>&) -> Result<SensorList> {
           SensorInfo info{"fake", "fake:0", "scripted", {}};
           info.caps.power = true;
           SensorList l;
           PowerProfile p;
           p.point(Seconds(0), Watts(100)).point(Seconds(10), Watts(100)).point(Seconds(11), Watts(300));
           p.point(Seconds(1000), Watts(300));
           l.push_back(std::make_unique<FakePowerSensor>(info, p, clock));
           return l;
         }});
  return r;
}

// A monitor over the fake family, polled by the test (no sampling thread).
Result<std::unique_ptr<Monitor>> open_fake(ManualClock& clock, const SensorRegistry& registry) {
  MonitorOptions o;
  o.sensors.names = {"fake"};
  o.registry = &registry;
  o.background = false;
  return Monitor::open(o, clock);
}

// Advances the clock in 0.5 s steps, polling the sampler as its thread would.
void run_for(ManualClock& clock, Monitor& mon, double seconds) {
  for (double t = 0; t < seconds - 1e-9; t += 0.5) {
    clock.advance(Seconds(0.5));
    mon.sampler().poll_due();
  }
}

TEST(Monitor, NestedAndOverlappingWindowsEachMeasureTheirOwnSpan) {
  ManualClock clock;
  const auto registry = fake_registry(clock);
  auto m = open_fake(clock, registry);
  ASSERT_TRUE(m) << m.error().to_string();
  Monitor& mon = **m;
  EXPECT_FALSE(mon.estimated_only());
  EXPECT_EQ(mon.sensors(), "fake fake:0");

  ASSERT_TRUE(mon.begin_window("outer"));  // t = 0
  run_for(clock, mon, 2);
  ASSERT_TRUE(mon.begin_window("inner"));  // t = 2
  run_for(clock, mon, 3);
  ASSERT_TRUE(mon.begin_window("overlap"));  // t = 5
  run_for(clock, mon, 1);
  auto inner = mon.end_window("inner");  // t = 6: 4 s at 100 W
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_NEAR(inner->total.energy_j, 400.0, 1e-6);
  EXPECT_NEAR(inner->total.duration_s, 4.0, 1e-9);
  EXPECT_EQ(mon.open_windows(), (std::vector<std::string>{"outer", "overlap"}));
  run_for(clock, mon, 6);
  auto outer = mon.end_window("outer");  // t = 12: 10 s at 100 W, 1 s at 200 W on average, 1 s at 300 W
  ASSERT_TRUE(outer) << outer.error().to_string();
  EXPECT_NEAR(outer->total.energy_j, 1500.0, 1e-6);
  run_for(clock, mon, 1);
  auto overlap = mon.end_window("overlap");  // t = 13: 5 s at 100 W, 1 s at 200 W, 2 s at 300 W
  ASSERT_TRUE(overlap) << overlap.error().to_string();
  EXPECT_NEAR(overlap->total.energy_j, 1300.0, 1e-6);
  EXPECT_EQ(overlap->total.energy_source, "power-integral");
  EXPECT_FALSE(overlap->total.estimated);
  EXPECT_TRUE(mon.open_windows().empty());

  // A name can be reused once its window has ended.
  EXPECT_TRUE(mon.begin_window("inner"));
}

TEST(Monitor, MisuseIsAnErrorThatLeavesOtherWindowsAlone) {
  ManualClock clock;
  const auto registry = fake_registry(clock);
  auto m = open_fake(clock, registry);
  ASSERT_TRUE(m);
  Monitor& mon = **m;
  ASSERT_TRUE(mon.begin_window("a"));
  auto twice = mon.begin_window("a");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(mon.begin_window(""));
  auto none = mon.end_window("b");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  clock.advance(Seconds(1));
  auto a = mon.end_window("a");
  ASSERT_TRUE(a);
  EXPECT_NEAR(a->total.energy_j, 100.0, 1e-6);
}

TEST(Monitor, AnUnknownSensorNameFailsTheOpenSayingWhichExist) {
  ManualClock clock;
  const auto registry = fake_registry(clock);
  MonitorOptions o;
  o.sensors.names = {"nope"};
  o.registry = &registry;
  auto m = Monitor::open(o, clock);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("nope"), std::string::npos);
  EXPECT_NE(m.error().message.find("fake"), std::string::npos);
}

TEST(Monitor, TheIdleBaselineIsSubtractedInLaterWindows) {
  ManualClock clock;
  const auto registry = fake_registry(clock);
  auto m = open_fake(clock, registry);
  ASSERT_TRUE(m);
  (*m)->set_idle(given_idle(Watts(40)));
  ASSERT_TRUE((*m)->begin_window("w"));
  clock.advance(Seconds(2));
  auto w = (*m)->end_window("w");
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->total.above_idle_j.has_value());
  EXPECT_NEAR(*w->total.above_idle_j, 200.0 - 80.0, 1e-6);
}

}  // namespace
}  // namespace jouleperf
