// `jouleperf replay`'s pipeline: schedule, engine, sampler, run, store (replay.hpp).
#include "jouleperf/study/replay.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <limits>
#include <random>

#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/rate_sweep.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/study/chargeback.hpp"
#include "jouleperf/study/cost_model.hpp"
#include "jouleperf/study/online.hpp"
#include "jouleperf/study/request_energy.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::study {

namespace {

Error usage(std::string message) { return make_error(Errc::kInvalidArgument, std::move(message)); }

// A failure of the server or the network, never a usage error (exit 1, not 2).
Error not_usage(Error e) {
  if (e.code == Errc::kInvalidArgument) e.code = Errc::kNetwork;
  return e;
}

nlohmann::json pct_json(const Percentiles& p) {
  return {{"n", p.n}, {"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// Energy per successful request and per output token (null when there are none).
nlohmann::json per(double energy_j, std::uint64_t n) {
  return n ? nlohmann::json(energy_j / static_cast<double>(n)) : nlohmann::json(nullptr);
}

// What a run used, for the report: the openai server or the in-process engine.
struct ReplayTarget {
  std::string engine;                               // "openai" or "llamacpp"
  std::string where;                                // URL or model path
  nlohmann::json extra = nlohmann::json::object();  // engine-specific keys merged into the JSON
};

// The failed share of a run's (or phase's) requests, with every failed request's reason.
struct FailureShare {
  std::size_t requests = 0, failed = 0;
  double share = 0.0;
  bool over = false;
  nlohmann::json reasons = nlohmann::json::array();  // [{"request", "error"}]
};

FailureShare failure_share(const LoadgenRun& run, double max_rate) {
  FailureShare f;
  f.requests = run.requests.size();
  for (const auto& q : run.requests) {
    if (q.result.ok) continue;
    ++f.failed;
    f.reasons.push_back({{"request", q.result.tag}, {"error", q.result.error}});
  }
  f.share = f.requests ? static_cast<double>(f.failed) / static_cast<double>(f.requests) : 0.0;
  f.over = f.share > max_rate;
  return f;
}

FailureExcess excess(std::string what, const FailureShare& f) {
  FailureExcess e{std::move(what), f.requests, f.failed, f.share, {}};
  for (const auto& r : f.reasons)
    e.reasons.push_back(fmt::format("FAILED request {}: {}", r["request"].dump(), r["error"].get<std::string>()));
  return e;
}

// Every request of a run, times from `origin_s` (clock seconds).
nlohmann::json per_request_json(const LoadgenRun& run, double origin_s, const std::vector<double>& admitted_s) {
  nlohmann::json reqs = nlohmann::json::array();
  for (std::size_t i = 0; i < run.requests.size(); ++i) {
    const auto& q = run.requests[i];
    const auto& r = q.result;
    nlohmann::json rj = {{"scheduled_s", q.scheduled_s - origin_s},
                         {"lateness_s", q.lateness_s},
                         {"send_s", r.send_s - origin_s},
                         {"end_s", r.end_s - origin_s},
                         {"ok", r.ok},
                         {"error", r.error},
                         {"http_status", r.http_status},
                         {"input_tokens_asked", r.input_tokens_asked},
                         {"output_tokens_asked", r.output_tokens_asked},
                         {"output_tokens", r.output_tokens},
                         {"mismatch", r.mismatch},
                         {"ttft_s", r.ttft_s()},
                         {"tpot_s", r.tpot_s()},
                         {"e2e_s", r.e2e_s()}};
    if (i < admitted_s.size()) {
      rj["admitted_s"] = admitted_s[i] - origin_s;
      rj["queue_s"] = admitted_s[i] - r.send_s;
    }
    reqs.push_back(std::move(rj));
  }
  return reqs;
}

// Each request's attributed energy into `per_request` (per_request_json's), J.
void add_request_energy(nlohmann::json& per_request, const RunAttribution* attribution) {
  if (!attribution) return;
  for (std::size_t i = 0; i < per_request.size() && i < attribution->split.requests.size(); ++i) {
    const RequestEnergy& e = attribution->split.requests[i];
    auto& rj = per_request[i];
    rj["energy_j"] = e.energy_j;
    rj["prefill_j"] = e.prefill_j;
    rj["decode_j"] = e.decode_j;
    rj["idle_j"] = e.idle_j;
    rj["above_idle_j"] = e.above_idle_j ? nlohmann::json(*e.above_idle_j) : nlohmann::json(nullptr);
  }
}

// The load figures of one run or phase: counts, throughput, percentiles, goodput.
nlohmann::json load_json(const LoadgenSummary& s, const std::string& slo) {
  return {{"requests", s.requests},
          {"ok", s.ok},
          {"failed", s.failed},
          {"mismatched", s.mismatched},
          {"duration_s", s.duration_s},
          {"throughput_rps", s.throughput_rps},
          {"output_tokens", s.output_tokens},
          {"input_tokens", s.input_tokens},
          {"output_tokens_per_s", s.output_tokens_per_s},
          {"ttft_s", pct_json(s.ttft_s)},
          {"tpot_s", pct_json(s.tpot_s)},
          {"itl_s", pct_json(s.itl_s)},
          {"e2e_s", pct_json(s.e2e_s)},
          {"send_lateness_s", pct_json(s.lateness_s)},
          {"slo", slo},
          {"slo_met", s.slo_met},
          {"goodput_rps", s.goodput_rps}};
}

// The schedule and, with --group-by, each request's value of that column.
struct BuiltSchedule {
  std::vector<ScheduledRequest> requests;
  std::vector<std::string> groups;  // empty without group_by
};

// "a, b, c": the columns a trace's rows carry besides time and lengths (its tags).
std::string tag_columns(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s.empty() ? std::string("none") : s;
}

Result<BuiltSchedule> trace_schedule(const ReplayOptions& a) {
  struct Row {
    workload::TimedRequest timed;
    std::string group;
  };
  std::vector<Row> rows;
  std::vector<std::string> keys;  // the first row's tag columns, for the error
  bool group_found = false;
  auto sum = workload::load_trace(a.trace, workload::LoadOptions{}, [&](const workload::Request& r) {
    if (keys.empty())
      for (const auto& t : r.tags) keys.emplace_back(t.key);
    if (!r.arrival_s) return;
    Row row{{*r.arrival_s, static_cast<std::uint32_t>(r.input_tokens), static_cast<std::uint32_t>(r.output_tokens)},
            {}};
    if (!a.group_by.empty())
      if (auto v = workload::find_tag(r, a.group_by)) {
        row.group = std::string(*v);
        group_found = true;
      }
    rows.push_back(std::move(row));
  });
  if (!sum) return sum.error();
  if (!sum->has_arrivals) return usage("trace " + a.trace + " has no arrival times");
  if (!a.group_by.empty() && !group_found)
    return usage(
        fmt::format("--group-by '{}': trace {} has no such column; the columns it can group by: {} (its time "
                    "and length columns are not groups)",
                    a.group_by, a.trace, tag_columns(keys)));
  // The window and order workload::replay gives, kept beside each row's group.
  std::erase_if(rows, [&](const Row& r) {
    return (a.from_s && r.timed.arrival_s < *a.from_s) || (a.to_s && r.timed.arrival_s >= *a.to_s);
  });
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& x, const Row& y) { return x.timed.arrival_s < y.timed.arrival_s; });
  std::vector<workload::TimedRequest> timed;
  for (const auto& r : rows) timed.push_back(r.timed);
  workload::ReplayOptions ro;
  ro.speed = a.speed;
  ro.from_s = a.from_s;
  ro.to_s = a.to_s;
  auto rep = workload::replay(timed, ro);
  if (!rep) return rep.error();
  if (rep->size() != rows.size())  // the rows were windowed and sorted as replay() does
    return make_error(Errc::kInternal, fmt::format("trace schedule: {} requests replayed for {} rows in the window",
                                                   rep->size(), rows.size()));
  BuiltSchedule out;
  for (std::size_t i = 0; i < rep->size() && out.requests.size() < a.requests; ++i) {
    const auto& t = (*rep)[i];
    out.requests.push_back(
        {t.arrival_s, std::max<std::uint64_t>(1, t.input_tokens), std::max<std::uint64_t>(1, t.output_tokens)});
    if (!a.group_by.empty()) out.groups.push_back(rows[i].group);
  }
  return out;
}

Result<BuiltSchedule> build_schedule(const ReplayOptions& a) {
  if (!a.trace.empty()) return trace_schedule(a);
  if (!a.group_by.empty()) return usage("--group-by needs --trace (a column of the trace names each request's group)");
  if (!a.poisson_rps) return usage("give --poisson RATE (with --requests N) or --trace FILE");
  std::mt19937_64 rng(a.seed);
  auto times = a.gamma_cv ? workload::gamma_arrivals(*a.poisson_rps, *a.gamma_cv, a.requests, rng)
                          : workload::poisson_arrivals(*a.poisson_rps, a.requests, rng);
  if (!times) return times.error();
  BuiltSchedule out;
  for (double t : *times) out.requests.push_back({t, a.input, a.output});
  return out;
}

// `text` with every occurrence of `secret` replaced (a server may echo a header back in
// an error body; nothing of the key may reach the store).
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (std::size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p))
    text.replace(p, secret.size(), "[api key]");
  return text;
}

// A URL without user:password@ (credentials stay out of the store).
std::string url_without_userinfo(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t slash = url.find('/', start);
  const std::size_t at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

std::string new_run_id(const std::string& kind) {
  std::random_device rd;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  return fmt::format("{}-{}-{:08x}", kind, stamp, rd());
}

// One phase of a run, for the results store.
struct StoredPhase {
  std::string name;
  const LoadgenRun* run = nullptr;
};

study::RequestRecord request_record(const LoadgenRequest& q, double origin, const std::string& api_key) {
  const OpenAiResult& r = q.result;
  study::RequestRecord rr;
  rr.scheduled_s = q.scheduled_s - origin;
  rr.send_s = r.send_s - origin;
  rr.lateness_s = q.lateness_s;
  rr.end_s = r.end_s - origin;
  rr.input_tokens_asked = r.input_tokens_asked;
  rr.output_tokens_asked = r.output_tokens_asked;
  rr.output_tokens = r.output_tokens;
  rr.usage_prompt_tokens = r.usage_prompt_tokens;
  rr.usage_completion_tokens = r.usage_completion_tokens;
  if (!r.token_s.empty()) rr.ttft_s = r.ttft_s();
  for (double t : r.token_s) rr.token_s.push_back(t - origin);
  rr.ok = r.ok;
  rr.error = scrub(r.error, api_key);
  rr.http_status = r.http_status;
  rr.finish_reason = scrub(r.finish_reason, api_key);
  rr.mismatch = scrub(r.mismatch, api_key);
  return rr;
}

// How the arrivals were made, for the report: "Poisson 2 req/s, seed 1", "trace t.csv x2".
std::string arrivals_text(const ReplayOptions& a) {
  if (!a.trace.empty()) return fmt::format("trace {} x{:g}", a.trace, a.speed);
  const std::string kind = a.gamma_cv ? fmt::format("gamma (cv {:g})", *a.gamma_cv) : std::string("Poisson");
  return fmt::format("{} {:g} req/s, seed {}", kind, a.poisson_rps.value_or(0.0), a.seed);
}

// The run as a "replay" artifact in the schema `report` reads (study/online.hpp's
// OnlineComparison::replay): one record, whichever engine served it.
nlohmann::json replay_artifact(const ReplayOptions& a, const nlohmann::json& j, const std::string& run_id) {
  auto pct = [](const nlohmann::json& p) {
    return nlohmann::json{{"p50", p["p50"]},   {"p90", p["p90"]}, {"p99", p["p99"]},
                          {"mean", p["mean"]}, {"max", p["max"]}, {"n", p["n"]}};
  };
  const auto requests = j["requests"].get<double>();
  nlohmann::json b = {{"config", a.model.empty() ? j["engine"].get<std::string>() : a.model},
                      {"engine", j["engine"]},
                      {"run_id", run_id},
                      {"arrivals", arrivals_text(a)},
                      {"requests", j["requests"]},
                      {"completed", j["ok"]},
                      {"duration_s", j["duration_s"]},
                      {"energy_j", j["energy_j"]},
                      {"above_idle_j", j["above_idle_j"]},
                      {"energy_source", j["energy_source"]},
                      {"estimated", j["estimated"]},
                      {"simulated", false},
                      {"per_request_j", j["energy_per_request_j"]},
                      {"per_output_token_j", j["energy_per_output_token_j"]},
                      {"latency_s", {{"ttft", pct(j["ttft_s"])}, {"e2e", pct(j["e2e_s"])}}},
                      {"goodput_rps", j["goodput_rps"]},
                      {"slo_attainment", requests > 0 ? j["slo_met"].get<double>() / requests : 0.0}};
  for (const char* k : {"batching", "max_batch", "forwards", "mean_batch", "busy_s"})
    if (j.contains(k)) b[k] = j[k];
  if (a.max_concurrency) b["max_concurrency"] = *a.max_concurrency;
  if (j.contains("offline"))
    b["offline"] = {{"energy_j", j["offline"]["energy_j"]},
                    {"per_request_j", j["offline"]["energy_per_request_j"]},
                    {"duration_s", j["offline"]["duration_s"]},
                    {"batch", j["offline"]["max_batch"]},
                    {"above_idle_j", j["offline"]["above_idle_j"]}};
  return b;
}

// Writes the run and every request into options.store (one transaction), and the run as
// a "replay" artifact that `report` reads (a rate sweep: one per phase).
Status store_replay(const ReplayOptions& a, const ReplayTarget& target, const std::string& kind,
                    const std::vector<StoredPhase>& phases, nlohmann::json info,
                    const std::vector<const RunAttribution*>& attributions = {}) {
  const OpenAiConfig oc = a.openai.value_or(OpenAiConfig{});
  auto store = study::Store::open(a.store);
  if (!store) return store.error();
  study::RunRecord rec;
  rec.run_id = new_run_id(kind);
  rec.kind = kind;
  rec.engine = target.engine;
  rec.target = scrub(target.engine == "openai" ? url_without_userinfo(target.where) : target.where, oc.api_key);
  rec.model = a.model;
  rec.started_unix_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double origin = phases.empty() ? 0.0 : phases.front().run->start_s;
  std::vector<study::RequestRecord> reqs;
  for (std::size_t pk = 0; pk < phases.size(); ++pk) {
    const auto& ph = phases[pk];
    // Each phase's attribution (in the order of its requests), where it has one.
    const RunAttribution* attribution = pk < attributions.size() ? attributions[pk] : nullptr;
    for (std::size_t qi = 0; qi < ph.run->requests.size(); ++qi) {
      const auto& q = ph.run->requests[qi];
      reqs.push_back(request_record(q, origin, oc.api_key));
      reqs.back().index = reqs.size() - 1;
      reqs.back().phase = ph.name;
      if (attribution && qi < attribution->split.requests.size()) {
        const RequestEnergy& e = attribution->split.requests[qi];
        auto& r = reqs.back();
        r.energy_j = e.energy_j;
        r.prefill_j = e.prefill_j;
        r.decode_j = e.decode_j;
        r.idle_j = e.idle_j;
        r.above_idle_j = e.above_idle_j;
        r.attribution = attribution->description;
      }
    }
  }
  info.erase("per_request");
  if (info.contains("url") && info["url"].is_string()) info["url"] = rec.target;
  info["seed"] = a.seed;
  info["timeout_s"] = oc.timeout_s;
  info["request_deadline_s"] =
      oc.request_deadline_s ? nlohmann::json(*oc.request_deadline_s) : nlohmann::json("default");
  info["max_concurrency"] = a.max_concurrency ? nlohmann::json(*a.max_concurrency) : nlohmann::json(nullptr);
  // The key itself never; a server's echo of it is scrubbed from the whole document too.
  rec.info = nlohmann::json::parse(scrub(info.dump(), oc.api_key));
  if (auto st = store->put_run(rec, reqs); !st) return st;
  if (kind == "replay") {
    nlohmann::json body = replay_artifact(a, info, rec.run_id);
    body["per_request"] = per_request_json(*phases.front().run, phases.front().run->start_s, {});
    add_request_energy(body["per_request"], attributions.empty() ? nullptr : attributions.front());
    return store->put_artifact({"replay", rec.run_id, nlohmann::json::parse(scrub(body.dump(), oc.api_key)), 0.0});
  }
  // A rate sweep: every phase is a replay of its own, stored as one ("<run id>-<phase>").
  for (const auto& pj : info.value("phases", nlohmann::json::array())) {
    nlohmann::json phase = pj;
    phase["engine"] = target.engine;
    const std::string name = fmt::format("{}-{}", rec.run_id, pj.value("name", ""));
    nlohmann::json body = replay_artifact(a, phase, name);
    body["run_id"] = rec.run_id;
    body["phase"] = pj.value("name", "");
    for (std::size_t pk = 0; pk < phases.size(); ++pk)
      if (phases[pk].name == body["phase"]) {
        body["per_request"] = per_request_json(*phases[pk].run, phases[pk].run->start_s, {});
        add_request_energy(body["per_request"], pk < attributions.size() ? attributions[pk] : nullptr);
      }
    const std::string kind_text = a.gamma_cv ? fmt::format("gamma (cv {:g})", *a.gamma_cv) : std::string("Poisson");
    body["arrivals"] = fmt::format("{} {:g} req/s, rate sweep seed {}", kind_text, pj.value("rate_rps", 0.0), a.seed);
    if (auto st = store->put_artifact({"replay", name, nlohmann::json::parse(scrub(body.dump(), oc.api_key)), 0.0});
        !st)
      return st;
  }
  return {};
}

// The idle baseline asked for (idle_power_w, or idle_s measured now), if any.
Result<std::optional<IdleBaseline>> idle_baseline(const ReplayOptions& a, Sampler& sampler) {
  if (a.idle_power_w) return std::optional<IdleBaseline>(given_idle(Watts(*a.idle_power_w)));
  if (a.idle_s > 0) {
    auto idle = measure_idle(sampler, Seconds(a.idle_s));
    if (!idle) return idle.error();
    return std::optional<IdleBaseline>(std::move(*idle));
  }
  return std::optional<IdleBaseline>();
}

// The started sampler and the idle baseline; on failure the sampler is stopped.
struct Metering {
  std::unique_ptr<Sampler> sampler;
  std::optional<IdleBaseline> idle;
};

Result<Metering> start_metering(const ReplayOptions& a, const SamplerStarter& start_sampler, const Clock& clock) {
  auto sampler = start_sampler(clock);
  if (!sampler) return sampler.error();
  auto idle = idle_baseline(a, **sampler);
  if (!idle) {
    (*sampler)->stop();
    return idle.error();
  }
  return Metering{std::move(*sampler), std::move(*idle)};
}

// The JSON of one replay (not a sweep) and its failure excess; writes the store.
Result<ReplayResult> replay_result(const ReplayOptions& a, const ReplayTarget& target, const LoadgenRun& run,
                                   const Measurement& m, const std::vector<double>& admitted_s, const Slo& slo,
                                   const RunAttribution* attribution) {
  const LoadgenSummary s = summarize_load(run, slo);
  const bool served = target.engine == "llamacpp";
  nlohmann::json j = load_json(s, a.slo);
  j["engine"] = target.engine;
  j["url"] = served ? nlohmann::json(nullptr) : nlohmann::json(redact_url(target.where));
  j["energy_j"] = m.total.energy_j;
  j["energy_source"] = m.total.energy_source;
  j["estimated"] = m.total.estimated;
  j["energy_per_request_j"] = per(m.total.energy_j, s.ok);
  j["energy_per_output_token_j"] = per(m.total.energy_j, s.output_tokens);
  j["above_idle_j"] = opt_json(m.total.above_idle_j);
  j["measurement"] = to_json(m);
  const FailureShare fs = failure_share(run, a.max_failure_rate);
  j["failure_rate"] = fs.share;
  j["max_failure_rate"] = a.max_failure_rate;
  j["failures"] = fs.reasons;
  j["within_max_failure_rate"] = !fs.over;
  for (const auto& [k, v] : target.extra.items()) j[k] = v;
  j["attribution"] = attribution ? attribution_json(*attribution, run) : nlohmann::json(nullptr);
  if (!a.store.empty())
    if (auto st = store_replay(a, target, "replay", {{"replay", &run}}, j, {attribution}); !st) return st.error();
  j["per_request"] = per_request_json(run, run.start_s, admitted_s);
  add_request_energy(j["per_request"], attribution);
  ReplayResult r{"replay", std::move(j), {}, a.max_failure_rate};
  if (fs.over) r.over.push_back(excess("replay", fs));
  return r;
}

// The in-process engine's figures merged into the replay JSON.
nlohmann::json served_extra(const EngineInfo& info, const ServeOptions& so, const ServeResult& served) {
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : info.settings) settings[k] = v;
  return {{"model", info.model},
          {"model_path", info.model_path},
          {"synthetic_model", info.synthetic_model},
          {"engine_version", info.version},
          {"settings", settings},
          {"batching", std::string(batching_name(so.batching))},
          {"max_batch", so.max_batch},
          {"static_wait_s", so.static_wait_s},
          {"forwards", served.forwards},
          {"mean_batch", served.mean_batch},
          {"peak_batch", served.peak_batch},
          {"busy_s", served.busy_s}};
}

// The offline run of online_vs_offline (all at t = 0, static batches of max_batch).
nlohmann::json offline_json(const ServeResult& off, const Measurement& m, std::uint32_t max_batch) {
  std::uint64_t out_tokens = 0;
  std::vector<double> e2e;
  for (const auto& q : off.requests) {
    out_tokens += q.output_tokens;
    e2e.push_back(q.e2e_s());
  }
  return {{"batching", "static"},
          {"max_batch", max_batch},
          {"duration_s", off.end_s - off.start_s},
          {"forwards", off.forwards},
          {"e2e_s", pct_json(percentiles(e2e))},
          {"energy_j", m.total.energy_j},
          {"energy_source", m.total.energy_source},
          {"estimated", m.total.estimated},
          {"energy_per_request_j", per(m.total.energy_j, off.requests.size())},
          {"energy_per_output_token_j", per(m.total.energy_j, out_tokens)},
          {"above_idle_j", opt_json(m.total.above_idle_j)}};
}

struct ServedRun {
  ServeResult result;
  Measurement measurement;
  nlohmann::json offline;         // null without offline_compare
  std::optional<SliceSpan> span;  // the online run's measured edges (unset with offline_compare)
};

// The measured online run, and with offline_compare the offline one (online_vs_offline).
Result<ServedRun> serve_measured(const ReplayOptions& a, Engine& engine, Metering& mt, const Clock& clock,
                                 const std::vector<ServeRequest>& reqs, const ServeOptions& so) {
  if (a.offline_compare) {
    OnlineOptions oo;
    oo.online = so;
    oo.offline_batch = so.max_batch;
    oo.idle = mt.idle;
    auto c = online_vs_offline(engine, *mt.sampler, clock, reqs, oo);
    if (!c) return c.error();
    return ServedRun{std::move(c->online), std::move(c->online_measurement),
                     offline_json(c->offline, c->offline_measurement, so.max_batch), std::nullopt};
  }
  Meter meter(*mt.sampler);
  if (mt.idle) meter.set_idle(*mt.idle);
  auto served = engine.serve(reqs, so, clock, &meter);
  auto m = meter.stop();
  if (!served) return served.error();
  if (!m) return m.error();
  auto span = meter.span();
  if (!span) return span.error();
  return ServedRun{std::move(*served), std::move(*m), nullptr, std::move(*span)};
}

Result<ServeOptions> serve_options(const ReplayOptions& a, const std::vector<ServeRequest>& reqs) {
  if (a.model.empty()) return usage("--model FILE (a GGUF) is required with --engine llamacpp");
  auto batching = parse_batching(a.batching);
  if (!batching) return usage(batching.error().message);
  if (auto flash = parse_flash_attention(a.llama.flash_attn); !flash) return usage(flash.error().message);
  ServeOptions so;
  so.batching = *batching;
  so.max_batch = a.max_batch;
  so.static_wait_s = a.static_wait_s;
  if (auto st = validate_serve(reqs, so); !st) return st.error();
  return so;
}

// One path for every engine: the warm-up (unmeasured, the first request alone at t = 0),
// the sampler and idle baseline, the measured Engine::serve (with offline_compare also
// the offline run), and the replay record built from the ServeResult.
struct ServePlan {
  std::vector<ServeRequest> requests;
  ServeOptions options;
  std::uint64_t warmup = 0;
  bool in_process = true;           // the engine queues requests itself (admitted_s, queue_s in the record)
  TokenCostModel cost_model;        // energy per request's split (study/cost_model.hpp)
  std::vector<std::string> groups;  // with --group-by: each request's value of the column
};

Result<ReplayResult> replay_served(const ReplayOptions& a, Engine& engine, ReplayTarget target, const ServePlan& plan,
                                   const Slo& slo, const SamplerStarter& start_sampler) {
  SteadyClock clock;
  ServeRequest first = plan.requests.front();
  first.arrival_s = 0.0;
  for (std::uint64_t i = 0; i < plan.warmup; ++i)
    if (auto w = engine.serve({first}, plan.options, clock, nullptr); !w) return w.error();
  auto mt = start_metering(a, start_sampler, clock);
  if (!mt) return mt.error();
  auto served = serve_measured(a, engine, *mt, clock, plan.requests, plan.options);
  mt->sampler->stop();
  if (!served) return plan.in_process ? served.error() : not_usage(served.error());
  if (plan.in_process) {
    const nlohmann::json extra = served_extra(engine.info(), plan.options, served->result);
    for (const auto& [k, v] : extra.items()) target.extra[k] = v;
    if (!served->offline.is_null()) target.extra["offline"] = served->offline;
  }
  std::vector<double> admitted;
  if (plan.in_process)
    for (const auto& q : served->result.requests) admitted.push_back(q.admitted_s);
  const LoadgenRun run = served_as_loadgen_run(served->result, plan.requests);
  std::optional<RunAttribution> attribution;
  if (served->span) {
    AttributionOptions ao;
    if (auto policy = parse_idle_policy(a.idle_policy)) ao.idle_policy = *policy;  // checked in run_replay
    // Above idle only where the Meter gives the run a figure above idle (every domain's
    // idle power known, the run complete), so the two agree.
    if (mt->idle && served->measurement.total.above_idle_j) ao.idle_power_w = mt->idle->total_power_w;
    auto at = attribute_run(*mt->sampler, *served->span, run, plan.cost_model, ao, served->result.steps);
    // The run stays a measurement without it (e.g. a run longer than the sampler's ring):
    // the JSON says why no request has an energy.
    if (at)
      attribution = std::move(*at);
    else
      target.extra["attribution_error"] = at.error().to_string();
  }
  if (!a.group_by.empty()) {
    // Without an attribution there is nothing to charge: the JSON says why.
    Result<Chargeback> cb =
        attribution
            ? charge_by_group(a.group_by, plan.groups, timelines_of(run), attribution->split, a.carbon)
            : Result<Chargeback>(make_error(Errc::kUnsupported, "no energy per request (see attribution_error)"));
    if (cb)
      target.extra["chargeback"] = chargeback_json(*cb);
    else
      target.extra["chargeback_error"] = cb.error().to_string();
  }
  return replay_result(a, target, run, served->measurement, admitted, slo, attribution ? &*attribution : nullptr);
}

std::vector<ServeRequest> serve_requests(const ReplayOptions& a, const std::vector<ScheduledRequest>& schedule) {
  std::vector<ServeRequest> reqs;
  for (const auto& q : schedule) reqs.push_back({q.at_s, q.input_tokens, q.output_tokens, a.seed});
  return reqs;
}

Result<ReplayResult> replay_llamacpp(const ReplayOptions& a, const BuiltSchedule& schedule, const Slo& slo,
                                     const SamplerStarter& start_sampler) {
  ServePlan plan;
  plan.requests = serve_requests(a, schedule.requests);
  plan.warmup = a.warmup;
  plan.groups = schedule.groups;
  auto so = serve_options(a, plan.requests);
  if (!so) return so.error();
  plan.options = *so;
  plan.options.record_steps = true;  // white-box energy per request
  // By default the model's FLOPs per token; equal cost per token when the file's header
  // cannot be read here (opening the engine then says why).
  std::optional<ModelInfo> info;
  auto gguf = read_gguf_info(a.model);
  if (gguf)
    info = std::move(*gguf);
  else if (a.cost_model == "flops")
    return make_error(gguf.error().code, "--cost-model flops: " + gguf.error().message);
  auto cost = choose_cost_model(a.cost_model, info);
  if (!cost) return cost.error();
  plan.cost_model = std::move(*cost);
  auto cfg = llama_engine_config(a.model, a.llama, a.prompts);
  if (!cfg) return cfg.error();
  auto opened = open_llamacpp_engine(*cfg);
  if (!opened) return opened.error();
  return replay_served(a, **opened, ReplayTarget{"llamacpp", a.model}, plan, slo, start_sampler);
}

// --rates goes with --engine openai and fixed lengths; --duration and --idle-gap only with --rates.
Status check_sweep_options(const ReplayOptions& a) {
  if (a.rates_rps.empty()) {
    if (a.duration_s) return usage("--duration needs --rates");
    if (a.idle_gap_given) return usage("--idle-gap needs --rates");
    return {};
  }
  if (a.engine != "openai") return usage("--rates needs --engine openai");
  if (a.poisson_rps) return usage("give --rates or --poisson, not both");
  if (!a.trace.empty()) return usage("--rates sends fixed lengths: drop --trace");
  if (a.duration_s && a.requests_given) return usage("give --requests or --duration per rate, not both");
  if (!(a.idle_gap_s >= 0)) return usage("--idle-gap must be >= 0 s");
  return {};
}

Result<std::vector<RatePhase>> sweep_phases(const ReplayOptions& a, OpenAiClient& client) {
  RateSweepSpec spec;
  spec.rates_rps = a.rates_rps;
  spec.gamma_cv = a.gamma_cv;
  if (a.duration_s)
    spec.duration_s = a.duration_s;
  else
    spec.requests = a.requests;
  spec.input_tokens = a.input;
  spec.output_tokens = a.output;
  spec.seed = a.seed;
  auto phases = make_rate_phases(spec);
  if (!phases) return phases.error();
  // Text prompts of every phase are calibrated now (phase k's requests use seed + k, as
  // run_rate_sweep sends them), before anything is measured.
  std::vector<TextPromptKey> keys;
  for (std::size_t k = 0; k < phases->size(); ++k)
    for (std::size_t i = 0; i < (*phases)[k].schedule.size(); ++i)
      keys.push_back({a.seed + k, i, (*phases)[k].schedule[i].input_tokens});
  for (std::uint64_t i = 0; i < a.warmup; ++i)  // the warm-up requests' prompts (seed + phases)
    keys.push_back({a.seed + phases->size(), i, (*phases)[0].schedule.front().input_tokens});
  if (auto st = client.prepare_text_prompts(keys); !st) return not_usage(st.error());
  return phases;
}

// One phase of a sweep as JSON (without its per-request list).
nlohmann::json phase_json(const ReplayOptions& a, const SweepPhaseRun& p, const LoadgenSummary& s,
                          const SweepPhaseEnergy& e, double origin) {
  nlohmann::json pj = load_json(s, a.slo);
  pj["name"] = p.name;
  pj["rate_rps"] = p.rate_rps;
  pj["start_s"] = p.run.start_s - origin;
  pj["end_s"] = p.run.end_s - origin;
  pj["gap_start_s"] = p.gap_start_s - origin;
  pj["gap_end_s"] = p.gap_end_s - origin;
  pj["energy_j"] = e.energy_j;
  pj["active_energy_j"] = e.active.energy_j;
  pj["gap_energy_j"] = e.gap ? nlohmann::json(e.gap->energy_j) : nlohmann::json(nullptr);
  pj["uncertainty_j"] = e.uncertainty_j;
  pj["energy_source"] = e.energy_source;
  pj["estimated"] = e.estimated;
  pj["below_resolution"] = e.below_resolution;
  pj["above_idle_j"] = opt_json(e.above_idle_j);
  pj["energy_per_request_j"] = per(e.energy_j, s.ok);
  pj["energy_per_output_token_j"] = per(e.energy_j, s.output_tokens);
  return pj;
}

nlohmann::json sweep_warmup_json(const RateSweepRun& run) {
  std::size_t failed = 0;
  if (run.warmup)
    for (const auto& q : run.warmup->requests) failed += q.result.ok ? 0 : 1;
  return {{"requests", run.warmup ? run.warmup->requests.size() : 0},
          {"failed", failed},
          {"note", "sent at the first rate before the first phase; not measured, not stored"}};
}

// The sweep's JSON: every phase (each a measurement of its own: one whose failed share is
// above the allowed rate fails the sweep; warm-up requests are neither measured nor counted).
Result<ReplayResult> sweep_result(const ReplayOptions& a, const RateSweepRun& run, const Measurement& m,
                                  const Slo& slo) {
  const double origin = run.phases.front().run.start_s;
  ReplayResult r{"rate-sweep", nlohmann::json::object(), {}, a.max_failure_rate};
  nlohmann::json phases = nlohmann::json::array();
  std::size_t total = 0, ok = 0, failed = 0;
  for (const auto& p : run.phases) {
    auto e = sweep_phase_energy(m, p);
    if (!e) return e.error();
    const LoadgenSummary s = summarize_load(p.run, slo);
    total += s.requests;
    ok += s.ok;
    failed += s.failed;
    nlohmann::json pj = phase_json(a, p, s, *e, origin);
    const FailureShare fs = failure_share(p.run, a.max_failure_rate);
    pj["failure_rate"] = fs.share;
    pj["failures"] = fs.reasons;
    if (fs.over) r.over.push_back(excess("phase " + p.name, fs));
    phases.push_back(std::move(pj));
  }
  r.json = {{"engine", "openai"},
            {"url", a.openai->url},
            {"mode", "rate-sweep"},
            {"rates_rps", a.rates_rps},
            {"idle_gap_s", a.idle_gap_s},
            {"gap_placement", "after each phase; a phase's energy_j includes its gap"},
            {"warmup", sweep_warmup_json(run)},
            {"requests_per_rate", a.duration_s ? nlohmann::json(nullptr) : nlohmann::json(a.requests)},
            {"duration_per_rate_s", opt_json(a.duration_s)},
            {"requests", total},
            {"ok", ok},
            {"failed", failed},
            {"max_failure_rate", a.max_failure_rate},
            {"within_max_failure_rate", r.over.empty()},
            {"slo", a.slo},
            {"energy_j", m.total.energy_j},
            {"energy_source", m.total.energy_source},
            {"estimated", m.total.estimated},
            {"measurement", to_json(m)},
            {"phases", phases}};
  return r;
}

// --rates: one phase per rate, each followed by an idle gap.
// One rate-sweep phase's energy per request: its interval and its idle gap, sliced at the
// meter's own marks (so its requests and its idle add up to the phase's energy_j).
Result<RunAttribution> attribute_phase(const ReplayOptions& a, const Meter& meter, const Metering& mt,
                                       const Measurement& m, const SweepPhaseRun& phase, const TokenCostModel& cost) {
  std::vector<SliceSpan> spans;
  auto active = meter.phase_span(phase.name);
  if (!active) return active.error();
  spans.push_back(std::move(*active));
  if (!phase.gap_name.empty()) {
    auto gap = meter.phase_span(phase.gap_name);
    if (!gap) return gap.error();
    spans.push_back(std::move(*gap));
  }
  AttributionOptions ao;
  if (auto policy = parse_idle_policy(a.idle_policy)) ao.idle_policy = *policy;  // checked in run_replay
  auto e = sweep_phase_energy(m, phase);
  if (mt.idle && e && e->above_idle_j) ao.idle_power_w = mt.idle->total_power_w;
  return attribute_run(*mt.sampler, spans, phase.run, cost, ao);
}

Result<ReplayResult> replay_sweep(const ReplayOptions& a, OpenAiClient& client, const Slo& slo,
                                  const SamplerStarter& start_sampler) {
  std::optional<ModelInfo> info;
  if (auto arch = find_builtin_arch(a.model)) info = info_from_arch(*arch);
  auto cost = choose_cost_model(a.cost_model, info);
  if (!cost) return cost.error();
  auto phases = sweep_phases(a, client);
  if (!phases) return phases.error();
  SteadyClock clock;
  auto mt = start_metering(a, start_sampler, clock);
  if (!mt) return mt.error();
  Meter meter(*mt->sampler);
  if (mt->idle) meter.set_idle(*mt->idle);
  RateSweepOptions ro;
  ro.idle_gap_s = a.idle_gap_s;
  ro.warmup_requests = a.warmup;
  ro.loadgen.max_concurrency = a.max_concurrency;
  ro.loadgen.seed = a.seed;
  auto run = run_rate_sweep(client, *phases, ro, clock, &meter);
  auto m = meter.stop();
  mt->sampler->stop();
  if (!run) return run.error();
  if (!m) return m.error();
  auto r = sweep_result(a, *run, *m, slo);
  if (!r) return r.error();
  // Each phase attributed over its own interval and its idle gap (its energy_j exactly).
  std::vector<std::optional<RunAttribution>> split(run->phases.size());
  for (std::size_t k = 0; k < run->phases.size(); ++k) {
    auto at = attribute_phase(a, meter, *mt, *m, run->phases[k], *cost);
    if (at) {
      split[k] = std::move(*at);
      r->json["phases"][k]["attribution"] = attribution_json(*split[k], run->phases[k].run);
    } else {
      r->json["phases"][k]["attribution"] = nullptr;
      r->json["phases"][k]["attribution_error"] = at.error().to_string();
    }
  }
  std::vector<const RunAttribution*> splits;
  for (const auto& s : split) splits.push_back(s ? &*s : nullptr);
  if (!a.store.empty()) {
    std::vector<StoredPhase> sp;
    for (const auto& p : run->phases) sp.push_back({p.name, &p.run});
    if (auto st = store_replay(a, ReplayTarget{"openai", a.openai->url, {}}, "rate-sweep", sp, r->json, splits); !st)
      return st.error();
  }
  const double origin = run->phases.front().run.start_s;
  for (std::size_t k = 0; k < run->phases.size(); ++k) {
    r->json["phases"][k]["per_request"] = per_request_json(run->phases[k].run, origin, {});
    add_request_energy(r->json["phases"][k]["per_request"], splits[k]);
  }
  return r;
}

Result<ReplayResult> replay_openai(const ReplayOptions& a, const BuiltSchedule& built, const Slo& slo,
                                   const SamplerStarter& start_sampler) {
  if (!a.openai || a.openai->url.empty()) return usage("--url is required with --engine openai");
  if (a.offline_compare) return usage("--offline-compare needs --engine llamacpp");
  OpenAiConfig oc = *a.openai;
  oc.model = a.model;
  auto engine = OpenAiEngine::open(oc);
  if (!engine) return usage(engine.error().message);
  if (!a.rates_rps.empty()) return replay_sweep(a, (*engine)->client(), slo, start_sampler);
  // Text prompts are calibrated through the server's /tokenize now, before the schedule
  // starts (serve() finds them prepared).
  std::vector<TextPromptKey> keys;
  const std::vector<ScheduledRequest>& schedule = built.requests;
  for (std::size_t i = 0; i < schedule.size(); ++i) keys.push_back({a.seed, i, schedule[i].input_tokens});
  if (auto st = (*engine)->client().prepare_text_prompts(keys); !st) return not_usage(st.error());
  // Sent open-loop at the schedule's times, at most max_concurrency in flight (none: every
  // request may be); a failed request is a result of the run, not an error.
  ServePlan plan;
  plan.requests = serve_requests(a, schedule);
  plan.in_process = false;
  plan.groups = built.groups;
  // By default a built-in architecture's FLOPs per token when the served name is one; else
  // equal cost per token.
  std::optional<ModelInfo> info;
  if (auto arch = find_builtin_arch(a.model)) info = info_from_arch(*arch);
  auto cost = choose_cost_model(a.cost_model, info);
  if (!cost) return cost.error();
  plan.cost_model = std::move(*cost);
  plan.options.max_batch = static_cast<std::uint32_t>(
      std::min<std::size_t>(a.max_concurrency.value_or(schedule.size()), std::numeric_limits<std::uint32_t>::max()));
  plan.options.fail_on_request_failure = false;
  return replay_served(a, **engine, ReplayTarget{"openai", a.openai->url}, plan, slo, start_sampler);
}

}  // namespace

Result<ReplayResult> run_replay(const ReplayOptions& a, const SamplerStarter& start_sampler) {
  if (a.engine != "openai" && a.engine != "llamacpp")
    return usage(fmt::format("unknown engine '{}' (openai, llamacpp)", a.engine));
  if (a.input == 0 || a.output == 0 || a.requests == 0)
    return usage("--input, --output-tokens and --requests must be >= 1");
  if (!(a.max_failure_rate >= 0.0 && a.max_failure_rate <= 1.0)) return usage("--max-failure-rate must be in [0, 1]");
  auto slo = parse_slo(a.slo);
  if (!slo) return usage(slo.error().message);
  if (auto st = check_sweep_options(a); !st) return st.error();
  if (auto policy = parse_idle_policy(a.idle_policy); !policy) return usage("--idle-policy: " + policy.error().message);
  if (a.idle_policy != "none" && a.offline_compare)
    return usage("--idle-policy: energy per request is not attributed with --offline-compare yet");
  if (!a.store.empty())  // fail before measuring when the store cannot be written
    if (auto st = study::Store::open(a.store); !st) return st.error();
  BuiltSchedule schedule;
  if (!a.group_by.empty() && (!a.rates_rps.empty() || a.offline_compare))
    return usage("--group-by: energy per request is not attributed with --rates or --offline-compare yet");
  if (!a.cost_model.empty() && a.offline_compare)
    return usage("--cost-model: energy per request is not attributed with --offline-compare yet");
  if (auto st = estimate::validate(a.carbon); !st) return usage(st.error().message);
  if (a.rates_rps.empty()) {
    auto built = build_schedule(a);
    if (!built) return built.error();
    schedule = std::move(*built);
  }
  if (a.engine == "llamacpp") return replay_llamacpp(a, schedule, *slo, start_sampler);
  return replay_openai(a, schedule, *slo, start_sampler);
}

}  // namespace jouleperf::study
