#include "jouleperf/sensor/counter.hpp"

#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"

namespace jouleperf {
namespace {

TEST(CounterUnwrapper, AccumulatesAcrossAWrapAtTheRange) {
  CounterUnwrapper u(1'000'000, 1e-6);  // RAPL: microjoules, wraps at max_energy_range_uj
  EXPECT_DOUBLE_EQ(u.update(999'000).value(), 0.0);
  EXPECT_NEAR(u.update(500).value(), 1500e-6, 1e-12);  // 1000 to the top, 500 after
  EXPECT_NEAR(u.update(2000).value(), 3000e-6, 1e-12);
  EXPECT_EQ(u.wraps(), 1u);
}

TEST(CounterUnwrapper, TreatsADecreaseWithoutARangeAsAReset) {
  CounterUnwrapper u(0, 1e-3);  // e.g. a Prometheus counter after an exporter restart
  u.update(10'000);
  EXPECT_NEAR(u.update(12'000).value(), 2.0, 1e-12);
  EXPECT_NEAR(u.update(500).value(), 2.5, 1e-12);  // restarted at 0, then 500 mJ
  EXPECT_EQ(u.wraps(), 1u);
}

TEST(CounterUnwrapper, HandlesManyWrapsWithoutLosingPrecision) {
  const std::uint64_t range = 262'143'328'850ULL;  // a real package zone's max_energy_range_uj
  CounterUnwrapper u(range, 1e-6);
  std::uint64_t raw = range - 10;
  double expected = 0;
  u.update(raw);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t step = 123'456'789;
    raw = (raw + step) % range;  // wraps modulo range, as the formula assumes
    expected += step * 1e-6;
    u.update(raw);
  }
  EXPECT_NEAR(u.update(raw).value(), expected, 1e-3);
}

TEST(PowerProfile, IntegratesStepsAndRampsExactly) {
  PowerProfile p;
  p.point(Seconds(0), Watts(10)).step(Seconds(1), Watts(20)).point(Seconds(2), Watts(20)).point(Seconds(3), Watts(40));
  EXPECT_DOUBLE_EQ(p.power(Seconds(0.5)).value(), 10);
  EXPECT_DOUBLE_EQ(p.power(Seconds(1.0)).value(), 20);
  EXPECT_DOUBLE_EQ(p.power(Seconds(2.5)).value(), 30);
  // 10 J + 20 J + 30 J (ramp 20 -> 40 over 1 s) + 40 J after the last point.
  EXPECT_NEAR(p.energy(Seconds(0), Seconds(4)).value(), 100.0, 1e-9);
  EXPECT_NEAR(p.energy(Seconds(0.5), Seconds(1.5)).value(), 15.0, 1e-9);
}

TEST(PowerProfile, StaysExactFarFromTheClockOrigin) {
  // Steady clocks count from boot: steps at t ~ 1e6 s must still integrate exactly.
  const double t0 = 1.0e6;
  PowerProfile p;
  p.point(Seconds(t0), Watts(50)).step(Seconds(t0 + 0.5), Watts(150)).point(Seconds(t0 + 1.0), Watts(150));
  EXPECT_NEAR(p.energy(Seconds(t0), Seconds(t0 + 1.0)).value(), 25.0 + 75.0, 1e-6);
  EXPECT_NEAR(p.energy(Seconds(t0 + 0.25), Seconds(t0 + 0.5)).value(), 12.5, 1e-6);
}

TEST(FakeCounterSensor, PlaysItsScriptThroughTheUnwrapper) {
  ManualClock clock;
  SensorInfo info{"fake", "fake:0", "", {}};
  std::vector<FakeCounterSensor::Step> script{{900, {}}, {100, {}}, {{}, make_error(Errc::kIo, "gone")}, {300, {}}};
  FakeCounterSensor s(info, script, 1000, 1.0, clock);
  EXPECT_DOUBLE_EQ(s.read()->energy->value(), 0.0);
  EXPECT_DOUBLE_EQ(s.read()->energy->value(), 200.0);
  auto failed = s.read();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::kIo);
  EXPECT_DOUBLE_EQ(s.read()->energy->value(), 400.0);
  EXPECT_DOUBLE_EQ(s.read()->energy->value(), 400.0);  // the last step repeats
}

}  // namespace
}  // namespace jouleperf
