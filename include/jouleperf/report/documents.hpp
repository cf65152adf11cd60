// What `jouleperf report` writes, from a results store's ReportData: the self-contained
// HTML report, or the report's tables (tables.hpp) in the shared output formats.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

// "html | md | csv | json | console | jsonl", for help texts.
std::string_view report_format_choices();

// The report's tables as a Document: every table (report_tables), or only the one named
// `only_table` when it is not empty. JSON: an object keyed by table name (every table)
// or the one table's rows. kInvalidArgument for an unknown `only_table` (the message lists
// the names); fails as report_tables fails on a malformed artifact. With `before` (an older
// store, `report --compare`), the before/after table "compare" (compare.hpp) comes first.
Result<table::Document> report_document(const ReportData& data, const std::string& only_table = "",
                                        const ReportData* before = nullptr);

// The whole report as text in `format`: "html" (html_report: charts by the inlined
// Vega-Lite, no network), "md" (a "# jouleperf report" title, then every table), "csv"
// (the one table `csv_table`: cells | estimates | replays | validations | fidelity ...),
// "json", "jsonl" or "console" (every table). kInvalidArgument for another format or an
// unknown table; fails as report_tables and html_report fail. `before`: as report_document
// (html: the "Before and after" section).
Result<std::string> render_report(const ReportData& data, std::string_view format, const std::string& csv_table,
                                  const ReportData* before = nullptr);

// Where and how `jouleperf report` writes, from its flags (docs/report.md, "Choosing the
// format and the file"): the format is json when `json`, else `output` when it names a
// format (html, console, md, csv, json, jsonl), else `format`; the file is `output_file`,
// else `output` when it names no format (the old `-o FILE`), else report.html for html;
// "" or "-" is standard output. Never fails (an unknown format fails in render_report).
struct ReportOutput {
  std::string format;
  std::string file;
};
ReportOutput choose_report_output(bool json, const std::string& output, const std::string& output_file,
                                  const std::string& format);

// The charts an HTML report of `data` draws (0 when they cannot be built).
std::size_t chart_count(const ReportData& data);

}  // namespace jouleperf::report
