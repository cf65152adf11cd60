// The study's answer, read from a results store's documents: what ran, per workload the
// energy of each configuration (Wh per 1,000 requests with its interval), its saving
// against the baseline, how far the paper's binned estimate sits from the estimate with
// real lengths and from the FLOPs-ideal baseline, the validation error, and three to five
// sentences of findings generated from those numbers. The HTML report's first screen
// and the closing lines of `jouleperf study` are both made from it (docs/report.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/core/table.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

// How a figure was obtained, in the words the report prints.
enum class Kind { kMeasured, kEstimated, kSimulated };
// "MEASURED" | "ESTIMATED" | "SIMULATED".
std::string_view kind_word(Kind k);
// kSimulated when simulated, else kEstimated when estimated, else kMeasured.
Kind kind_of(bool estimated, bool simulated);

// One configuration on one workload (an "estimate" document's config entry).
struct HeadlineRow {
  std::string workload;
  std::string config;
  Kind kind = Kind::kMeasured;
  std::string energy_source;  // counter | power-integral | cpu-time-model | simulated
  std::string baseline;       // the config savings are against ("" when none)
  std::optional<double> requests;
  std::optional<double> wh_per_1k, wh_per_1k_lo, wh_per_1k_hi;  // Wh per 1,000 requests and its interval
  std::optional<double> saving_pct, saving_lo_pct, saving_hi_pct;
  bool saving_interval_paired = false;         // lo/hi from paired repetitions (95 %), else from both bounds
  std::optional<double> binned_vs_real_pct;    // 100 * (binned / estimate with real lengths in bins - 1)
  std::optional<double> ideal_ratio;           // binned estimate / FLOPs ideal (x)
  std::optional<double> validation_error_pct;  // binned estimate against a measured run of the same requests
};

// What ran, each list without repeats, in first-seen order.
struct WhatRan {
  std::vector<std::string> engines, models, hardware, sensors;
  std::vector<Kind> kinds;  // of the energies shown
};

struct Summary {
  std::string title;
  WhatRan what;
  std::vector<HeadlineRow> rows;      // measured and estimated first, then simulated
  std::vector<std::string> findings;  // three to five sentences (fewer when the store holds less)
};

// Reads the summary from `data`. Fails (kParse) naming the artifact and field when an
// estimate or validation document is malformed. A store without estimates gives no rows
// and findings that say so.
Result<Summary> summarize(const ReportData& data);

// The headline rows of the kinds in `kinds` as a table (workload, config, kind,
// energy_per_1k_requests_wh with lo/hi, saving_pct with lo/hi, binned_vs_real_pct,
// ideal_ratio_x, validation_error_pct, energy_source).
table::Table headline_table(const Summary& s, const std::vector<Kind>& kinds);

// "ESTIMATED", "MEASURED and SIMULATED", ...: the kinds of the summary's energies.
std::string kinds_text(const WhatRan& w);

// The closing lines of `jouleperf study`: "What ran: ...", the findings, one per line.
std::vector<std::string> summary_lines(const Summary& s);

}  // namespace jouleperf::report
