// The row schema lives in core (core/table.hpp) so every part can expose its results as
// tables; the report part keeps these names for its own code.
#pragma once

#include "jouleperf/core/table.hpp"

namespace jouleperf::report {

using table::Column;
using table::format_value;
using table::Table;
using table::to_console;
using table::to_csv;
using table::to_html;
using table::to_json;
using table::to_markdown;
using table::Value;

}  // namespace jouleperf::report
