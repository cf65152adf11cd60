// The configuration that serves a workload with the least energy under latency SLOs:
// a grid search on the simulator over hardware type and count, tensor-parallel degree,
// software stack, batching mode and maximum batch, decoding strategy and weight
// precision. Returns the minimum-energy feasible configuration, the energy-latency
// Pareto front, and the savings against a named baseline. Every figure is simulated.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::sim {

struct Slo {
  std::optional<double> ttft_p99_s;          // p99 time to first token, s
  std::optional<double> tpot_p99_s;          // p99 time per output token, s
  std::optional<double> e2e_p99_s;           // p99 end-to-end latency, s
  std::optional<double> min_throughput_rps;  // completed requests per second over the span
};

struct DecodingChoice {
  std::string name = "greedy";  // label: "greedy", "spec4"
  DecodingConfig decoding;
};

struct SearchSpace {
  std::vector<hardware::HardwareProfile> hardware;
  std::vector<std::uint32_t> devices = {1, 2, 4};  // devices in total: tp * replicas
  std::vector<std::uint32_t> tp = {1, 2, 4, 8};    // tensor-parallel degrees (dividing devices)
  std::vector<SoftwareStack> stacks;
  std::vector<Batching> batching;  // empty: each stack's own
  std::vector<std::uint32_t> max_batch = {32, 256};
  std::vector<DecodingChoice> decoding = {DecodingChoice{}};
  std::vector<WeightPrecision> precisions = {WeightPrecision::kBf16};
  // GPU power limits as fractions of each profile's TDP (1 = uncapped) and locked clocks as
  // fractions of its maximum (1 = not locked); every pair is tried on GPUs (clocks.hpp).
  // CPUs run as they are.
  std::vector<double> power_cap_fractions = {1.0};
  std::vector<double> clock_ratios = {1.0};
  // Also try each pair of different clock_ratios for prefill and decode steps
  // (ClockSettings::prefill_clock_ratio / decode_clock_ratio), with every cap.
  bool phase_clocks = false;
};

struct Evaluated {
  std::string label;  // "h100-sxm x2 (tp 2) vllm continuous b256 bf16 greedy"
  SimConfig config;
  bool ran = false;       // the simulator accepted the configuration
  bool feasible = false;  // ran, served every request, met every SLO
  std::string why;        // the error, or the SLOs it misses
  double energy_j = 0;    // whole workload, idle included
  double energy_per_request_j = 0;
  double ttft_p99_s = 0, tpot_p99_s = 0, e2e_p99_s = 0, throughput_rps = 0;
  double devices = 0;
  std::uint64_t peak_sequences = 0;  // most sequences in a step (static: in a batch)
  bool kv_limited = false;           // the KV cache held requests back
  bool reused = false;               // not simulated: a larger max_batch never reached this one and
                                     // the KV cache never bound, so the run is the same
  bool pareto = false;               // on the energy / p99 end-to-end latency front of the feasible ones
};

struct OptimizeResult {
  bool simulated = true;
  std::vector<Evaluated> candidates;  // in search order
  std::optional<std::size_t> best;    // index of the minimum-energy feasible candidate
  std::vector<std::size_t> pareto;    // indices, by increasing energy
  std::optional<Evaluated> baseline;
  double savings_vs_baseline = 0;  // 1 - best / baseline energy per completed request (an
                                   // overloaded baseline completes fewer requests)
  std::size_t ran = 0, feasible = 0;
  std::size_t simulated_runs = 0;  // simulations actually run (the rest reused, see optimize)
  double wall_s = 0;               // time the search took
};

// The configurations of the grid, each built from `base` (router, memory utilization,
// token budget, power model and the model come from it). Combinations that cannot exist
// (a tp that does not divide the device count or exceeds the profile's max_tp, a GPU
// stack on a CPU) are skipped here; the rest are tried.
std::vector<SimConfig> expand(const SearchSpace& space, const SimConfig& base);

// One-line label of a configuration.
std::string label(const SimConfig& c);

// Simulates every configuration on `workload` with `threads` threads (>= 1) and the
// baseline, if given. Configurations that differ only in max_batch are run largest first;
// a smaller one whose cap the larger run never reached (and whose KV cache never bound)
// would run identically, so its outcome is reused rather than simulated again. Each run stops once a replica falls
// `overload_s` behind the last arrival (an overloaded configuration misses any latency SLO). Fails only for an empty
// grid or workload; a configuration the simulator refuses is recorded as not run.
Result<OptimizeResult> optimize(std::span<const SimConfig> grid, std::span<const workload::TimedRequest> workload,
                                const Slo& slo, const std::optional<SimConfig>& baseline, unsigned threads,
                                double overload_s = 600.0);

}  // namespace jouleperf::sim
