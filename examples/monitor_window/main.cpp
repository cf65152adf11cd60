// Measures one window of busy work with the sensors this machine has (the CPU-time
// model when it has none) and prints what the window measured, source included.
// Usage: monitor_window [SENSOR]   (SENSOR as --sensor: rapl, nvml, cpu-model, ...)
// Exit code: 0 measured, 1 a sensor or measurement error (printed).
#include <cmath>
#include <cstdio>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/monitor.hpp"

int main(int argc, char** argv) {
  jouleperf::SteadyClock clock;
  jouleperf::MonitorOptions options;
  if (argc > 1) options.sensors.names = {argv[1]};
  auto monitor = jouleperf::Monitor::open(options, clock);
  if (!monitor) {
    std::fprintf(stderr, "monitor_window: %s\n", monitor.error().to_string().c_str());
    return 1;
  }
  if (auto st = (*monitor)->begin_window("busy"); !st) {
    std::fprintf(stderr, "monitor_window: %s\n", st.error().to_string().c_str());
    return 1;
  }
  volatile double sink = 0.0;
  const double until = clock.now().value() + 0.3;
  for (long k = 1; clock.now().value() < until; ++k) sink = sink + std::sqrt(static_cast<double>(k));
  auto m = (*monitor)->end_window("busy");
  if (!m) {
    std::fprintf(stderr, "monitor_window: %s\n", m.error().to_string().c_str());
    return 1;
  }
  std::printf("window busy: %.3f J over %.3f s (%s%s) from %s\n", m->total.energy_j, m->total.duration_s,
              m->total.energy_source.c_str(), m->total.estimated ? ", ESTIMATED" : "", (*monitor)->sensors().c_str());
  return 0;
}
