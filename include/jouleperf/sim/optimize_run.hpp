// `jouleperf optimize` on the simulator as one call: the search settings (lists of
// hardware, devices, TP, stacks, batching, max batch, decoding, precision; SLOs; the
// baseline) -> the grid, the workload's requests, sim::optimize, and the outcome as a
// Document (tables for console/md/csv, every candidate as JSON).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/inputs.hpp"
#include "jouleperf/sim/optimize.hpp"

namespace jouleperf::sim {

struct OptimizeSearchOptions {
  std::vector<std::string> hardware;  // profiles to try (empty: every GPU profile)
  std::vector<std::uint32_t> devices{1, 2, 4};
  std::vector<std::uint32_t> tp{1, 2, 4, 8};
  std::vector<std::string> stacks{"hf-eager", "hf-compiled", "vllm"};
  std::vector<std::string> batching;  // empty: each stack's own
  std::vector<std::uint32_t> max_batch{32, 256};
  std::vector<std::string> decoding{"greedy", "spec"};
  std::vector<std::string> precisions{"bf16", "fp8"};
  std::vector<double> power_caps{1.0};    // GPU power limits to try, fractions of TDP (1 = none)
  std::vector<double> clock_ratios{1.0};  // locked clocks to try, fractions of the maximum (1 = none)
  bool phase_clocks = false;              // also different clock_ratios for prefill and decode steps
  std::uint32_t spec_tokens = 4;
  double slo_ttft = 0, slo_tpot = 0, slo_e2e = 0;  // p99 limits, s; 0 = none
  double min_throughput = 0;                       // requests/s; 0 = none
  // "key=value,...": hardware, stack, batching, max-batch, tp, devices, precision, decoding;
  // "none" or "" for no baseline.
  std::string baseline = "stack=hf-eager,batching=static,max-batch=16";
  unsigned threads = 0;  // worker threads; 0 = every core
  std::size_t top = 10;  // feasible configurations listed by energy
  double overload_s = 600;
  std::uint64_t max_cells = 0;  // refuse a larger grid; 0 = no limit
};

// kInvalidArgument naming --max-cells when the product of the axes' lengths (an upper
// bound on the configurations) exceeds max_cells (0: no limit).
Status check_search_size(std::initializer_list<std::size_t> axes, std::uint64_t max_cells);

// The baseline "key=value,..." over `base`; `spec` is the speculative decoding used for
// decoding=spec. kInvalidArgument naming the spec and the bad item.
Result<SimConfig> parse_baseline(const std::string& spec, const SimConfig& base,
                                 const hardware::HardwareRegistry& registry, const DecodingConfig& spec_decoding);

struct OptimizeRun {
  OptimizeResult result;
  OptimizeSearchOptions search;  // as given
  std::string model;             // architecture name
  std::string workload;          // load_workload's description
  unsigned threads = 1;          // worker threads used
};

// Builds the grid (deployment gives the model, profiles, router, token budget, memory,
// static wait, acceptance, draft), loads the workload and searches. kInvalidArgument for
// unknown names, an empty grid or one over max_cells; workload and model errors as they come.
Result<OptimizeRun> run_optimize(const OptimizeSearchOptions& search, const DeploymentOptions& deployment,
                                 const WorkloadSource& workload);

// One candidate as JSON (label, config, feasibility, energy, p99 latencies, throughput).
nlohmann::json to_json(const Evaluated& e);

// Header lines (SIMULATED, model, workload, the search, SLOs), tables "best", "pareto",
// "top" (by energy) and "baseline" (label, J/request, p99 TTFT/TPOT ms, e2e s), footer
// lines (no feasible configuration, the baseline's misses, the saving); JSON: the whole
// run with every candidate.
table::Document optimize_document(const OptimizeRun& run);

}  // namespace jouleperf::sim
