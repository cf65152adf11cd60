// The escaping helpers live in core (core/escape.hpp); the report part keeps these names.
#pragma once

#include "jouleperf/core/escape.hpp"

namespace jouleperf::report {

using table::console_text;
using table::csv_field;
using table::csv_formula_safe;
using table::html_escape;
using table::json_for_script;
using table::markdown_cell;
using table::valid_utf8;

}  // namespace jouleperf::report
