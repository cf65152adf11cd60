// Monitor from several threads at once (the Python package's two-threads case, and any
// C++ program that measures windows on worker threads). Label "sampler": also run under
// ThreadSanitizer, which fails the test on a data race in the window calls.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/monitor.hpp"

namespace jouleperf {
namespace {

TEST(MonitorThreads, TwoThreadsOpenAndCloseWindowsAtOnceAndEachGetsItsOwn) {
  SteadyClock clock;
  SensorInfo info{"fake", "fake:0", "scripted", {}};
  info.caps.power = true;
  PowerProfile flat;
  flat.point(Seconds(0), Watts(50)).point(Seconds(1e6), Watts(50));
  SensorList sensors;
  sensors.push_back(std::make_unique<FakePowerSensor>(info, flat, clock));
  SamplerConfig cfg;
  cfg.hz = 1000;
  auto mon = Monitor::over(std::move(sensors), cfg, clock);
  ASSERT_TRUE(mon) << mon.error().to_string();

  constexpr int kWindows = 200;
  std::vector<int> failures(2, 0), off(2, 0);
  auto worker = [&](int t) {
    for (int i = 0; i < kWindows; ++i) {
      const std::string name = fmt::format("t{}-{}", t, i % 3);
      if (!(*mon)->begin_window(name)) {
        ++failures[t];
        continue;
      }
      auto m = (*mon)->end_window(name);
      if (!m) {
        ++failures[t];
        continue;
      }
      // A flat 50 W: each window's energy is 50 W times its own span, whatever the other
      // thread's windows do meanwhile. The span is read from the clock apart from the
      // sensors' readings at its edges, so the two may differ by the time between those
      // reads, and a preempted thread can sit between them for a scheduler slice (10 ms
      // allowed); a window given the other thread's readings would not be bounded so.
      if (std::abs(m->total.energy_j - 50.0 * m->total.duration_s) > m->total.uncertainty_j + 50.0 * 0.010) ++off[t];
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(failures[0] + failures[1], 0);
  EXPECT_EQ(off[0] + off[1], 0);
  EXPECT_TRUE((*mon)->open_windows().empty());
}

}  // namespace
}  // namespace jouleperf
