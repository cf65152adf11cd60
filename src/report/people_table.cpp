#include "people_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/report/escape.hpp"

namespace jouleperf::report::detail {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "12345678" -> "12 345 678" (thin spaces) for the integer part of a digit string.
std::string group_thousands(const std::string& digits) {
  const std::size_t start = (!digits.empty() && digits[0] == '-') ? 1 : 0;
  const std::size_t dot = std::min(digits.find('.'), digits.size());
  std::string out = digits.substr(0, start);
  for (std::size_t i = start; i < dot; ++i) {
    out += digits[i];
    const std::size_t left = dot - i - 1;
    if (left > 0 && left % 3 == 0) out += "\u2009";
  }
  return out + digits.substr(dot);
}

struct UnitStep {
  double at_least;  // median magnitude (in the base unit) from which this step applies
  double scale;     // base value * scale = shown value
  const char* unit;
};

// A family of units for one base suffix, smallest first.
struct UnitFamily {
  const char* suffix;
  std::vector<UnitStep> steps;
};

const std::vector<UnitFamily>& families() {
  static const std::vector<UnitFamily> f = {
      {"_mj", {{0.0, 1.0, "mJ"}, {1e3, 1e-3, "J"}, {1e6, 1e-6, "kJ"}}},
      {"_j", {{0.0, 1e3, "mJ"}, {1.0, 1.0, "J"}, {1e3, 1e-3, "kJ"}, {1e6, 1e-6, "MJ"}}},
      {"_wh", {{0.0, 1e3, "mWh"}, {1.0, 1.0, "Wh"}, {1e3, 1e-3, "kWh"}}},
      {"_w", {{0.0, 1.0, "W"}, {1e3, 1e-3, "kW"}}},
      {"_pct", {{0.0, 1.0, "%"}}},
      {"_s", {{0.0, 1e3, "ms"}, {1.0, 1.0, "s"}}},
      {"_rps", {{0.0, 1.0, "req/s"}}},
      {"_per_s", {{0.0, 1.0, "/s"}}},
      {"gco2e", {{0.0, 1.0, "g CO2e"}}},
      {"_x", {{0.0, 1.0, "x"}}},
  };
  return f;
}

std::string words(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string uri_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char ch : s) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

}  // namespace

std::string sig3(double v) {
  if (!std::isfinite(v)) return "-";
  if (v == 0.0) return "0";
  const double mag = std::floor(std::log10(std::fabs(v)));
  const double unit = std::pow(10.0, mag - 2.0);
  const double r = std::round(v / unit) * unit;  // three significant digits
  if (r == 0.0) return "0";
  const int digits = static_cast<int>(std::floor(std::log10(std::fabs(r)))) + 1;
  const int decimals = std::clamp(3 - digits, 0, 12);
  return group_thousands(fmt::format("{:.{}f}", r, decimals));
}

DisplayColumn display_column(const Column& c, const std::vector<std::vector<Value>>& rows, int index) {
  DisplayColumn d;
  std::vector<double> mags;
  bool any_number = false;
  for (const auto& row : rows) {
    const Value& v = row[static_cast<std::size_t>(index)];
    if (const double* x = std::get_if<double>(&v)) {
      any_number = true;
      if (std::isfinite(*x) && *x != 0.0) mags.push_back(std::fabs(*x));
    } else if (std::holds_alternative<std::int64_t>(v)) {
      any_number = true;
    }
  }
  d.numeric = any_number;
  for (const auto& fam : families()) {
    if (!ends_with(c.name, fam.suffix)) continue;
    double median = 1.0;
    if (!mags.empty()) {
      std::nth_element(mags.begin(), mags.begin() + static_cast<std::ptrdiff_t>(mags.size() / 2), mags.end());
      median = mags[mags.size() / 2];
    }
    const UnitStep* pick = &fam.steps.front();
    for (const auto& s : fam.steps)
      if (median >= s.at_least) pick = &s;
    const std::string_view stem =
        std::string_view(c.name).substr(0, c.name.size() - std::string_view(fam.suffix).size());
    d.heading = words(stem.empty() ? std::string_view(c.name) : stem) + " (" + pick->unit + ")";
    d.scale = pick->scale;
    return d;
  }
  d.heading = words(c.name);
  return d;
}

std::string display_value(const Value& v, const DisplayColumn& col) {
  if (const double* x = std::get_if<double>(&v)) return sig3(*x * col.scale);
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    if (col.scale != 1.0) return sig3(static_cast<double>(*i) * col.scale);
    return group_thousands(std::to_string(*i));
  }
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

std::string people_table_html(const Table& t, const PeopleTableOptions& options) {
  std::vector<int> shown;
  auto any_value = [&](std::size_t i) {
    for (const auto& r : t.rows)
      if (!std::holds_alternative<std::monostate>(r[i])) return true;
    return t.rows.empty();
  };
  if (options.columns.empty()) {
    for (std::size_t i = 0; i < t.columns.size(); ++i)
      if (any_value(i)) shown.push_back(static_cast<int>(i));
  } else {
    for (const auto& name : options.columns)
      if (const int i = t.column(name); i >= 0 && any_value(static_cast<std::size_t>(i))) shown.push_back(i);
  }
  const std::size_t hidden_columns =
      shown.size() > options.max_columns ? t.columns.size() - options.max_columns : t.columns.size() - shown.size();
  if (shown.size() > options.max_columns) shown.resize(options.max_columns);
  std::vector<DisplayColumn> cols;
  for (int i : shown) cols.push_back(display_column(t.columns[static_cast<std::size_t>(i)], t.rows, i));

  const std::string name = html_escape(t.name);
  std::string out =
      fmt::format("<div class=\"people-table\" data-table=\"{}\" data-rows=\"{}\">\n", name, t.rows.size());
  out += "<table class=\"data\">\n<thead><tr>";
  for (std::size_t k = 0; k < cols.size(); ++k) {
    const Column& c = t.columns[static_cast<std::size_t>(shown[k])];
    out += "<th title=\"" + html_escape(c.help) + "\">" + html_escape(cols[k].heading) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const bool more = options.collapse_after > 0 && r >= options.collapse_after;
    out += more ? "<tr class=\"more\">" : "<tr>";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const Value& v = t.rows[r][static_cast<std::size_t>(shown[k])];
      const bool num = std::holds_alternative<double>(v) || std::holds_alternative<std::int64_t>(v);
      out += num ? "<td class=\"num\">" : "<td>";
      out += html_escape(display_value(v, cols[k])) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n<p class=\"table-actions\">";
  if (options.collapse_after > 0 && t.rows.size() > options.collapse_after)
    out += fmt::format(
        "<button type=\"button\" class=\"show-all\" onclick=\"this.closest('.people-table').classList.toggle("
        "'expanded')\">show all {} rows</button> ",
        t.rows.size());
  if (options.csv)
    out += "<a class=\"csv-download\" download=\"" + name + ".csv\" href=\"data:text/csv;charset=utf-8," +
           uri_encode(to_csv(t)) + "\">download CSV (" + std::to_string(t.rows.size()) + " rows, every column" +
           (hidden_columns > 0 ? fmt::format(", {} not shown here", hidden_columns) : std::string()) + ")</a>";
  out += "</p>\n</div>\n";
  return out;
}

}  // namespace jouleperf::report::detail
