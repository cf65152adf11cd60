// Simulator speed: step evaluations per second, and simulated events (arrivals, engine
// steps, completions) per second for continuous and static batching on synthetic Azure
// conversation workloads. BM_TenMillionRequests is the issue-7 claim (10 million
// requests with continuous batching in under 60 s on one core); docs/performance.md,
// "Simulator", records the figures and the commands.
#include <benchmark/benchmark.h>

#include <random>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/sim/step.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace {

using namespace jouleperf;

sim::SimConfig config(const char* stack) {
  hardware::HardwareRegistry r;
  auto c = sim::make_config(*r.find("h100-sxm"), *sim::find_stack(stack),
                            info_from_arch(*find_builtin_arch("Llama-3.1-8B")));
  c.keep_requests = false;
  return c;
}

std::vector<workload::TimedRequest> conv(std::size_t n, double rate) {
  workload::SynthesisOptions o;
  o.count = n;
  o.rate_rps = rate;
  std::mt19937_64 rng(1);
  return *workload::synthesize(**workload::find_default_workload("azure-conv-2023"), o, rng);
}

void BM_StepEvaluate(benchmark::State& state) {
  const auto c = config("vllm");
  auto m = *sim::StepModel::create(c.model, c.hardware, c.stack, c.precision, 1, c.power);
  double ctx = 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.evaluate(sim::decode_rows(64, 64 * ctx)));
    ctx += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StepEvaluate);

// Arg 0: requests; arg 1: arrival rate, req/s (20: mean batch ~80 on this deployment;
// 5: ~9, many more steps per request).
void BM_SimulateContinuous(benchmark::State& state) {
  const auto c = config("vllm");
  const auto reqs = conv(static_cast<std::size_t>(state.range(0)), static_cast<double>(state.range(1)));
  std::uint64_t events = 0, steps = 0;
  for (auto _ : state) {
    auto r = sim::simulate(c, reqs);
    events += r->events;
    steps += r->steps;
    benchmark::DoNotOptimize(r->energy_j);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(reqs.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateContinuous)->Args({100000, 20})->Args({100000, 5})->Unit(benchmark::kMillisecond);

void BM_SimulateStatic(benchmark::State& state) {
  auto c = config("hf-eager");
  c.max_batch = 32;
  const auto reqs = conv(static_cast<std::size_t>(state.range(0)), 0.5);
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto r = sim::simulate(c, reqs);
    events += r->events;
    benchmark::DoNotOptimize(r->energy_j);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateStatic)->Arg(20000)->Unit(benchmark::kMillisecond);

// The claim: 10 million requests, continuous batching, one core. The workload is drawn
// once, outside the timed loop.
void BM_TenMillionRequests(benchmark::State& state) {
  const auto c = config("vllm");
  const auto reqs = conv(10'000'000, static_cast<double>(state.range(0)));
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto r = sim::simulate(c, reqs);
    events += r->events;
    benchmark::DoNotOptimize(r->energy_j);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TenMillionRequests)->Arg(20)->Arg(5)->Iterations(1)->Unit(benchmark::kSecond)->MeasureProcessCPUTime();

}  // namespace
