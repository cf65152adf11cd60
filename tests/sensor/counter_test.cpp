#include "jouleperf/sensor/counter.hpp"

#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"

namespace jouleperf {
namespace {

TEST(CounterUnwrapper, AccumulatesAcrossAWrapAtTheRange) {
  CounterUnwrapper u(1'000'000, 1e-6);  // RAPL: microjoules, wraps at max_energy_range_uj
  EXPECT_DOUBLE_EQ(u.update(999'000, Seconds(0)).energy.value(), 0.0);
  EXPECT_NEAR(u.update(500, Seconds(0)).energy.value(), 1500e-6, 1e-12);  // 1000 to the top, 500 after
  EXPECT_NEAR(u.update(2000, Seconds(0)).energy.value(), 3000e-6, 1e-12);
  EXPECT_EQ(u.wraps(), 1u);
}

TEST(CounterUnwrapper, TreatsADecreaseWithoutARangeAsAReset) {
  CounterUnwrapper u(0, 1e-3);  // e.g. a Prometheus counter after an exporter restart
  u.update(10'000, Seconds(0));
  EXPECT_NEAR(u.update(12'000, Seconds(0)).energy.value(), 2.0, 1e-12);
  EXPECT_NEAR(u.update(500, Seconds(0)).energy.value(), 2.5, 1e-12);  // restarted at 0, then 500 mJ
  EXPECT_EQ(u.wraps(), 1u);
}

TEST(CounterUnwrapper, HandlesManyWrapsWithoutLosingPrecision) {
  const std::uint64_t range = 262'143'328'850ULL;  // a real package zone's max_energy_range_uj
  CounterUnwrapper u(range, 1e-6);
  std::uint64_t raw = range - 10;
  double expected = 0;
  u.update(raw, Seconds(0));
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t step = 123'456'789;
    raw = (raw + step) % range;  // wraps modulo range, as the formula assumes
    expected += step * 1e-6;
    u.update(raw, Seconds(0));
  }
  EXPECT_NEAR(u.update(raw, Seconds(0)).energy.value(), expected, 1e-3);
}

// A RAPL-like package counter: microjoules, the Intel range, 1,000 W bound, 1 ms slack.
CounterOptions rapl_like(std::uint64_t range = 262'143'328'850ULL) {
  CounterOptions o;
  o.range_raw = range;
  o.joules_per_raw = 1e-6;
  o.on_decrease = CounterDecrease::kWrap;
  o.max_power_w = 1000.0;
  o.slack_s = 0.001;
  o.range_name = "max_energy_range_uj";
  return o;
}

TEST(HostileCounter, DecreaseThatWouldBeAnImplausibleWrapIsRejectedAndBridged) {
  CounterUnwrapper u(rapl_like());
  u.update(10'000'000, Seconds(0.0));
  // Down 1 J: as a wrap that is 262 kJ in 0.1 s (2.6 MW).
  const CounterUpdate bad = u.update(9'000'000, Seconds(0.1));
  ASSERT_TRUE(bad.rejected.has_value());
  EXPECT_NE(bad.rejected->find("wrap"), std::string::npos) << *bad.rejected;
  EXPECT_NE(bad.rejected->find("max_energy_range_uj"), std::string::npos) << *bad.rejected;
  EXPECT_DOUBLE_EQ(bad.energy.value(), 0.0);
  EXPECT_EQ(u.wraps(), 0u);
  EXPECT_EQ(u.rejected(), 1u);
  // A glitch: the next value continues from the last good one, so the delta is bridged.
  const CounterUpdate good = u.update(10'020'000, Seconds(0.2));
  EXPECT_FALSE(good.rejected.has_value());
  EXPECT_FALSE(good.rebased);
  EXPECT_NEAR(good.energy.value(), 0.02, 1e-12);
}

TEST(HostileCounter, PlausibleWrapIsAccepted) {
  CounterUnwrapper u(rapl_like());
  const std::uint64_t range = 262'143'328'850ULL;
  u.update(range - 5'000'000, Seconds(0.0));
  // 5 J to the top and 5 J after in 0.1 s: 100 W.
  const CounterUpdate w = u.update(5'000'000, Seconds(0.1));
  EXPECT_FALSE(w.rejected.has_value());
  EXPECT_TRUE(w.wrapped);
  EXPECT_NEAR(w.energy.value(), 10.0, 1e-9);
}

TEST(HostileCounter, ZeroRangeMeansNoWrapIsPossible) {
  CounterUnwrapper u(rapl_like(0));
  u.update(10'000'000, Seconds(0.0));
  const CounterUpdate bad = u.update(9'999'000, Seconds(10.0));  // tiny decrease, plenty of time
  ASSERT_TRUE(bad.rejected.has_value());
  EXPECT_NE(bad.rejected->find("max_energy_range_uj is 0"), std::string::npos) << *bad.rejected;
}

TEST(HostileCounter, ForwardJumpAboveTheBoundIsRejected) {
  CounterUnwrapper u(rapl_like());
  u.update(10'000'000, Seconds(0.0));
  const CounterUpdate bad = u.update(10'000'000 + 100'000'000'000ULL, Seconds(3.0));  // 100 kJ in 3 s
  ASSERT_TRUE(bad.rejected.has_value());
  EXPECT_NE(bad.rejected->find("1000 W bound"), std::string::npos) << *bad.rejected;
  EXPECT_DOUBLE_EQ(bad.energy.value(), 0.0);
  // The bound scales with time: the same energy over a long interval is fine.
  CounterUnwrapper slow(rapl_like());
  slow.update(0, Seconds(0.0));
  EXPECT_FALSE(slow.update(100'000'000'000ULL, Seconds(200.0)).rejected.has_value());  // 500 W
}

TEST(HostileCounter, CounterThatMovedToANewBaseIsReBasedWithAGap) {
  CounterUnwrapper u(rapl_like());
  u.update(50'000'000, Seconds(0.0));
  EXPECT_FALSE(u.update(51'000'000, Seconds(1.0)).rejected.has_value());  // +1 J
  // Rewritten far down (no plausible wrap), then it keeps counting from there.
  ASSERT_TRUE(u.update(2'000'000, Seconds(2.0)).rejected.has_value());
  const CounterUpdate rebased = u.update(2'500'000, Seconds(3.0));
  EXPECT_FALSE(rebased.rejected.has_value());
  EXPECT_TRUE(rebased.rebased);
  EXPECT_DOUBLE_EQ(rebased.gap_s, 1.0);                   // 1 s .. 2 s: energy unknown
  EXPECT_NEAR(rebased.energy.value(), 1.0 + 0.5, 1e-12);  // before the gap + after it; nothing from the bad step
  EXPECT_EQ(u.rebases(), 1u);
}

TEST(HostileCounter, ResetModeBoundsTheResetToo) {
  CounterOptions o;
  o.joules_per_raw = 1e-3;  // NVML / DCGM millijoules
  o.on_decrease = CounterDecrease::kReset;
  o.max_power_w = 2000.0;
  o.slack_s = 0.1;
  CounterUnwrapper a(o);
  a.update(900'000'000, Seconds(0.0));
  const CounterUpdate reset = a.update(1'000, Seconds(1.0));  // driver reload: restarted at 0, then 1 J
  EXPECT_FALSE(reset.rejected.has_value());
  EXPECT_TRUE(reset.wrapped);
  EXPECT_NEAR(reset.energy.value(), 1.0, 1e-12);

  // Down from 900 kJ to 800 kJ: as a reset that is 800 kJ in 1 s (800 kW): rejected.
  CounterUnwrapper b(o);
  b.update(900'000'000, Seconds(0.0));
  const CounterUpdate bad = b.update(800'000'000, Seconds(1.0));
  ASSERT_TRUE(bad.rejected.has_value());
  EXPECT_NE(bad.rejected->find("reset"), std::string::npos) << *bad.rejected;
  EXPECT_DOUBLE_EQ(bad.energy.value(), 0.0);
}

TEST(HostileCounter, JudgeChangesNothingUntilApplied) {
  CounterUnwrapper u(rapl_like());
  u.update(1'000'000, Seconds(0.0));
  const auto v = u.judge(900'000, Seconds(0.1));
  EXPECT_EQ(v.kind, CounterUnwrapper::Verdict::Kind::kRejected);
  EXPECT_EQ(u.rejected(), 0u);
  EXPECT_FALSE(u.update(1'100'000, Seconds(0.2)).rejected.has_value());
  EXPECT_NEAR(u.energy().value(), 0.1, 1e-12);
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
