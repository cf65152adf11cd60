#include "jouleperf/sensor/cpu_model.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

std::string stat_text(unsigned long long user, unsigned long long idle) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  return "cpu  " + std::to_string(user) + " 0 0 " + std::to_string(idle) + " 0 0 0 7 0 0\n" +
         "cpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\nintr 1\n";
}

TEST(CpuModel, ParsesTheAggregateCpuLine) {
  auto j = parse_proc_stat("cpu  10 1 2 100 3 4 5 99 0 0\ncpu0 1 1 1 1\n");
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(j->busy, 10u + 1 + 2 + 4 + 5);  // steal (99) is not ours
  EXPECT_EQ(j->total, j->busy + 100 + 3);
  EXPECT_FALSE(parse_proc_stat("intr 5\n").ok());
  EXPECT_FALSE(parse_proc_stat("cpu  1 x 3 4 5\n").ok());
  EXPECT_FALSE(parse_proc_stat("cpu  1 2\n").ok());
}

TEST(CpuModel, IntegratesIdlePlusUtilizationShareAndSaysItIsEstimated) {
  testing::TempDir dir;
  const auto stat = dir.write("stat", stat_text(0, 0));
  dir.write("cpuinfo", "model name\t: Test CPU\n");
  CpuModelOptions o;
  o.proc_stat = stat.string();
  o.cpuinfo = (dir.path() / "cpuinfo").string();
  o.idle_w = 10.0;
  o.max_w = 50.0;
  ManualClock clock(Seconds(100));
  auto s = open_cpu_model_sensor(o, clock);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE((*s)->info().caps.estimated);
  // 1 s at 50% utilization: 10 + 40 * 0.5 = 30 W -> 30 J.
  clock.advance(Seconds(1));
  dir.write("stat", stat_text(100, 100));
  auto r1 = (*s)->read();
  ASSERT_TRUE(r1.ok());
  EXPECT_NEAR(r1->energy->value(), 30.0, 1e-9);
  EXPECT_NEAR(r1->power->value(), 30.0, 1e-9);
  // 2 s fully busy: 50 W -> +100 J.
  clock.advance(Seconds(2));
  dir.write("stat", stat_text(500, 100));
  EXPECT_NEAR((*s)->read()->energy->value(), 130.0, 1e-9);
}

TEST(CpuModel, FallsBackToTheStatedGenericDefault) {
  testing::TempDir dir;
  CpuModelOptions o;
  o.proc_stat = dir.write("stat", stat_text(0, 0)).string();
  o.cpuinfo = dir.write("cpuinfo", "model name\t: Some Unknown CPU\n").string();
  auto p = resolve_cpu_power_params(o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->logical_cpus, 2);
  EXPECT_DOUBLE_EQ(p->max_w, 20.0);
  EXPECT_DOUBLE_EQ(p->idle_w, 6.0);
  EXPECT_NE(p->basis.find("generic"), std::string::npos);
}

TEST(CpuModel, ScalesATableTdpToTheVisibleCpus) {
  testing::TempDir dir;
  CpuModelOptions o;
  o.proc_stat = dir.write("stat", stat_text(0, 0)).string();
  o.cpuinfo = dir.write("cpuinfo", "model name\t: AMD EPYC 7763 64-Core Processor\n").string();
  auto p = resolve_cpu_power_params(o);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->max_w, 280.0 / 128 * 2, 1e-9);
}

TEST(CpuModel, RejectsInconsistentFlagsAndMissingFiles) {
  testing::TempDir dir;
  CpuModelOptions o;
  o.proc_stat = dir.write("stat", stat_text(0, 0)).string();
  o.idle_w = 30;
  o.max_w = 20;
  auto p = resolve_cpu_power_params(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::kInvalidArgument);
  o.proc_stat = (dir.path() / "missing").string();
  ManualClock clock;
  auto s = open_cpu_model_sensor(o, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace jouleperf
