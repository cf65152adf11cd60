#include "jouleperf/workload/json.hpp"

namespace jouleperf::workload {

using nlohmann::json;

namespace {
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json to_json(const LoadSummary& s) {
  json bad = json::array();
  for (const auto& b : s.bad_examples) bad.push_back({{"line", b.line}, {"reason", b.reason}});
  return {{"source", s.source},
          {"format", std::string(trace_format_name(s.format))},
          {"has_arrivals", s.has_arrivals},
          {"rows", s.rows},
          {"requests", s.requests},
          {"failed_excluded", s.failed_excluded},
          {"skipped_bad", s.skipped_bad},
          {"filtered_out", s.filtered_out},
          {"bad_examples", bad}};
}

json to_json(const LengthStats& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"std", s.std}, {"median", s.median}, {"p90", s.p90},
          {"p99", s.p99},     {"min", s.min},   {"max", s.max}, {"total", s.total}};
}

json to_json(const TraceStats& t) {
  json j = to_json(t.load);
  j["requests"] = t.requests;
  j["input"] = t.input ? to_json(*t.input) : json(nullptr);
  j["output"] = t.output ? to_json(*t.output) : json(nullptr);
  if (t.arrivals) {
    const ArrivalStats& a = *t.arrivals;
    j["first_arrival_s"] = a.first_s;
    j["last_arrival_s"] = a.last_s;
    j["duration_s"] = a.duration_s;
    j["rate_rps"] = a.rate_rps;
    j["interarrival_mean_s"] = opt(a.interarrival_mean_s);
    j["interarrival_std_s"] = opt(a.interarrival_std_s);
    j["interarrival_cv"] = opt(a.interarrival_cv);
    j["arrivals_in_file_order"] = a.in_file_order;
    j["peak_rps"] = a.peak_rps;
    j["rate_series"] = {{"bucket_s", a.bucket_s}, {"start_s", a.series_start_s}, {"counts", a.counts}};
  } else {
    for (const char* k : {"duration_s", "rate_rps", "interarrival_mean_s", "interarrival_cv", "rate_series"})
      j[k] = nullptr;
  }
  return j;
}

}  // namespace jouleperf::workload
