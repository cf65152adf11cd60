#include "jouleperf/report/html.hpp"

#include <fmt/format.h>

#include <ctime>

#include "jouleperf/report/assets.hpp"
#include "jouleperf/report/escape.hpp"
#include "jouleperf/report/tables.hpp"
#include "page_script.hpp"

namespace jouleperf::report {

namespace {

constexpr std::string_view kStyle = R"CSS(
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { margin-bottom: 0.2em; }
section.figure { border-top: 1px solid #ddd; margin-top: 1.5em; padding-top: 0.5em; }
p.provenance { color: #555; font-size: 12.5px; border-left: 3px solid #bbb; padding-left: 0.6em; }
p.not-run { color: #8a6d3b; background: #fcf8e3; padding: 0.5em 0.8em; display: inline-block; }
table.data { border-collapse: collapse; font-size: 12.5px; margin: 0.5em 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 2px 6px; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; }
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

std::string summary_html(const ReportData& data) {
  std::string out;
  std::string title = "jouleperf report";
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
    if (!text("title").empty()) title = text("title");
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
  std::size_t done = 0;
  for (const auto& c : data.cells) done += c.status == study::CellStatus::kDone ? 1 : 0;
  out += fmt::format("<p class=\"note\">{} configurations, {} cells measured, {} skipped, {} stored documents.</p>\n",
                     data.configs.size(), done, data.cells.size() - done, data.artifacts.size());
  return "<h1>" + html_escape(title) + "</h1>\n" + out;
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
  return to_html(t);
}

}  // namespace

std::string render_html(const ReportData& data, const std::vector<Chart>& charts) {
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
  out += summary_html(data);
  auto fidelity = fidelity_tables(data);  // a bad artifact fails html_report before this
  const bool has_fidelity = fidelity && !fidelity->empty();
  out += "<nav><ul>\n";
  for (const auto& c : charts)
    out += "<li><a href=\"#fig-" + html_escape(c.id) + "\">" + html_escape(c.title) + "</a></li>\n";
  if (has_fidelity) out += "<li><a href=\"#fidelity\">Fidelity: the simulator against measurements</a></li>\n";
  out += "<li><a href=\"#tables\">Tables</a></li>\n</ul></nav>\n";

  for (const auto& c : charts) {
    const std::string id = html_escape(c.id);
    out += "<section class=\"figure\" id=\"fig-" + id + "\">\n<h2>" + html_escape(c.title) + "</h2>\n";
    out += c.table_html;
    if (c.spec.is_null()) {
      out += "<p class=\"not-run\" data-not-run=\"" + id + "\">" + html_escape(c.not_run) + "</p>\n";
    } else {
      out += "<div class=\"chart\" id=\"chart-" + id + "\"></div>\n";
    }
    out += "<p class=\"provenance\"><strong>Provenance.</strong> " + html_escape(c.provenance) + "</p>\n</section>\n";
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
            "<p class=\"assumption\">{} rows carry no prompt length: {:g} tokens were assumed "
            "(docs/fidelity.md, \"Measurement files\").</p>\n",
            rows->get<std::uint64_t>(), tokens->get<double>());
    }
    for (const auto& t : *fidelity) out += "<h3>" + html_escape(t.title) + "</h3>\n" + to_html(t);
    out += "</section>\n";
  }

  out += "<section id=\"tables\">\n<h2>Tables</h2>\n<h3>Configurations</h3>\n" + configs_html(data);
  auto tables = report_tables(data);
  if (tables) {
    for (const auto& t : *tables) {
      if (t.name == "estimates") continue;                                // shown as Table 4 above
      if (t.name == "fidelity" || t.name == "fidelity_errors") continue;  // the fidelity section
      out += "<details" + std::string(t.name == "cells" ? "" : " open") + "><summary>" + html_escape(t.title) +
             fmt::format(" ({} rows)", t.rows.size()) + "</summary>\n" + to_html(t) + "</details>\n";
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

Result<std::string> html_report(const ReportData& data) {
  auto charts = build_charts(data);
  if (!charts) return charts.error();
  auto tables = report_tables(data);  // surfaces malformed artifacts the charts did not read
  if (!tables) return tables.error();
  return render_html(data, *charts);
}

}  // namespace jouleperf::report
