// Embedded default workloads, so the study needs no trace file: figures derived from the
// Azure LLM inference traces of 2023 (CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024) by
// scripts/derive_default_workloads.py. The raw traces are not in the repository.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/lengths.hpp"

namespace jouleperf::workload {

struct DefaultWorkload {
  std::string_view name;  // "azure-conv-2023", "azure-code-2023"
  std::string_view description;
  std::string_view source;                     // the trace file the figures come from
  std::string_view attribution;                // licence and citation
  std::uint64_t requests = 0;                  // requests in the trace
  double duration_s = 0.0;                     // first to last arrival, s
  double rate_rps = 0.0;                       // requests / duration_s
  double interarrival_cv = 0.0;                // coefficient of variation of the gaps
  double input_mean = 0.0;                     // tokens
  double output_mean = 0.0;                    // tokens
  std::span<const std::uint64_t> input_edges;  // the paper's default edges, tokens
  std::span<const std::uint64_t> output_edges;
  std::span<const std::uint64_t> counts;  // N(I*, O*) row-major: [input bin * outputs + output bin]
  std::uint64_t excluded = 0;             // requests past the last edges (exclude policy)
  LogNormal input_lognormal;              // maximum-likelihood fits of the lengths
  LogNormal output_lognormal;
  std::span<const double> input_quantiles;  // numpy-linear quantiles at 0, 0.01, ..., 1, tokens
  std::span<const double> output_quantiles;

  // N(I*, O*) of input bin i and output bin o.
  std::uint64_t count(std::size_t i, std::size_t o) const { return counts[i * output_edges.size() + o]; }
};

// All embedded workloads.
std::span<const DefaultWorkload> default_workloads();

// The workload called `name`; kNotFound listing the names otherwise.
Result<const DefaultWorkload*> find_default_workload(std::string_view name);

}  // namespace jouleperf::workload
