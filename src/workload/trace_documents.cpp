#include "jouleperf/workload/trace_documents.hpp"

#include <fmt/format.h>

#include <functional>
#include <random>
#include <utility>

#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/json.hpp"

namespace jouleperf::workload {

namespace {

using table::count_value;
using table::optional_value;
using table::Table;
using table::Value;

Table quantities(std::string name, std::string title) {
  return Table{
      std::move(name), std::move(title), {{"quantity", "what it is, its unit in the name"}, {"value", ""}}, {}};
}

std::vector<std::string> load_lines(const LoadSummary& s) {
  std::vector<std::string> out = {
      fmt::format("trace:    {} (format {})", s.source, trace_format_name(s.format)),
      fmt::format("requests: {} (rows {}; failed excluded {}; zero-token excluded {}; skipped bad {}; filtered out {})",
                  s.requests, s.rows, s.failed_excluded, s.zero_token_excluded, s.skipped_bad, s.filtered_out)};
  for (const auto& b : s.bad_examples) out.push_back(fmt::format("  skipped line {}: {}", b.line, b.reason));
  return out;
}

Table lengths_table(const TraceStats& t) {
  Table out{"lengths",
            "Lengths (tokens)",
            {{"tokens", "input or output"},
             {"count", ""},
             {"mean", ""},
             {"std", "population standard deviation"},
             {"median", "numpy linear quantile"},
             {"p90", ""},
             {"p99", ""},
             {"min", ""},
             {"max", ""},
             {"total", "sum of lengths"}},
            {}};
  for (const auto& [name, s] : {std::pair{"input", &t.input}, std::pair{"output", &t.output}}) {
    if (!*s) continue;
    const LengthStats& l = **s;
    out.rows.push_back({std::string(name), count_value(l.count), l.mean, l.std, l.median, l.p90, l.p99,
                        count_value(l.min), count_value(l.max), count_value(l.total)});
  }
  return out;
}

Table arrivals_table(const ArrivalStats& a) {
  Table t = quantities("arrivals", "Arrivals");
  t.rows = {{std::string("duration_s"), a.duration_s},
            {std::string("rate_rps"), a.rate_rps},
            {std::string("interarrival_mean_s"), optional_value(a.interarrival_mean_s)},
            {std::string("interarrival_cv"), optional_value(a.interarrival_cv)},
            {std::string("arrivals_in_file_order"), a.in_file_order},
            {std::string("rate_series_buckets"), count_value(a.counts.size())},
            {std::string("rate_series_bucket_s"), a.bucket_s},
            {std::string("peak_rps"), a.peak_rps}};
  return t;
}

// A matrix over the bins: one row per input edge, one column per output edge.
Table matrix_table(std::string name, std::string title, const BinningResult& b,
                   const std::function<Value(std::size_t, std::size_t)>& cell) {
  Table t{std::move(name), std::move(title), {{"input_edge", "I*, tokens (rows); columns: O*, tokens"}}, {}};
  for (std::size_t o = 0; o < b.output_edges.size(); ++o) {
    const bool overflow = b.output_overflow_bin && o + 1 == b.output_edges.size();
    t.columns.push_back({fmt::format("o{}", b.output_edges[o]), overflow ? "output overflow bin" : ""});
  }
  for (std::size_t i = 0; i < b.input_edges.size(); ++i) {
    std::vector<Value> row{count_value(b.input_edges[i])};
    for (std::size_t o = 0; o < b.output_edges.size(); ++o) row.push_back(cell(i, o));
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table binning_summary(const TraceBinning& t) {
  const BinningResult& b = t.bins;
  Table s = quantities("summary", "Binning");
  auto add = [&](const char* q, Value v) { s.rows.push_back({std::string(q), std::move(v)}); };
  add("requests", count_value(b.requests));
  add("binned", count_value(b.binned));
  if (b.policy == OutOfRange::kExclude) {
    add("excluded", count_value(b.excluded.requests));
    add("excluded_by_input", count_value(b.excluded.by_input));
    add("excluded_by_output", count_value(b.excluded.by_output));
    add("excluded_request_pct", 100.0 * b.excluded.request_share);
    add("excluded_token_pct", 100.0 * b.excluded.token_share);
  }
  if (b.policy == OutOfRange::kClamp) add("clamped", count_value(b.clamped));
  add("token_ratio", b.token_ratio);
  add("input_token_ratio", b.input_token_ratio);
  add("output_token_ratio", b.output_token_ratio);
  add("ks_input", b.ks_input);
  add("ks_output", b.ks_output);
  if (t.memory) {
    add("memory_budget_gb", t.memory->budget_bytes / 1e9);
    add("weights_gb", t.memory->weights_bytes / 1e9);
    add("kv_bytes_per_token", t.memory->kv_bytes_per_token);
    add("max_batch", count_value(t.memory->max_batch));
  }
  if (t.concurrency && t.service) {
    const ConcurrencyStats& c = *t.concurrency;
    add("decode_ms_per_token", t.service->decode_s_per_token * 1e3);
    add("prefill_ms_per_token", t.service->prefill_s_per_token * 1e3);
    add("in_flight_mean", c.mean);
    add("in_flight_p50", count_value(c.p50));
    add("in_flight_p90", count_value(c.p90));
    add("in_flight_p99", count_value(c.p99));
    add("in_flight_max", count_value(c.max));
    add("busy_pct", 100.0 * c.busy_share);
    add("span_s", c.span_s);
    if (t.memory) add("above_cap_pct", 100.0 * c.above_cap_share);
  }
  return s;
}

}  // namespace

Result<LoadOptions> to_load_options(const TraceReadOptions& f) {
  LoadOptions o;
  auto format = parse_trace_format(f.format);
  if (!format) return format.error();
  o.format = *format;
  o.input_col = f.input_col;
  o.output_col = f.output_col;
  o.time_col = f.time_col;
  auto unit = parse_time_unit(f.time_unit);
  if (!unit) return unit.error();
  o.time_unit = *unit;
  o.skip_bad = f.skip_bad;
  o.include_failed = f.include_failed;
  for (const auto& w : f.where) {
    auto tf = parse_tag_filter(w);
    if (!tf) return tf.error();
    o.where.push_back(*tf);
  }
  o.from_s = f.from_s;
  o.to_s = f.to_s;
  return o;
}

table::Document stats_document(const TraceStats& t) {
  table::Document d;
  d.header = load_lines(t.load);
  d.json = to_json(t);
  if (!t.input) return d;
  d.tables.push_back(lengths_table(t));
  if (t.arrivals) {
    d.tables.push_back(arrivals_table(*t.arrivals));
    if (!t.arrivals->in_file_order) d.footer.push_back("rows were out of time order; gaps taken after sorting");
    d.footer.push_back("the requests-per-second series is in the JSON (-o json)");
  } else {
    d.footer.push_back("arrivals: none (the trace has no times)");
  }
  return d;
}

Result<TraceBinningOptions> to_binning_options(const BinRequest& f) {
  if (f.show != "counts" && f.show != "requests" && f.show != "tokens")
    return make_error(Errc::kInvalidArgument, "--show takes counts, requests or tokens");
  TraceBinningOptions o;
  auto in = parse_edge_spec(f.input_edges);
  if (!in) return in.error();
  auto out = parse_edge_spec(f.output_edges);
  if (!out) return out.error();
  o.input_edges = *in;
  o.output_edges = *out;
  auto policy = parse_out_of_range(f.policy);
  if (!policy) return policy.error();
  o.policy = *policy;
  double kv_per_token = f.kv_bytes_per_token;
  if (!(kv_per_token > 0) && f.model_kv_bytes_per_token) kv_per_token = *f.model_kv_bytes_per_token;
  if (!f.budget.empty() || kv_per_token > 0) {
    if (f.budget.empty() || !(kv_per_token > 0))
      return make_error(
          Errc::kInvalidArgument,
          "batch sizes need --memory-budget and the KV bytes per token (--model or --kv-bytes-per-token)");
    auto budget = parse_bytes(f.budget);
    if (!budget) return budget.error();
    auto weights = parse_bytes(f.weights);
    if (!weights) return weights.error();
    MemoryModel m;
    m.budget_bytes = *budget;
    m.weights_bytes = (f.weights == "0" && f.model_weights_bytes) ? *f.model_weights_bytes : *weights;
    m.kv_bytes_per_token = kv_per_token;
    m.max_batch = f.max_batch;
    o.memory = m;
  }
  if (f.decode_ms > 0 || f.prefill_ms > 0) o.service = ServiceModel{f.decode_ms / 1e3, f.prefill_ms / 1e3};
  return o;
}

table::Document binning_document(const TraceBinning& t, const std::string& show) {
  const BinningResult& b = t.bins;
  table::Document d;
  d.header = load_lines(t.load);
  const std::string what = show == "counts"     ? "requests"
                           : show == "requests" ? "share of binned requests, %"
                                                : "share of tokens, %";
  d.tables.push_back(matrix_table("bins",
                                  fmt::format("N(I*, O*) {} (policy {}{}{})", what, out_of_range_name(b.policy),
                                              b.input_overflow_bin ? "; last row = input overflow bin" : "",
                                              b.output_overflow_bin ? "; last column = output overflow bin" : ""),
                                  b, [&](std::size_t i, std::size_t o) -> Value {
                                    if (show == "requests") return 100.0 * b.request_share(i, o);
                                    if (show == "tokens") return 100.0 * b.token_share(i, o);
                                    return count_value(b.counts[i][o]);
                                  }));
  if (t.memory)
    d.tables.push_back(matrix_table("batch_sizes", "B(I*, O*): largest batch within the memory budget", b,
                                    [&](std::size_t i, std::size_t o) { return count_value(t.batch_sizes[i][o]); }));
  d.tables.push_back(binning_summary(t));
  if (t.concurrency) d.footer.push_back("in_flight: requests in flight at the trace's rate, no queueing");
  d.json = to_json(t);
  return d;
}

Result<std::vector<TimedRequest>> synthesize_requests(const SynthRequest& r) {
  SynthesisOptions o;
  o.count = r.count;
  auto arrivals = parse_arrival_process(r.arrivals);
  if (!arrivals) return arrivals.error();
  auto lengths = parse_length_model(r.lengths);
  if (!lengths) return lengths.error();
  o.arrivals = *arrivals;
  o.lengths = *lengths;
  o.rate_rps = r.rate_rps;
  o.cv = r.cv;
  o.replay.speed = r.speed;
  o.replay.from_s = r.from_s;
  o.replay.to_s = r.to_s;
  std::mt19937_64 rng(r.seed);
  if (r.file.empty() == r.workload.empty())
    return make_error(Errc::kInvalidArgument, "give a trace FILE or --workload, not both");
  if (!r.workload.empty()) {
    auto w = find_default_workload(r.workload);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    return synthesize(**w, o, rng);
  }
  auto lo = to_load_options(r.read);
  if (!lo) return lo.error();
  lo->from_s.reset();  // windows apply at replay, not at loading
  lo->to_s.reset();
  auto t = load_timed_requests(r.file, *lo);
  if (!t) return t.error();
  return synthesize(*t, o, rng);
}

table::Document requests_document(const std::vector<TimedRequest>& reqs) {
  table::Document d;
  Table t{"requests",
          "Synthetic requests",
          {{"arrival_s", "s from the first request"}, {"input_tokens", ""}, {"output_tokens", ""}},
          {}};
  d.json = nlohmann::json::array();
  for (const auto& r : reqs) {
    t.rows.push_back({r.arrival_s, count_value(r.input_tokens), count_value(r.output_tokens)});
    d.json.push_back(
        {{"arrival_s", r.arrival_s}, {"input_tokens", r.input_tokens}, {"output_tokens", r.output_tokens}});
  }
  d.tables.push_back(std::move(t));
  return d;
}

namespace {

nlohmann::json workload_json(const DefaultWorkload& w) {
  std::vector<std::vector<std::uint64_t>> counts;
  for (std::size_t i = 0; i < w.input_edges.size(); ++i) {
    counts.emplace_back();
    for (std::size_t o = 0; o < w.output_edges.size(); ++o) counts.back().push_back(w.count(i, o));
  }
  return {{"name", w.name},
          {"description", w.description},
          {"source", w.source},
          {"attribution", w.attribution},
          {"requests", w.requests},
          {"duration_s", w.duration_s},
          {"rate_rps", w.rate_rps},
          {"interarrival_cv", w.interarrival_cv},
          {"input_mean", w.input_mean},
          {"output_mean", w.output_mean},
          {"input_edges", std::vector<std::uint64_t>(w.input_edges.begin(), w.input_edges.end())},
          {"output_edges", std::vector<std::uint64_t>(w.output_edges.begin(), w.output_edges.end())},
          {"counts", counts},
          {"excluded", w.excluded},
          {"input_lognormal", {{"mu", w.input_lognormal.mu}, {"sigma", w.input_lognormal.sigma}}},
          {"output_lognormal", {{"mu", w.output_lognormal.mu}, {"sigma", w.output_lognormal.sigma}}}};
}

}  // namespace

table::Document workloads_document() {
  table::Document d;
  Table t{"workloads",
          "Embedded default workloads",
          {{"name", ""},
           {"requests", "in the trace"},
           {"duration_s", "first to last arrival"},
           {"rate_rps", ""},
           {"interarrival_cv", "1 for Poisson, > 1 bursty"},
           {"input_mean", "tokens"},
           {"output_mean", "tokens"},
           {"input_mu", "log-normal fit"},
           {"input_sigma", ""},
           {"output_mu", ""},
           {"output_sigma", ""},
           {"excluded", "requests past the default bins' last edges"}},
          {}};
  d.json = nlohmann::json::array();
  for (const DefaultWorkload& w : default_workloads()) {
    t.rows.push_back({std::string(w.name), count_value(w.requests), w.duration_s, w.rate_rps, w.interarrival_cv,
                      w.input_mean, w.output_mean, w.input_lognormal.mu, w.input_lognormal.sigma, w.output_lognormal.mu,
                      w.output_lognormal.sigma, count_value(w.excluded)});
    d.footer.push_back(fmt::format("{}: {}; from {} ({})", w.name, w.description, w.source, w.attribution));
    d.json.push_back(workload_json(w));
  }
  d.tables.push_back(std::move(t));
  return d;
}

}  // namespace jouleperf::workload
