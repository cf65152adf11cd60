// The serving tables live in sim (sim/serving_tables.hpp) so `fidelity` and `calibrate`
// build them in the library; the report part keeps these names for its own code.
#pragma once

#include "jouleperf/report/table.hpp"
#include "jouleperf/sim/serving_tables.hpp"

namespace jouleperf::report {

using sim::serving_columns;
using sim::serving_error_columns;
using sim::serving_error_table;
using sim::serving_table;

}  // namespace jouleperf::report
