#include "jouleperf/report/html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "jouleperf/report/assets.hpp"
#include "jouleperf/report/compare.hpp"
#include "jouleperf/report/escape.hpp"
#include "jouleperf/report/node_agreement.hpp"
#include "jouleperf/report/summary.hpp"
#include "jouleperf/report/tables.hpp"
#include "page_script.hpp"
#include "people_table.hpp"

namespace jouleperf::report {

namespace {

constexpr std::string_view kStyle = R"CSS(
body { font: 13.5px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1240px; padding: 0.6em 1.6em; color: #222; }
h1 { font-size: 1.5em; margin: 0.2em 0; }
h2 { font-size: 1.2em; margin: 0.6em 0 0.3em; }
h3 { font-size: 1.05em; }
.what-ran { margin: 0.2em 0; }
.kind { display: inline-block; font-weight: 700; letter-spacing: 0.04em; padding: 0 0.45em; border-radius: 3px; color: #fff; }
.kind.measured { background: #1e7b34; } .kind.estimated { background: #9a6700; } .kind.simulated { background: #5a3fa0; }
#answer .headline h3 { margin: 0.4em 0 0.1em; font-size: 0.95em; }
#headline td:nth-child(-n+2) { white-space: nowrap; }
#findings ul { margin: 0.2em 0; padding-left: 1.2em; }
#findings li { margin: 0.1em 0; }
nav ul { list-style: none; padding: 0; margin: 0.4em 0; display: flex; flex-wrap: wrap; gap: 0.2em 1em; font-size: 12.5px; }
section.part { border-top: 2px solid #999; margin-top: 1.2em; }
section.figure { border-top: 1px solid #ddd; margin-top: 1em; padding-top: 0.3em; }
p.provenance { color: #555; font-size: 12px; border-left: 3px solid #bbb; padding-left: 0.6em; }
p.not-run { color: #8a6d3b; background: #fcf8e3; padding: 0.5em 0.8em; display: inline-block; }
.people-table { max-width: 100%; }
table.data { border-collapse: collapse; font-size: 12px; margin: 0.3em 0; max-width: 100%; }
table.data th, table.data td { border: 1px solid #ddd; padding: 1px 5px; overflow-wrap: anywhere; }
table.data th { background: #f4f4f4; font-weight: 600; vertical-align: bottom; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.people-table:not(.expanded) tr.more { display: none; }
.table-actions { margin: 0 0 0.6em; font-size: 12px; }
.table-actions button { font-size: 12px; }
.chart { max-width: 100%; }
.note { color: #555; }
@media print {
  body { max-width: none; padding: 0; }
  nav, .vega-bindings, .table-actions, details > summary::marker { display: none !important; }
  .people-table tr.more { display: table-row !important; }
  section.part, section#fidelity, section#compare, section#tables { break-before: page; }
  section.figure, table.data tr { break-inside: avoid; }
  details { display: block; }
}
)CSS";

// "2025-01-31 12:00:00 UTC" from seconds since the epoch.
std::string utc(double unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string license_comment() {
  std::string names;
  for (const auto& s : chart_scripts()) names += fmt::format("{}{}@{}", names.empty() ? "" : ", ", s.name, s.version);
  std::string text(chart_scripts_license());
  // "--" cannot appear safely inside an HTML comment.
  for (std::size_t p; (p = text.find("--")) != std::string::npos;) text.replace(p, 2, "- -");
  return "<!--\nCharts are drawn by " + names +
         " (npm packages, inlined; pinned in third_party/vega.lock), each under the BSD-3-Clause license:\n\n" + text +
         "\n-->\n";
}

// The study summary's facts beyond the answer: scale, sensor note, when it ran, the host.
std::string study_notes_html(const ReportData& data) {
  std::string out;
  for (const auto* a : data.of_kind("study")) {
    if (a->name != "summary" || !a->body.is_object()) continue;
    const auto& b = a->body;
    auto text = [&](const char* key) -> std::string {
      const auto it = b.find(key);
      return it != b.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto number = [&](const char* key) -> std::optional<double> {
      const auto it = b.find(key);
      if (it != b.end() && it->is_number()) return it->get<double>();
      return std::nullopt;
    };
    if (!text("scale_note").empty()) out += "<p class=\"note\">" + html_escape(text("scale_note")) + "</p>\n";
    if (!text("sensor_note").empty())
      out += "<p class=\"note\"><strong>Sensor:</strong> " + html_escape(text("sensor_note")) + "</p>\n";
    if (number("started_unix_s") && number("finished_unix_s"))
      out += "<p class=\"note\">Study ran " + utc(*number("started_unix_s")) + " to " +
             utc(*number("finished_unix_s")) + ".</p>\n";
    const auto host = b.find("host");
    if (host != b.end() && host->is_object() && !host->empty())
      out += "<details><summary>Host</summary><pre>" +
             html_escape(host->dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "</pre></details>\n";
  }
  for (const auto& line : disagreement_lines(node_effects(data)))
    out += "<p class=\"note\" data-node-disagrees=\"1\"><strong>Nodes disagree:</strong> " + html_escape(line) +
           " (table Nodes; docs/cluster.md)</p>\n";
  std::size_t done = 0;
  for (const auto& c : data.cells) done += c.status == study::CellStatus::kDone ? 1 : 0;
  out += fmt::format("<p class=\"note\">{} configurations, {} cells measured, {} skipped, {} stored documents.</p>\n",
                     data.configs.size(), done, data.cells.size() - done, data.artifacts.size());
  return out;
}

std::string kind_badge(Kind k) {
  std::string word(kind_word(k));
  std::string cls = word;
  for (auto& ch : cls) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return "<span class=\"kind " + cls + "\">" + word + "</span>";
}

std::string list_text(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? std::string("not recorded") : out;
}

// The first screen: what ran, the headline per workload and configuration (one table per
// kind: measured and estimated apart from simulated), the findings.
std::string answer_html(const Summary& s) {
  std::string out = "<header id=\"answer\">\n<h1>" + html_escape(s.title) + "</h1>\n";
  std::string badges;
  for (const Kind k : s.what.kinds) badges += kind_badge(k) + " ";
  out += "<p class=\"what-ran\">" + badges + "<strong>What ran:</strong> engine " +
         html_escape(list_text(s.what.engines)) + "; model " + html_escape(list_text(s.what.models)) + "; hardware " +
         html_escape(list_text(s.what.hardware)) + "; sensor " + html_escape(list_text(s.what.sensors)) + ".</p>\n";
  out += "<div class=\"headline\" id=\"headline\">\n";
  const std::vector<std::string> columns = {"workload",
                                            "config",
                                            "energy_per_1k_requests_wh",
                                            "energy_lo_wh",
                                            "energy_hi_wh",
                                            "saving_pct",
                                            "saving_lo_pct",
                                            "saving_hi_pct",
                                            "binned_vs_real_pct",
                                            "ideal_ratio_x",
                                            "validation_error_pct"};
  const std::pair<std::vector<Kind>, const char*> groups[] = {
      {{Kind::kMeasured, Kind::kEstimated}, "on this machine"},
      {{Kind::kSimulated}, "nothing was run: the simulator's figures"}};
  bool any = false;
  for (const auto& [kinds, words] : groups) {
    table::Table t = headline_table(s, kinds);
    if (t.rows.empty()) continue;
    any = true;
    t.name = kinds.front() == Kind::kSimulated ? "headline_simulated" : "headline";
    std::string heads;
    for (const Kind k : s.what.kinds)
      if (std::find(kinds.begin(), kinds.end(), k) != kinds.end()) heads += kind_badge(k) + " ";
    out += "<h3>" + heads + html_escape(words) +
           ": energy per 1,000 requests, saving against the baseline, distance to the estimate with real lengths "
           "and to the FLOPs ideal, validation error</h3>\n";
    detail::PeopleTableOptions o;
    o.columns = columns;
    o.collapse_after = 10;
    out += detail::people_table_html(t, o);
  }
  if (!any) out += "<p class=\"not-run\">No workload estimates in this store.</p>\n";
  out += "</div>\n<div id=\"findings\">\n<h2>Findings</h2>\n<ul>\n";
  for (const auto& f : s.findings) out += "<li>" + html_escape(f) + "</li>\n";
  out += "</ul>\n</div>\n</header>\n";
  return out;
}

std::string configs_html(const ReportData& data) {
  Table t;
  t.name = "configs";
  t.title = "Configurations";
  t.columns = {{"config", ""},   {"engine", ""},  {"model", ""},    {"weight_type", ""}, {"strategy", ""},
               {"batching", ""}, {"threads", ""}, {"baseline", ""}, {"settings", ""}};
  for (const auto& c : data.configs) {
    std::string settings;
    for (const auto& [k, v] : c.settings) {
      if (!settings.empty()) settings += ", ";
      settings += k + "=" + v;
    }
    t.rows.push_back({c.name, c.engine, c.model, c.weight_type, c.strategy, c.batching,
                      Value{static_cast<std::int64_t>(c.threads)}, c.baseline, settings});
  }
  return detail::people_table_html(t);
}

// The columns a person reads first in each report table (the CSV keeps every column).
std::vector<std::string> people_columns(const std::string& table) {
  if (table == "cells")
    return {"config",
            "input_tokens",
            "output_tokens",
            "batch",
            "status",
            "repetitions",
            "energy_per_batch_j",
            "energy_per_batch_sd_j",
            "energy_per_request_j",
            "energy_per_output_token_mj",
            "duration_s",
            "energy_source",
            "reason"};
  if (table == "replays")
    return {"replay",       "config",        "batching",
            "requests",     "completed",     "duration_s",
            "energy_j",     "per_request_j", "per_output_token_mj",
            "ttft_p50_s",   "e2e_p50_s",     "e2e_p99_s",
            "energy_source"};
  if (table == "validations")
    return {"validation",
            "config",
            "workload",
            "requests",
            "batch",
            "measured_energy_j",
            "measured_ci95_j",
            "paper_estimate_j",
            "paper_error_pct",
            "corrected_estimate_j",
            "corrected_error_pct",
            "reference_drift_pct",
            "energy_source"};
  return {};
}

std::string section_title(const std::string& section) {
  if (section == kSectionMeasured) return "Measured and estimated configurations";
  if (section == kSectionSimulated) return "Simulated configurations (nothing was run; their own scales)";
  return "Workloads and power";
}

}  // namespace

std::string render_html(const ReportData& data, const std::vector<Chart>& charts, const ReportData* before) {
  std::size_t expected = 0;
  for (const auto& c : charts) expected += c.spec.is_null() ? 0 : 1;

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>jouleperf report</title>\n" + license_comment();
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n";
  out += fmt::format(
      "<body data-charts-expected=\"{}\" data-charts-rendered=\"0\" data-errors=\"\" data-error-count=\"0\" "
      "data-done=\"0\">\n",
      expected);
  out += "<script>\n" + std::string(detail::kErrorCaptureScript) + "</script>\n";
  for (const auto& s : chart_scripts()) {
    out +=
        fmt::format("<script data-library=\"{}\" data-version=\"{}\">\n", html_escape(s.name), html_escape(s.version));
    out += s.text;
    out += "\n</script>\n";
  }
  auto summary = summarize(data);  // a bad artifact fails html_report before this
  if (summary) {
    out += answer_html(*summary);
  } else {
    out += "<h1>jouleperf report</h1>\n<p class=\"not-run\">" + html_escape(summary.error().to_string()) + "</p>\n";
  }
  auto fidelity = fidelity_tables(data);
  const bool has_fidelity = fidelity && !fidelity->empty();
  std::optional<Table> compare;
  if (before != nullptr) {
    auto t = compare_table(data, *before);
    if (t) compare = std::move(*t);
  }

  // Sections in page order, each with its charts.
  std::vector<std::string> sections;
  for (const auto& c : charts)
    if (std::find(sections.begin(), sections.end(), c.section) == sections.end()) sections.push_back(c.section);

  out += "<nav><ul>\n";
  for (const auto& sec : sections)
    out += "<li><a href=\"#part-" + html_escape(sec) + "\">" + html_escape(section_title(sec)) + "</a></li>\n";
  if (compare) out += "<li><a href=\"#compare\">Before and after</a></li>\n";
  if (has_fidelity) out += "<li><a href=\"#fidelity\">Fidelity: the simulator against measurements</a></li>\n";
  out += "<li><a href=\"#tables\">Tables</a></li>\n</ul></nav>\n";
  out += study_notes_html(data);

  for (const auto& sec : sections) {
    out += "<section class=\"part\" id=\"part-" + html_escape(sec) + "\">\n<h2>" + html_escape(section_title(sec)) +
           "</h2>\n";
    for (const auto& c : charts) {
      if (c.section != sec) continue;
      const std::string id = html_escape(c.id);
      out += "<section class=\"figure\" id=\"fig-" + id + "\">\n<h3>" + html_escape(c.title) + "</h3>\n";
      out += c.table_html;
      if (c.spec.is_null()) {
        out += "<p class=\"not-run\" data-not-run=\"" + id + "\">" + html_escape(c.not_run) + "</p>\n";
      } else {
        out += "<div class=\"chart\" id=\"chart-" + id + "\"></div>\n";
      }
      out += "<p class=\"provenance\"><strong>Provenance.</strong> " + html_escape(c.provenance) + "</p>\n</section>\n";
    }
    out += "</section>\n";
  }

  if (compare) {
    out += "<section id=\"compare\">\n<h2>Before and after</h2>\n";
    out +=
        "<p>This store (after) against the older one (before), matched by workload and configuration name. Change "
        "= after / before - 1: negative uses less energy. Estimates' intervals: both relative half-widths in "
        "quadrature; cells: 95 % from each cell's repetitions.</p>\n";
    detail::PeopleTableOptions o;
    o.collapse_after = 30;
    out += detail::people_table_html(*compare, o);
    out += "</section>\n";
  }

  if (has_fidelity) {
    out += "<section id=\"fidelity\">\n<h2>Fidelity: the simulator against published measurements</h2>\n";
    out +=
        "<p>Each row of the study's measurements file (steady-state serving runs, docs/fidelity.md) against the "
        "SIMULATED figures of the same configuration: errors are simulated / measured - 1.</p>\n";
    for (const auto* a : data.of_kind("fidelity")) {
      const auto rows = a->body.find("assumed_rows");
      const auto tokens = a->body.find("assumed_input_tokens");
      if (rows != a->body.end() && rows->is_number_unsigned() && rows->get<std::uint64_t>() > 0 &&
          tokens != a->body.end() && tokens->is_number())
        out += fmt::format(
            "<p class=\"assumption\">{} rows carry no prompt length: {} tokens were assumed "
            "(docs/fidelity.md, \"Measurement files\").</p>\n",
            rows->get<std::uint64_t>(), detail::sig3(tokens->get<double>()));
    }
    for (const auto& t : *fidelity) out += "<h3>" + html_escape(t.title) + "</h3>\n" + detail::people_table_html(t);
    out += "</section>\n";
  }

  out += "<section id=\"tables\">\n<h2>Tables</h2>\n<h3>Configurations</h3>\n" + configs_html(data);
  auto tables = report_tables(data);
  if (tables) {
    for (const auto& t : *tables) {
      if (t.name == "estimates") continue;                                // Table 4 in each part
      if (t.name == "fidelity" || t.name == "fidelity_errors") continue;  // the fidelity section
      detail::PeopleTableOptions o;
      o.columns = people_columns(t.name);
      out += "<h3>" + html_escape(t.title) + fmt::format(" ({} rows)", t.rows.size()) + "</h3>\n" +
             detail::people_table_html(t, o);
    }
  }
  out += "</section>\n";

  for (const auto& c : charts) {
    if (c.spec.is_null()) continue;
    out += "<script type=\"application/json\" data-chart=\"chart-" + html_escape(c.id) + "\">" +
           json_for_script(c.spec) + "</script>\n";
  }
  out += "<script>\n" + std::string(detail::kChartRunnerScript) + "</script>\n</body>\n</html>\n";
  return out;
}

Result<std::string> html_report(const ReportData& data, const ReportData* before) {
  auto charts = build_charts(data);
  if (!charts) return charts.error();
  auto tables = report_tables(data);  // surfaces malformed artifacts the charts did not read
  if (!tables) return tables.error();
  auto summary = summarize(data);
  if (!summary) return summary.error();
  if (before != nullptr) {
    auto compare = compare_table(data, *before);
    if (!compare) return compare.error();
  }
  return render_html(data, *charts, before);
}

}  // namespace jouleperf::report
