// jouleperf burn: a built-in CPU workload (dense floating-point work on N threads for
// S seconds), so `make demo` has something real to measure on any machine.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "commands.hpp"

namespace jouleperf::cli {
namespace {

struct BurnArgs {
  double seconds = 3.0;
  double gflop = 0.0;  // > 0: a fixed amount of work instead of a fixed time
  int threads = 1;
};

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

int run_burn(const BurnArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = a.gflop > 0 ? std::chrono::steady_clock::time_point::max()
                                    : start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(a.seconds));
  const double per_thread = a.gflop > 0 ? a.gflop * 1e9 / a.threads : std::numeric_limits<double>::infinity();
  std::vector<std::thread> workers;
  std::vector<double> flops(static_cast<std::size_t>(a.threads), 0.0);
  for (int t = 0; t < a.threads; ++t)
    workers.emplace_back([&, t] { flops[static_cast<std::size_t>(t)] = burn_until(deadline, per_thread); });
  for (auto& w : workers) w.join();
  double total = 0;
  for (double f : flops) total += f;
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("burn: {} thread(s) for {:.2f} s, {:.2f} GFLOP ({:.2f} GFLOP/s)\n", a.threads, elapsed_s, total / 1e9,
             total / 1e9 / elapsed_s);
  return kExitOk;
}

}  // namespace

void add_burn_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BurnArgs>();
  auto* cmd = app.add_subcommand("burn", "A built-in CPU workload to measure: floating-point work on N threads");
  cmd->add_option("--seconds", args->seconds, "How long, s")->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  cmd->add_option("--gflop", args->gflop, "Do this much work instead (GFLOP; fixed work, for overhead comparisons)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Threads")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->callback([args, &ctx] { ctx.exit_code = run_burn(*args); });
}

}  // namespace jouleperf::cli
