// Headless Chromium (Debian's chromium package) over an HTML report, for the report's
// tests: the page is opened at 1400 x 900, a probe script waits for the page's charts to
// settle and writes what it measured onto <body>, and the DOM Chromium leaves behind is
// read back. Skip a test with chromium_path().empty() when Chromium is not installed.
#pragma once

#include <string>

namespace jouleperf::testing {

// The chromium binary, or "" when none is installed.
std::string chromium_path();

// What the page (data-charts-*, data-errors) and the layout probe (data-probe-*) left on <body>.
struct PageState {
  int expected = -1;     // charts with a spec
  int rendered = -1;     // charts drawn as SVG
  int error_count = -1;  // script errors, rejected promises, failed embeds
  std::string errors;
  std::string done;  // "1" once every chart settled
  std::string dom;   // the whole DOM dump
  // The probe, at a 1400 x 900 window:
  bool probed = false;
  int max_chart_height_px = -1;  // tallest chart element
  std::string tallest_chart;     // its id
  std::string wide;              // tables or charts wider than the viewport ("name:width", joined by " ")
  int page_scroll_width_px = -1, viewport_width_px = -1;
  int headline_bottom_px = -1, findings_bottom_px = -1;  // page coordinates of the first screen's parts
  std::string scientific;                                // cell texts in scientific notation, joined by " | "
  int csv_tables = -1;                                   // tables with a CSV download checked
  std::string csv_mismatches;                            // tables whose CSV rows differ from the table's rows
};

// Writes `html` to a temporary file and loads it in Chromium at 1400 x 900 with the probe
// appended (`probe` = false: the page as it is). JP_KEEP_REPORT=FILE keeps a copy.
PageState render_in_chromium(const std::string& html, bool probe = true);

// Splits a body attribute string; the attribute `name` of `tag`, or "".
std::string attribute(const std::string& tag, const std::string& name);

}  // namespace jouleperf::testing
