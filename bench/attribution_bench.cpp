// Energy per request (engine/attribution.hpp): the cost of splitting a run's energy among
// its requests by their token timelines, for runs the size of a real replay. Figures in
// docs/performance.md, "Energy per request".
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "jouleperf/engine/attribution.hpp"

namespace jouleperf {
namespace {

// `n` requests arriving at `rate` req/s, each 64 generated tokens 30 ms apart after a
// 200 ms prefill; 10 ms slices over the whole run at 300 W.
struct Run {
  std::vector<RequestTimeline> timelines;
  std::vector<EnergySlice> slices;
};

Run make_run(std::size_t n, double rate) {
  Run r;
  std::mt19937_64 rng(1);
  std::exponential_distribution<double> gap(rate);
  double t = 0, end = 0;
  for (std::size_t i = 0; i < n; ++i) {
    t += gap(rng);
    RequestTimeline q;
    q.send_s = t;
    q.first_token_s = t + 0.2;
    for (int k = 0; k < 64; ++k) q.token_s.push_back(t + 0.2 + 0.03 * k);
    q.end_s = q.token_s.back();
    q.input_tokens = 512;
    end = std::max(end, q.end_s);
    r.timelines.push_back(std::move(q));
  }
  for (double a = 0; a < end + 1.0; a += 0.01) r.slices.push_back({a, a + 0.01, 3.0});
  return r;
}

void BM_AttributeBlackBox(benchmark::State& state) {
  const auto run = make_run(static_cast<std::size_t>(state.range(0)), static_cast<double>(state.range(1)));
  TokenCostModel model;
  for (auto _ : state) {
    auto segments = black_box_segments(run.timelines, model);
    auto a = attribute(run.slices, segments, run.timelines, {});
    benchmark::DoNotOptimize(a);
  }
  state.counters["requests"] = static_cast<double>(run.timelines.size());
  state.counters["slices"] = static_cast<double>(run.slices.size());
}
// 1,000 and 10,000 requests at 10 req/s (about 20 in flight); 10,000 at 100 req/s (about 200).
BENCHMARK(BM_AttributeBlackBox)->Args({1000, 10})->Args({10000, 10})->Args({10000, 100})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace jouleperf
