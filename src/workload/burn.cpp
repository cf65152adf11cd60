#include "jouleperf/workload/burn.hpp"

#include <fmt/format.h>

#include <chrono>
#include <limits>
#include <thread>
#include <vector>

namespace jouleperf::workload {

namespace {

// Multiply-adds on a small array until the deadline or until `max_flops` are done;
// returns the number of FLOPs done.
double burn_until(std::chrono::steady_clock::time_point deadline, double max_flops) {
  constexpr int kN = 256;
  std::vector<double> x(kN, 1.0), y(kN, 0.5);
  double flops = 0;
  while (flops < max_flops && std::chrono::steady_clock::now() < deadline) {
    for (int rep = 0; rep < 1000; ++rep) {
      for (int i = 0; i < kN; ++i) y[i] = y[i] * 0.999999 + x[i] * 1e-6;
    }
    flops += 1000.0 * kN * 3;
  }
  volatile double sink = y[0];
  (void)sink;
  return flops;
}

}  // namespace

BurnResult burn_cpu(const BurnOptions& a) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = a.gflop > 0 ? std::chrono::steady_clock::time_point::max()
                                    : start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(a.seconds));
  const int threads = a.threads < 1 ? 1 : a.threads;
  const double per_thread = a.gflop > 0 ? a.gflop * 1e9 / threads : std::numeric_limits<double>::infinity();
  std::vector<std::thread> workers;
  std::vector<double> flops(static_cast<std::size_t>(threads), 0.0);
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { flops[static_cast<std::size_t>(t)] = burn_until(deadline, per_thread); });
  for (auto& w : workers) w.join();
  BurnResult r;
  r.threads = threads;
  for (double f : flops) r.flops += f;
  r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

table::Document burn_document(const BurnResult& r) {
  const double gflop = r.flops / 1e9;
  const double rate = r.elapsed_s > 0 ? gflop / r.elapsed_s : 0.0;
  table::Document d;
  d.header = {fmt::format("burn: {} thread(s) for {:.2f} s, {:.2f} GFLOP ({:.2f} GFLOP/s)", r.threads, r.elapsed_s,
                          gflop, rate)};
  d.tables.push_back({"burn",
                      "CPU work done",
                      {{"threads", ""}, {"elapsed_s", "wall time"}, {"gflop", "work done"}, {"gflop_per_s", ""}},
                      {{static_cast<std::int64_t>(r.threads), r.elapsed_s, gflop, rate}}});
  d.json = {{"threads", r.threads}, {"elapsed_s", r.elapsed_s}, {"gflop", gflop}, {"gflop_per_s", rate}};
  return d;
}

}  // namespace jouleperf::workload
