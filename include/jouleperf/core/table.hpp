// One row schema for every tabular report (console, Markdown, CSV, JSON, HTML tables):
// named columns whose names carry their unit (energy_per_batch_j, duration_s,
// energy_per_output_token_mj), rows of typed values. Reporters render the same Table,
// so the formats cannot disagree (llama-bench's get_fields()/get_values()).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace jouleperf::table {

// An empty cell (monostate) means "not measured / not present", never zero.
using Value = std::variant<std::monostate, std::string, double, std::int64_t, bool>;

struct Column {
  std::string name;  // snake_case with the unit as suffix: "energy_per_batch_j"
  std::string help;  // one line: what it is ("mean over repetitions")
};

struct Table {
  std::string name;   // "cells", "estimates", "replays", "validations"
  std::string title;  // heading for Markdown / console / HTML
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;  // each row has columns.size() values

  // Index of a column by name, or -1.
  int column(std::string_view column_name) const;
};

// Console text: a title line, then aligned columns (numbers right-aligned, 4 significant
// digits), "-" for empty cells; control characters in strings shown as \xNN.
std::string to_console(const Table& t);
// A Markdown section: "### title" and a pipe table; strings escaped (markdown_cell).
std::string to_markdown(const Table& t);
// RFC 4180 CSV: a header of column names, then one line per row (CRLF line ends);
// numbers at full precision, empty cells empty, booleans true/false.
std::string to_csv(const Table& t);
// An array of objects keyed by column name; empty cells are null.
nlohmann::json to_json(const Table& t);
// An HTML <table> (every string escaped), 4 significant digits, with a class attribute.
std::string to_html(const Table& t);

// A count as a cell value (cells hold signed 64-bit integers).
inline Value count_value(std::uint64_t n) { return static_cast<std::int64_t>(n); }

// A number times `scale`, or an empty cell when it is absent (never a zero standing in).
inline Value optional_value(const std::optional<double>& v, double scale = 1.0) {
  Value out;
  if (v) out = *v * scale;
  return out;
}

// A value as text for humans: 4 significant digits for doubles, "" for empty.
std::string format_value(const Value& v);

}  // namespace jouleperf::table
