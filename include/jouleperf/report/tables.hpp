// The report's tables, built from ReportData with the Table row schema: cells (one row
// per measured or skipped cell), estimates (the Table-4 comparison and savings),
// replays and validations. Malformed artifact fields are errors naming the artifact and
// field; absent fields are empty cells.
#pragma once

#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/table.hpp"

namespace jouleperf::report {

Table cells_table(const ReportData& data);
Result<Table> estimates_table(const ReportData& data);
Result<Table> replays_table(const ReportData& data);
// Every stored request of the replays (their `per_request` lists), one row each; no rows
// when none stored them (report_tables then leaves the table out). Fails with kParse for
// a malformed record.
Result<Table> replay_requests_table(const ReportData& data);
Result<Table> validations_table(const ReportData& data);

// Per "fidelity" artifact (a study that named a measurements file, docs/fidelity.md): its
// error summary and its rows, SIMULATED against measured. Empty without such artifacts.
Result<std::vector<Table>> fidelity_tables(const ReportData& data);

// The cells, estimates, replays and validations tables, in that order (empty tables
// included: their headers still document the schema), the replay requests when any
// replay stored them, the fidelity tables, then the nodes table (node_agreement.hpp) when
// a configuration was measured on two nodes or more.
Result<std::vector<Table>> report_tables(const ReportData& data);

}  // namespace jouleperf::report
