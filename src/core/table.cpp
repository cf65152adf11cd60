#include "jouleperf/core/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/core/escape.hpp"

namespace jouleperf::table {

namespace {

bool is_number(const Value& v) { return std::holds_alternative<double>(v) || std::holds_alternative<std::int64_t>(v); }

bool is_empty(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return true;
  if (const auto* d = std::get_if<double>(&v)) return !std::isfinite(*d);
  return false;
}

// Code points, for column widths (UTF-8 continuation bytes take no column).
std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, std::size_t width, bool right) {
  const std::size_t w = display_width(s);
  if (w >= width) return s;
  const std::string fill(width - w, ' ');
  return right ? fill + s : s + fill;
}

// Full precision for machine formats.
std::string exact_value(const Value& v) {
  if (is_empty(v)) return "";
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return fmt::format("{}", *i);
  return std::get<bool>(v) ? "true" : "false";
}

}  // namespace

int Table::column(std::string_view column_name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == column_name) return static_cast<int>(i);
  return -1;
}

std::string format_value(const Value& v) {
  if (is_empty(v)) return "";
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{:.4g}", *d);
  return exact_value(v);
}

std::string to_console(const Table& t) {
  std::vector<std::size_t> width(t.columns.size());
  std::vector<std::vector<std::string>> text(t.rows.size());
  for (std::size_t c = 0; c < t.columns.size(); ++c) width[c] = display_width(console_text(t.columns[c].name));
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const Value& v = c < t.rows[r].size() ? t.rows[r][c] : Value{};
      std::string s = is_empty(v) ? "-" : console_text(format_value(v));
      width[c] = std::max(width[c], display_width(s));
      text[r].push_back(std::move(s));
    }
  }
  std::string out = console_text(t.title) + "\n";
  if (t.rows.empty()) return out + "  (none)\n";
  auto right = [&](std::size_t c) {
    return std::any_of(t.rows.begin(), t.rows.end(),
                       [&](const auto& row) { return c < row.size() && is_number(row[c]); });
  };
  std::string line;
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    if (c) line += "  ";
    line += pad(console_text(t.columns[c].name), width[c], right(c));
  }
  out += line + "\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    line.clear();
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      if (c) line += "  ";
      line += pad(text[r][c], width[c], right(c));
    }
    // No trailing blanks.
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string to_markdown(const Table& t) {
  std::string out = "### " + markdown_cell(t.title) + "\n\n";
  if (t.rows.empty()) return out + "(none)\n";
  std::string header = "|";
  std::string rule = "|";
  for (const auto& col : t.columns) {
    header += ' ';
    header += markdown_cell(col.name);
    header += " |";
    rule += " --- |";
  }
  out += header + "\n" + rule + "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      out += ' ';
      out += markdown_cell(format_value(c < row.size() ? row[c] : Value{}));
      out += " |";
    }
    out += "\n";
  }
  return out;
}

std::string to_csv(const Table& t) {
  std::string out;
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    if (c) out += ',';
    out += csv_field(csv_formula_safe(t.columns[c].name));
  }
  out += "\r\n";
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      if (c) out += ',';
      const Value& v = c < row.size() ? row[c] : Value{};
      // Text from a store (config names, reasons, URLs) must not run as a spreadsheet formula.
      const std::string text = valid_utf8(exact_value(v));
      out += csv_field(std::holds_alternative<std::string>(v) ? csv_formula_safe(text) : text);
    }
    out += "\r\n";
  }
  return out;
}

nlohmann::json to_json(const Table& t) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : t.rows) {
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const Value& v = c < row.size() ? row[c] : Value{};
      if (is_empty(v))
        o[t.columns[c].name] = nullptr;
      else if (const auto* s = std::get_if<std::string>(&v))
        o[t.columns[c].name] = valid_utf8(*s);
      else if (const auto* d = std::get_if<double>(&v))
        o[t.columns[c].name] = *d;
      else if (const auto* i = std::get_if<std::int64_t>(&v))
        o[t.columns[c].name] = *i;
      else
        o[t.columns[c].name] = std::get<bool>(v);
    }
    rows.push_back(std::move(o));
  }
  return rows;
}

std::string to_html(const Table& t) {
  std::string out = "<table class=\"data\" data-table=\"" + html_escape(t.name) + "\">\n<thead><tr>";
  for (const auto& col : t.columns)
    out += "<th title=\"" + html_escape(col.help) + "\">" + html_escape(col.name) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const Value& v = c < row.size() ? row[c] : Value{};
      out += is_number(v) ? "<td class=\"num\">" : "<td>";
      out += is_empty(v) ? "&ndash;" : html_escape(format_value(v));
      out += "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace jouleperf::table
