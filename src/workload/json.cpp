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
          {"zero_token_excluded", s.zero_token_excluded},
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

json to_json(const TraceBinning& t) {
  const BinningResult& b = t.bins;
  json j = to_json(t.load);
  j["policy"] = std::string(out_of_range_name(b.policy));
  j["input_edges"] = b.input_edges;
  j["output_edges"] = b.output_edges;
  j["input_overflow_bin"] = b.input_overflow_bin;
  j["output_overflow_bin"] = b.output_overflow_bin;
  j["counts"] = b.counts;
  j["tokens"] = b.tokens;
  json rs = json::array(), ts = json::array();
  for (std::size_t i = 0; i < b.counts.size(); ++i) {
    json r = json::array(), tt = json::array();
    for (std::size_t o = 0; o < b.counts[i].size(); ++o) {
      r.push_back(b.request_share(i, o));
      tt.push_back(b.token_share(i, o));
    }
    rs.push_back(std::move(r));
    ts.push_back(std::move(tt));
  }
  j["request_share"] = std::move(rs);
  j["token_share"] = std::move(ts);
  j["binned"] = b.binned;
  j["clamped"] = b.clamped;
  j["excluded"] = {{"requests", b.excluded.requests},           {"by_input", b.excluded.by_input},
                   {"by_output", b.excluded.by_output},         {"tokens", b.excluded.tokens},
                   {"request_share", b.excluded.request_share}, {"token_share", b.excluded.token_share}};
  j["fidelity"] = {{"ks_input", b.ks_input},
                   {"ks_output", b.ks_output},
                   {"token_ratio", b.token_ratio},
                   {"input_token_ratio", b.input_token_ratio},
                   {"output_token_ratio", b.output_token_ratio},
                   {"real_input_tokens", b.real_input_tokens},
                   {"real_output_tokens", b.real_output_tokens},
                   {"binned_input_tokens", b.binned_input_tokens},
                   {"binned_output_tokens", b.binned_output_tokens}};
  if (t.memory)
    j["batch_sizes"] = {{"budget_bytes", t.memory->budget_bytes},
                        {"weights_bytes", t.memory->weights_bytes},
                        {"kv_bytes_per_token", t.memory->kv_bytes_per_token},
                        {"max_batch", t.memory->max_batch},
                        {"matrix", t.batch_sizes}};
  else
    j["batch_sizes"] = nullptr;
  if (t.concurrency && t.service) {
    const ConcurrencyStats& c = *t.concurrency;
    j["concurrency"] = {{"decode_s_per_token", t.service->decode_s_per_token},
                        {"prefill_s_per_token", t.service->prefill_s_per_token},
                        {"mean", c.mean},
                        {"p50", c.p50},
                        {"p90", c.p90},
                        {"p99", c.p99},
                        {"max", c.max},
                        {"span_s", c.span_s},
                        {"busy_share", c.busy_share},
                        {"above_cap_share", c.above_cap_share},
                        {"time_share", c.time_share}};
  } else {
    j["concurrency"] = nullptr;
  }
  return j;
}

}  // namespace jouleperf::workload
