// `jouleperf estimate` as one call: a workload (a trace or an embedded workload) and the
// configurations and cells of a results store -> the paper's estimate per configuration,
// the corrected one, the FLOPs-ideal baseline (ideal_device.hpp), savings and carbon; and
// the estimate as a Document (tables for console/md/csv, the "estimate" artifact as JSON).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/carbon.hpp"
#include "jouleperf/estimate/ideal_device.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

struct WorkloadRunOptions {
  // The workload: exactly one of trace and workload.
  std::string trace;                  // trace file (.csv, .jsonl, optionally .gz)
  std::string workload;               // embedded workload name
  std::string trace_format = "auto";  // auto|azure|burstgpt|mooncake|csv|jsonl
  std::string input_col, output_col;  // generic CSV/JSONL columns
  bool skip_bad = false, include_failed = false;
  std::vector<std::string> where;  // KEY=VALUE tag filters
  // Bins: edges (a list or pow2:LO:HI; "" = the lengths measured in the cells).
  std::string input_edges, output_edges, out_of_range = "exclude";
  double scale_input = 1.0, scale_output = 1.0;  // length multipliers before binning
  // The FLOPs-ideal baseline.
  IdealDeviceOptions device;
  std::string hardware_file;  // JSON file of extra hardware profiles
  std::string arch;           // architecture whose FLOPs count (default: each config's model)
  // The estimate.
  std::string baseline;  // configuration savings are measured against ("" = the marked one)
  std::uint64_t max_batch = 0;
  std::string missing = "interpolate", composition = "none";
  CarbonOptions carbon;
};

// The checks that need no store: one of trace/workload, the missing-bins, composition and
// out-of-range names, the carbon options. kInvalidArgument naming the setting.
Status check_workload_run(const WorkloadRunOptions& o);

// The whole estimate on `configs` and `cells` (a store's). Fails with kNotFound for no
// configuration or no measured cell (when edges come from the cells), kInvalidArgument for
// bad settings, an unknown --hardware/--arch/--precision or a one-sided rating, kParse for a
// trace with no request left, and as estimate_workload fails. Configurations that cannot be
// estimated are in the result's `refused`.
Result<WorkloadEstimate> run_workload_estimate(const WorkloadRunOptions& o, std::span<const study::Config> configs,
                                               std::span<const study::CellResult> cells);

// Header lines (workload, scale, missing bins), the "estimates" table (Wh, interval, ideal,
// saving, per request and per output token, corrected) and footer lines (each config's
// energy source, ideal device, carbon); JSON: to_json(w), the "estimate" artifact.
table::Document workload_estimate_document(const WorkloadEstimate& w);

}  // namespace jouleperf::estimate
