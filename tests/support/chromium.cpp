#include "support/chromium.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/temp_dir.hpp"

namespace jouleperf::testing {

namespace {

// Waits for data-done, then measures the layout and checks each table's CSV download.
constexpr const char* kProbe = R"JS(<script>
(function () {
  function csvRecords(text) {
    var records = 0, quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') quoted = !quoted;
      else if (c === '\n' && !quoted) records++;
    }
    return records;
  }
  function firstField(text) {
    var line = text.split('\r\n')[1] || '';
    if (line[0] === '"') return line.slice(1, line.indexOf('"', 1));
    return line.split(',')[0];
  }
  function probe() {
    var b = document.body;
    if (b.getAttribute('data-done') !== '1') { setTimeout(probe, 50); return; }
    var vw = document.documentElement.clientWidth;
    var maxH = 0, tallest = '', wide = [];
    document.querySelectorAll('.chart').forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (r.height > maxH) { maxH = r.height; tallest = c.id; }
      if (r.right > vw + 0.5) wide.push(c.id + ':' + Math.round(r.width));
    });
    document.querySelectorAll('table').forEach(function (t) {
      var r = t.getBoundingClientRect();
      var name = (t.closest('[data-table]') || t).getAttribute('data-table') || 'table';
      if (r.right > vw + 0.5 || t.scrollWidth > t.clientWidth + 1) wide.push(name + ':' + Math.round(r.width));
    });
    var sci = [];
    document.querySelectorAll('td, th, #findings li, #answer p, svg text').forEach(function (e) {
      if (/\d(\.\d+)?[eE][+-]?\d/.test(e.textContent)) sci.push(e.textContent.slice(0, 60));
    });
    var csv = 0, mismatch = [];
    document.querySelectorAll('.people-table').forEach(function (p) {
      var a = p.querySelector('a.csv-download');
      if (!a) return;
      csv++;
      var href = a.getAttribute('href');
      var text = decodeURIComponent(href.slice(href.indexOf(',') + 1));
      var rows = parseInt(p.getAttribute('data-rows'), 10);
      var name = p.getAttribute('data-table');
      if (csvRecords(text) - 1 !== rows) mismatch.push(name + ': ' + (csvRecords(text) - 1) + ' CSV rows, ' + rows + ' in the table');
      var bodyRows = p.querySelectorAll('tbody tr');
      if (bodyRows.length !== rows) mismatch.push(name + ': ' + bodyRows.length + ' rows drawn, ' + rows + ' declared');
      if (rows > 0 && bodyRows[0].cells[0].textContent !== firstField(text))
        mismatch.push(name + ': first row ' + bodyRows[0].cells[0].textContent + ' vs CSV ' + firstField(text));
    });
    function bottom(id) {
      var e = document.getElementById(id);
      return e ? String(Math.round(e.getBoundingClientRect().bottom + window.scrollY)) : '-1';
    }
    b.setAttribute('data-probe-max-chart-height', String(Math.round(maxH)));
    b.setAttribute('data-probe-tallest-chart', tallest);
    b.setAttribute('data-probe-wide', wide.join(' '));
    b.setAttribute('data-probe-page-scroll-width', String(document.documentElement.scrollWidth));
    b.setAttribute('data-probe-viewport-width', String(vw));
    b.setAttribute('data-probe-headline-bottom', bottom('headline'));
    b.setAttribute('data-probe-findings-bottom', bottom('findings'));
    b.setAttribute('data-probe-scientific', sci.join(' | '));
    b.setAttribute('data-probe-csv-tables', String(csv));
    b.setAttribute('data-probe-csv-mismatches', mismatch.join(' | '));
    b.setAttribute('data-probe-done', '1');
  }
  probe();
})();
</script>
)JS";

int to_int(const std::string& s) { return s.empty() ? -1 : std::stoi(s); }

}  // namespace

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

std::string attribute(const std::string& tag, const std::string& name) {
  const std::regex re(" " + name + "=\"([^\"]*)\"");
  std::smatch m;
  if (std::regex_search(tag, m, re)) return m[1];
  return "";
}

PageState render_in_chromium(const std::string& page_html, bool probe) {
  std::string html = page_html;
  if (probe) {
    const auto end = html.rfind("</body>");
    if (end != std::string::npos) html.insert(end, kProbe);
  }
  TempDir dir;
  const auto page = dir.write("report.html", html);
  // For looking at the page by hand: JP_KEEP_REPORT=/tmp/report.html keeps a copy.
  if (const char* keep = std::getenv("JP_KEEP_REPORT"); keep != nullptr && *keep != '\0')
    std::filesystem::copy_file(page, keep, std::filesystem::copy_options::overwrite_existing);
  const auto dom_file = dir.path() / "dom.html";
  // A private profile directory: chromium must not touch the user's.
  const std::string cmd =
      chromium_path() + " --headless --no-sandbox --disable-gpu --no-first-run " +
      "--hide-scrollbars --window-size=1400,900 --user-data-dir=" + (dir.path() / "profile").string() +
      " --virtual-time-budget=30000 --dump-dom file://" + page.string() + " > " + dom_file.string() + " 2> " +
      (dir.path() / "stderr.txt").string();
  const int rc = std::system(cmd.c_str());
  PageState st;
  std::ifstream in(dom_file);
  st.dom.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << cmd;
  const auto at = st.dom.find("<body");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no <body> in chromium's DOM dump: " << st.dom.substr(0, 500);
    return st;
  }
  const std::string tag = st.dom.substr(at, st.dom.find('>', at) - at);
  st.expected = to_int(attribute(tag, "data-charts-expected"));
  st.rendered = to_int(attribute(tag, "data-charts-rendered"));
  st.error_count = to_int(attribute(tag, "data-error-count"));
  st.errors = attribute(tag, "data-errors");
  st.done = attribute(tag, "data-done");
  st.probed = attribute(tag, "data-probe-done") == "1";
  st.max_chart_height_px = to_int(attribute(tag, "data-probe-max-chart-height"));
  st.tallest_chart = attribute(tag, "data-probe-tallest-chart");
  st.wide = attribute(tag, "data-probe-wide");
  st.page_scroll_width_px = to_int(attribute(tag, "data-probe-page-scroll-width"));
  st.viewport_width_px = to_int(attribute(tag, "data-probe-viewport-width"));
  st.headline_bottom_px = to_int(attribute(tag, "data-probe-headline-bottom"));
  st.findings_bottom_px = to_int(attribute(tag, "data-probe-findings-bottom"));
  st.scientific = attribute(tag, "data-probe-scientific");
  st.csv_tables = to_int(attribute(tag, "data-probe-csv-tables"));
  st.csv_mismatches = attribute(tag, "data-probe-csv-mismatches");
  return st;
}

}  // namespace jouleperf::testing
