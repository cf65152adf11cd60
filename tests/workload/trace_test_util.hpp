// Helpers for the workload tests: collect what a loader yields.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/workload/loader.hpp"

namespace jouleperf::workload::testing {

struct Row {
  std::uint64_t line = 0;
  std::optional<double> arrival_s;
  std::uint64_t input = 0;
  std::uint64_t output = 0;
  std::map<std::string, std::string> tags;
};

struct Loaded {
  LoadSummary summary;
  std::vector<Row> rows;
};

inline RequestVisitor collect_into(std::vector<Row>& rows) {
  return [&rows](const Request& r) {
    Row row{r.line, r.arrival_s, r.input_tokens, r.output_tokens, {}};
    for (const Tag& t : r.tags) row.tags[std::string(t.key)] = std::string(t.value);
    rows.push_back(std::move(row));
  };
}

inline Result<Loaded> load_file(const std::string& path, const LoadOptions& options = {}) {
  Loaded out;
  auto sum = load_trace(path, options, collect_into(out.rows));
  if (!sum.ok()) return sum.error();
  out.summary = *sum;
  return out;
}

inline Result<Loaded> load_text(const std::string& text, const LoadOptions& options = {}) {
  Loaded out;
  auto sum = load_trace_from_memory(text, "mem.csv", options, collect_into(out.rows));
  if (!sum.ok()) return sum.error();
  out.summary = *sum;
  return out;
}

inline std::string fixture(const std::string& name) {
  return std::string(JP_SOURCE_DIR) + "/tests/workload/fixtures/" + name;
}

}  // namespace jouleperf::workload::testing
