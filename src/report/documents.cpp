#include "jouleperf/report/documents.hpp"

#include "jouleperf/report/compare.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/summary.hpp"
#include "jouleperf/report/table.hpp"
#include "jouleperf/report/tables.hpp"

namespace jouleperf::report {

std::string_view report_format_choices() { return "html | md | csv | json | console | jsonl"; }

Result<table::Document> report_document(const ReportData& data, const std::string& only_table,
                                        const ReportData* before) {
  auto tables = report_tables(data);
  if (!tables) return tables.error();
  if (before != nullptr) {
    auto compare = compare_table(data, *before);
    if (!compare) return compare.error();
    tables->insert(tables->begin(), std::move(*compare));
  }
  table::Document d;
  if (only_table.empty()) {
    d.json = nlohmann::json::object();
    for (const auto& t : *tables) d.json[t.name] = to_json(t);
    d.tables = std::move(*tables);
    return d;
  }
  std::string names;
  for (auto& t : *tables) {
    if (t.name == only_table) {
      d.tables.push_back(std::move(t));
      return d;
    }
    names += (names.empty() ? "" : ", ") + t.name;
  }
  return make_error(Errc::kInvalidArgument, "--table '" + only_table + "': this store's tables are " + names +
                                                (before == nullptr ? " (and compare with --compare)" : ""));
}

Result<std::string> render_report(const ReportData& data, std::string_view format, const std::string& csv_table,
                                  const ReportData* before) {
  if (format == "html") return html_report(data, before);
  if (format == "md") {
    auto doc = report_document(data, "", before);
    if (!doc) return doc.error();
    auto summary = summarize(data);
    if (!summary) return summary.error();
    // The answer first, as on the HTML report's first screen.
    std::string out = "# jouleperf report\n\n";
    for (const auto& line : summary_lines(*summary)) out += line + "\n";
    out += "\n";
    const auto headline = headline_table(*summary, {Kind::kMeasured, Kind::kEstimated, Kind::kSimulated});
    if (!headline.rows.empty()) out += to_markdown(headline) + "\n";
    for (const auto& t : doc->tables) out += to_markdown(t) + "\n";
    return out;
  }
  auto f = table::parse_format(format);
  if (!f)
    return make_error(Errc::kInvalidArgument, "unknown report format '" + std::string(format) + "' (choose " +
                                                  std::string(report_format_choices()) + ")");
  auto doc = report_document(data, *f == table::Format::kCsv ? csv_table : "", before);
  if (!doc) return doc.error();
  return table::render(*doc, *f);
}

ReportOutput choose_report_output(bool json, const std::string& output, const std::string& output_file,
                                  const std::string& format) {
  ReportOutput out{format, output_file};
  const bool output_is_format = output == "html" || (!output.empty() && table::parse_format(output));
  if (json)
    out.format = "json";
  else if (output_is_format)
    out.format = output;
  if (out.file.empty() && !output_is_format) out.file = output;
  if (out.file.empty() && out.format == "html") out.file = "report.html";
  return out;
}

std::size_t chart_count(const ReportData& data) {
  std::size_t charts = 0;
  auto built = build_charts(data);
  if (built)
    for (const auto& c : *built) charts += c.spec.is_null() ? 0 : 1;
  return charts;
}

}  // namespace jouleperf::report
