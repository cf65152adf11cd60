#include "jouleperf/sensor/factory.hpp"

#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

SensorFamily fake_family(const Clock& clock, bool works) {
  return {"fake", "scripted power", true,
          [&clock, works](const SensorOptions&, const Clock&, std::vector<SensorProblem>&) -> Result<SensorList> {
            if (!works) return make_error(Errc::kPermissionDenied, "fake says no");
            SensorList l;
            l.push_back(std::make_unique<FakePowerSensor>(SensorInfo{"fake", "fake:0", "", {}},
                                                          PowerProfile().point(Seconds(0), Watts(5)), clock));
            return l;
          }};
}

TEST(Factory, UnknownSensorNameIsAClearError) {
  ManualClock clock;
  SensorOptions o;
  o.names = {"rapl", "nope"};
  auto s = open_sensors(default_sensor_registry(), o, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_NE(s.error().message.find("unknown sensor 'nope'"), std::string::npos);
  EXPECT_NE(s.error().message.find("cpu-model"), std::string::npos);  // lists the known ones
}

TEST(Factory, AutoPicksReadableHardwareAndRecordsWhyOthersFailed) {
  ManualClock clock;
  SensorRegistry r;
  r.add(fake_family(clock, false));
  SensorFamily second = fake_family(clock, true);
  second.name = "fake2";
  r.add(second);
  auto s = open_sensors(r, SensorOptions{}, clock);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->sensors.size(), 1u);
  ASSERT_EQ(s->problems.size(), 1u);
  EXPECT_EQ(s->problems[0].name, "fake");
  EXPECT_EQ(s->problems[0].error.code, Errc::kPermissionDenied);
}

TEST(Factory, FallsBackToTheCpuModelWhenNoHardwareIsReadable) {
  testing::TempDir dir;
  ManualClock clock;
  SensorOptions o;
  o.rapl.powercap_root = (dir.path() / "no-powercap").string();
  o.nvml.library = (dir.path() / "no-libnvidia-ml.so").string();
  o.cpu_model.proc_stat = dir.write("stat", "cpu  1 0 1 10 0 0 0 0\ncpu0 1 0 1 10 0 0 0 0\n").string();
  auto s = open_sensors(default_sensor_registry(), o, clock);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->sensors.size(), 1u);
  EXPECT_EQ(s->sensors[0]->info().name, "cpu-model");
  EXPECT_TRUE(s->sensors[0]->info().caps.estimated);
  EXPECT_GE(s->problems.size(), 2u);  // rapl and nvml, each with its reason
}

TEST(Factory, ANamedSensorThatCannotOpenIsAnError) {
  ManualClock clock;
  SensorRegistry r;
  r.add(fake_family(clock, false));
  SensorOptions o;
  o.names = {"fake"};
  auto s = open_sensors(r, o, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kPermissionDenied);
  EXPECT_NE(s.error().message.find("fake says no"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
