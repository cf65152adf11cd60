// The simulator against steady-state serving measurements (compare_serving) as tables:
// what `calibrate --measurements` and `fidelity` print and a study's report shows.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/table.hpp"
#include "jouleperf/sim/serving_fit.hpp"

namespace jouleperf::sim {

// The columns of serving_table and serving_error_table (a stored table is read back by them).
std::vector<table::Column> serving_columns();
std::vector<table::Column> serving_error_columns();

// One row per measurement: measured and simulated J per output token, power, median ITL
// and output tokens/s with the signed error of each, %.
table::Table serving_table(const std::vector<ServingComparison>& rows, std::string name, std::string title);
// One row per figure: rows carrying it, median and worst |error|, %.
table::Table serving_error_table(const ServingErrors& e, std::string name, std::string title);

}  // namespace jouleperf::sim
