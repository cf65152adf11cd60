// The library's one output schema (core/output.hpp: Document, core/table.hpp: Table) as
// plain Python values, which the pure-Python package turns into pandas DataFrames: the
// same columns, with their units in their names, that every other output format writes.
#pragma once

#include <pybind11/pybind11.h>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/table.hpp"

namespace jouleperf::py {

// {"name", "title", "columns": [names], "help": [one line each], "rows": [[values]]}; an
// empty cell is None (never 0), numbers are float or int, flags bool.
pybind11::dict table_dict(const table::Table& t);

// {"header": [lines], "tables": [table_dict...], "footer": [lines], "json": text} — the
// JSON text is what `-o json` prints (table::render), so Python's json.loads of it equals
// the command's JSON output.
pybind11::dict document_dict(const table::Document& doc);

}  // namespace jouleperf::py
