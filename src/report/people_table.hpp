// Tables for people in the HTML report: one display unit per column chosen from the
// column's name suffix and its values (J, kJ, MJ; Wh, kWh; mJ; s, ms; W; %), three
// significant digits in fixed notation (never 1.378e+04), the unit in the header, long
// tables collapsed behind "show all", and a CSV download of the whole table (every column,
// full precision, the same rows). Internal to src/report.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/report/table.hpp"

namespace jouleperf::report::detail {

// A number to three significant digits in fixed notation, thousands grouped with a thin
// space ("13 800", "0.0123", "-4.56"); "-" for NaN or infinity.
std::string sig3(double v);

// How a column is shown: its heading (unit included) and the factor its values are
// multiplied by ("energy_per_batch_j" with values around 1e4 -> "energy per batch (kJ)", 1e-3).
struct DisplayColumn {
  std::string heading;
  double scale = 1.0;
  bool numeric = false;
};
DisplayColumn display_column(const Column& c, const std::vector<std::vector<Value>>& rows, int index);

// One cell as text for people, scaled by `col` (numbers via sig3, booleans yes/no, "" empty).
std::string display_value(const Value& v, const DisplayColumn& col);

struct PeopleTableOptions {
  std::vector<std::string> columns;  // columns shown, in order (empty: all); the CSV has all
  std::size_t max_columns = 13;      // at most this many shown (no horizontal scrolling at 1400 px)
  std::size_t collapse_after = 12;   // rows shown before "show all N rows" (0: never collapse)
  bool csv = true;                   // a "download CSV" link (a data: URI of to_csv(t))
};

// The table as HTML (escaped). Columns without a value in any row are left out (they
// stay in the CSV).: <div class="people-table" data-table=NAME data-rows=N>,
// a <table> with data-row rows (those past collapse_after carry class "more" and hide
// until "show all" is pressed; they print), and the CSV link (class "csv-download").
std::string people_table_html(const Table& t, const PeopleTableOptions& options = {});

}  // namespace jouleperf::report::detail
