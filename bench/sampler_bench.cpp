// Cost of the sampler: per read (by sensor kind) and as a share of one core when the
// polling thread runs at 100 Hz. Method and figures: docs/performance.md.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <thread>

#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {
namespace {

std::vector<std::unique_ptr<Sensor>> one(std::unique_ptr<Sensor> s) {
  std::vector<std::unique_ptr<Sensor>> v;
  v.push_back(std::move(s));
  return v;
}

std::unique_ptr<Sensor> cpu_model(const Clock& clock) {
  auto s = open_cpu_model_sensor(CpuModelOptions{}, clock);
  if (!s) return nullptr;
  return std::move(s).value();
}

// One read of the CPU-time model (open + read + parse /proc/stat).
void BM_CpuModelRead(benchmark::State& state) {
  SteadyClock clock;
  auto s = cpu_model(clock);
  if (!s) return state.SkipWithError("no /proc/stat");
  for (auto _ : state) benchmark::DoNotOptimize(s->read());
}
BENCHMARK(BM_CpuModelRead);

// The sampler's own bookkeeping per read (fake sensor: no I/O), via poll_due().
void BM_SamplerPollFake(benchmark::State& state) {
  ManualClock clock;
  Sampler sampler(one(std::make_unique<FakePowerSensor>(SensorInfo{"fake", "fake:0", "", {}},
                                                        PowerProfile().point(Seconds(0), Watts(10)), clock)),
                  SamplerConfig{}, clock);
  if (!sampler.start(false)) return state.SkipWithError("start failed");
  for (auto _ : state) {
    clock.advance(Seconds(0.01));
    sampler.poll_due();
  }
}
BENCHMARK(BM_SamplerPollFake);

// A meter mark: one synchronous read of every sensor (here the CPU-time model).
void BM_MeterMark(benchmark::State& state) {
  SteadyClock clock;
  auto s = cpu_model(clock);
  if (!s) return state.SkipWithError("no /proc/stat");
  Sampler sampler(one(std::move(s)), SamplerConfig{}, clock);
  if (!sampler.start(false)) return state.SkipWithError("start failed");
  Meter meter(sampler);
  (void)meter.start("a");
  for (auto _ : state) benchmark::DoNotOptimize(meter.mark("b"));
}
BENCHMARK(BM_MeterMark);

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// The polling thread at 100 Hz on the CPU-time model for 5 s of wall time while the
// main thread sleeps: process CPU time / wall time is the sampler's share of one core.
// First arg: 0 = the CPU-time model (reads /proc/stat), 1 = a fake sensor (the thread's
// own cost). Second arg: the read rate, Hz, for power and counters alike.
void BM_SamplerThreadCoreShare(benchmark::State& state) {
  SteadyClock clock;
  for (auto _ : state) {
    std::unique_ptr<Sensor> s =
        state.range(0) == 0 ? cpu_model(clock)
                            : std::make_unique<FakePowerSensor>(SensorInfo{"fake", "fake:0", "", {}},
                                                                PowerProfile().point(Seconds(0), Watts(10)), clock);
    if (!s) return state.SkipWithError("no /proc/stat");
    SamplerConfig cfg;
    cfg.hz = static_cast<double>(state.range(1));
    cfg.counter_hz = cfg.hz;
    Sampler sampler(one(std::move(s)), cfg, clock);
    const double cpu0 = process_cpu_s();
    const double t0 = clock.now().value();
    if (!sampler.start(true)) return state.SkipWithError("start failed");
    std::this_thread::sleep_for(std::chrono::seconds(5));
    sampler.stop();
    const double wall = clock.now().value() - t0;
    const double cpu = process_cpu_s() - cpu0;
    state.counters["core_share_pct"] = 100.0 * cpu / wall;
    state.counters["reads"] = static_cast<double>(sampler.samples(0).size());
  }
}
BENCHMARK(BM_SamplerThreadCoreShare)
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 10})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace jouleperf
