// Before and after: two results stores of the same study (before and after upgrading an
// engine, a driver, a model build) compared by name. Workload estimates are matched by
// (workload, configuration); cells by configuration and (I, O, B). Configurations found in
// only one store are listed as such, never dropped (docs/report.md, "Comparing runs").
#pragma once

#include "jouleperf/core/table.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

// One row per (workload, configuration) of either store's estimates, then one per
// configuration over its matched cells ("workload" = "cells: N matched"):
//   before/after Wh per 1,000 requests (estimates) or the geometric mean of the matched
//   cells' J per batch, the change in % (after / before - 1), and its interval:
//   estimates: both intervals' relative half-widths added in quadrature;
//   cells: 95 % from each cell's repetitions (delta method on log ratios), empty with one
//   repetition per cell.
// status: "in both" | "only in new" | "only in old" | "no matching cells"; source: the kind
// (MEASURED | ESTIMATED | SIMULATED) and energy source of the figures, both stores' when they differ.
// Fails (kParse) as summarize fails on a malformed estimate document.
Result<table::Table> compare_table(const ReportData& after, const ReportData& before);

}  // namespace jouleperf::report
