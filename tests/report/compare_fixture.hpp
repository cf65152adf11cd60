// Two stores' data for the before/after tests: "after" is the realistic data with
// q8_0-continuous 20 % cheaper (every cell and its estimates) and a new configuration
// f16-flash; "before" has a configuration old-threads that "after" dropped.
#pragma once

#include <utility>

#include "report/fixture.hpp"

namespace jouleperf::testing {

inline std::pair<report::ReportData, report::ReportData> before_after_data() {
  report::ReportData before = realistic_report_data();
  report::ReportData after = realistic_report_data();
  for (auto& c : after.cells) {
    if (c.key.config != "q8_0-continuous") continue;
    for (auto& r : c.reps) {
      r.energy_j *= 0.8;
      if (r.prefill_energy_j) *r.prefill_energy_j *= 0.8;
      if (r.decode_energy_j) *r.decode_energy_j *= 0.8;
    }
  }
  for (auto& a : after.artifacts) {
    if (a.kind != "estimate") continue;
    for (auto& e : a.body["configs"]) {
      if (e["config"] != "q8_0-continuous") continue;
      for (const char* k : {"energy_j", "energy_lo_j", "energy_hi_j", "corrected_energy_j"})
        e[k] = e[k].get<double>() * 0.8;
    }
  }
  auto extra = [](report::ReportData& d, const char* name) {
    study::Config c;
    c.name = name;
    c.model = "llama-tiny.gguf";
    d.configs.push_back(c);
    study::CellResult r;
    r.key = {name, 32, 8, 1};
    r.config_key = c.key();
    r.energy_source = "cpu-time-model";
    r.estimated = true;
    study::Repetition p;
    p.energy_j = 1.0;
    p.duration_s = 0.1;
    r.reps = {p, p};
    d.cells.push_back(r);
  };
  extra(after, "f16-flash");
  extra(before, "old-threads");
  return {std::move(before), std::move(after)};
}

}  // namespace jouleperf::testing
