// jouleperf replay: open-loop load (Poisson/gamma at a rate, or a trace replayed) on an
// OpenAI-compatible server or served in-process by llama.cpp with continuous or static
// batching, with latency percentiles, goodput under an SLO and the energy of the run
// from the chosen sensors (optionally against the same requests batched offline).
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "commands.hpp"
#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/rate_sweep.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/loader.hpp"
#include "openai_flags.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

struct ReplayArgs {
  SensorFlags flags;
  std::string engine = "openai";
  OpenAiFlags openai;
  std::string model;
  std::optional<double> poisson_rps;
  std::optional<double> gamma_cv;
  std::size_t requests = 100;
  std::string trace;
  double speed = 1.0;
  std::optional<double> from_s;
  std::optional<double> to_s;
  std::uint64_t input = 128;
  std::uint64_t output = 32;
  std::optional<std::size_t> max_concurrency;
  std::string slo;
  std::uint64_t seed = 1;
  double idle_s = 0.0;
  std::optional<double> idle_power_w;
  bool json = false;
  double max_failure_rate = 0.0;  // failed share of the requests above this: exit 1
  // --engine llamacpp
  PromptFlags prompts;  // request i takes prompt i mod n
  std::string batching = "continuous";
  std::uint32_t max_batch = 8;
  double static_wait_s = 0.0;
  bool offline_compare = false;
  std::uint64_t warmup = 1;
  int threads = 0;
  int threads_batch = 0;
  std::string flash_attn = "auto";
  std::string kv_type = "f16";
  std::uint32_t n_batch = 2048;
  std::uint32_t n_ubatch = 512;
  int gpu_layers = -1;
  // Rate sweeps (--rates) and the results store (--store).
  std::vector<double> rates_rps;
  double idle_gap_s = 5.0;
  std::optional<double> duration_s;
  bool requests_given = false;
  bool idle_gap_given = false;
  std::string store;
};

nlohmann::json pct_json(const Percentiles& p) {
  return {{"n", p.n}, {"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

Result<std::vector<ScheduledRequest>> build_schedule(const ReplayArgs& a) {
  std::vector<ScheduledRequest> out;
  if (!a.trace.empty()) {
    std::vector<workload::TimedRequest> timed;
    auto sum = workload::load_trace(a.trace, workload::LoadOptions{}, [&](const workload::Request& r) {
      if (r.arrival_s)
        timed.push_back(
            {*r.arrival_s, static_cast<std::uint32_t>(r.input_tokens), static_cast<std::uint32_t>(r.output_tokens)});
    });
    if (!sum) return sum.error();
    if (!sum->has_arrivals) return make_error(Errc::kInvalidArgument, "trace " + a.trace + " has no arrival times");
    workload::ReplayOptions ro;
    ro.speed = a.speed;
    ro.from_s = a.from_s;
    ro.to_s = a.to_s;
    auto rep = workload::replay(timed, ro);
    if (!rep) return rep.error();
    for (const auto& t : *rep) {
      if (out.size() >= a.requests) break;
      out.push_back(
          {t.arrival_s, std::max<std::uint64_t>(1, t.input_tokens), std::max<std::uint64_t>(1, t.output_tokens)});
    }
    return out;
  }
  if (!a.poisson_rps)
    return make_error(Errc::kInvalidArgument, "give --poisson RATE (with --requests N) or --trace FILE");
  std::mt19937_64 rng(a.seed);
  auto times = a.gamma_cv ? workload::gamma_arrivals(*a.poisson_rps, *a.gamma_cv, a.requests, rng)
                          : workload::poisson_arrivals(*a.poisson_rps, a.requests, rng);
  if (!times) return times.error();
  for (double t : *times) out.push_back({t, a.input, a.output});
  return out;
}

// What a run used, for the report: the openai server or the in-process engine.
struct ReplayTarget {
  std::string engine;                               // "openai" or "llamacpp"
  std::string where;                                // URL or model path
  nlohmann::json extra = nlohmann::json::object();  // engine-specific keys merged into the JSON
};

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// Energy figures of one run: total, per successful request, per output token, above idle.
struct EnergyFigures {
  double energy_j = 0;
  std::optional<double> per_request_j, per_output_token_j, above_idle_j;
};

EnergyFigures energy_figures(const Measurement& m, std::size_t ok, std::uint64_t output_tokens) {
  EnergyFigures f;
  f.energy_j = m.total.energy_j;
  if (ok) f.per_request_j = f.energy_j / static_cast<double>(ok);
  if (output_tokens) f.per_output_token_j = f.energy_j / static_cast<double>(output_tokens);
  f.above_idle_j = m.total.above_idle_j;
  return f;
}

// Failures are failures: the failed share of a run's (or phase's) requests, with every
// failed request's reason, against --max-failure-rate.
struct FailureShare {
  std::size_t requests = 0, failed = 0;
  double share = 0.0;                                // failed / requests, in [0, 1]
  bool over = false;                                 // share > the allowed rate
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

// Says on stderr that `what` failed too often; kExitFailure.
int too_many_failures(const std::string& what, const FailureShare& f, double max_rate) {
  std::cerr << fmt::format(
      "jouleperf replay: {}: {} of {} requests failed ({:.1f}%), above --max-failure-rate {:g}; the figures above "
      "are not a measurement of the load asked\n",
      what, f.failed, f.requests, 100.0 * f.share, max_rate);
  for (const auto& r : f.reasons)
    std::cerr << "  FAILED request " << r["request"] << ": " << r["error"].get<std::string>() << "\n";
  return kExitFailure;
}

// Every request of a run, times from `origin_s` (clock seconds).
nlohmann::json per_request_json(const LoadgenRun& run, double origin_s, const std::vector<double>& admitted_s,
                                bool served) {
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
    if (served) {
      rj["admitted_s"] = admitted_s[i] - origin_s;
      rj["queue_s"] = admitted_s[i] - r.send_s;
    }
    reqs.push_back(std::move(rj));
  }
  return reqs;
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

// One phase of a run, for the results store.
struct StoredPhase {
  std::string name;
  const LoadgenRun* run = nullptr;
};

// Writes the run and every request into --store (one transaction); "" = nothing to do.
Status store_replay(const ReplayArgs& a, const ReplayTarget& target, const std::string& kind,
                    const std::vector<StoredPhase>& phases, nlohmann::json info, const std::string& api_key);

int report(const ReplayArgs& a, const ReplayTarget& target, const LoadgenRun& run, const Measurement& m,
           const std::vector<double>& admitted_s, const Slo& slo, const std::string& api_key) {
  const LoadgenSummary s = summarize_load(run, slo);
  const EnergyFigures ef = energy_figures(m, s.ok, s.output_tokens);
  const bool served = target.engine == "llamacpp";
  nlohmann::json j = load_json(s, a.slo);
  j["engine"] = target.engine;
  j["url"] = served ? nlohmann::json(nullptr) : nlohmann::json(redact_url(target.where));
  j["energy_j"] = ef.energy_j;
  j["energy_source"] = m.total.energy_source;
  j["estimated"] = m.total.estimated;
  j["energy_per_request_j"] = opt_json(ef.per_request_j);
  j["energy_per_output_token_j"] = opt_json(ef.per_output_token_j);
  j["above_idle_j"] = opt_json(ef.above_idle_j);
  j["measurement"] = to_json(m);
  const FailureShare fs = failure_share(run, a.max_failure_rate);
  j["failure_rate"] = fs.share;
  j["max_failure_rate"] = a.max_failure_rate;
  j["failures"] = fs.reasons;
  j["within_max_failure_rate"] = !fs.over;
  for (const auto& [k, v] : target.extra.items()) j[k] = v;
  if (!a.store.empty()) {
    if (auto st = store_replay(a, target, "replay", {{"replay", &run}}, j, api_key); !st) {
      std::cerr << "jouleperf replay: " << st.error().to_string() << "\n";
      return kExitFailure;
    }
  }
  if (a.json) {
    j["per_request"] = per_request_json(run, run.start_s, admitted_s, served);
    std::cout << j.dump(2) << "\n";
    return fs.over ? too_many_failures("replay", fs, a.max_failure_rate) : kExitOk;
  }
  auto& o = std::cout;
  o << fmt::format("\n replay on {}: {} requests, {} ok, {} failed, {} length mismatches, {:.3f} s\n",
                   redact_url(target.where), s.requests, s.ok, s.failed, s.mismatched, s.duration_s);
  if (served)
    o << fmt::format(
        "  llamacpp, {} batching, max batch {}: {} forwards, {:.2f} sequences per step (peak {}), "
        "busy {:.3f} s\n",
        target.extra["batching"].get<std::string>(), a.max_batch, target.extra["forwards"].get<std::uint64_t>(),
        target.extra["mean_batch"].get<double>(), target.extra["peak_batch"].get<std::uint64_t>(),
        target.extra["busy_s"].get<double>());
  o << fmt::format("  throughput {:.2f} req/s, {:.1f} output tokens/s; goodput {:.2f} req/s ({} met the SLO '{}')\n",
                   s.throughput_rps, s.output_tokens_per_s, s.goodput_rps, s.slo_met, a.slo);
  o << fmt::format("  {:<14} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "", "mean", "p50", "p90", "p99", "max");
  for (const auto& [name, p] : {std::pair<const char*, const Percentiles*>{"ttft_s", &s.ttft_s},
                                {"tpot_s", &s.tpot_s},
                                {"itl_s", &s.itl_s},
                                {"e2e_s", &s.e2e_s},
                                {"send_late_s", &s.lateness_s}})
    o << fmt::format("  {:<14} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f}\n", name, p->mean, p->p50, p->p90,
                     p->p99, p->max);
  o << fmt::format("  energy {:.3f} J [{}{}]", ef.energy_j, m.total.energy_source,
                   m.total.estimated ? ", ESTIMATED" : "");
  if (ef.per_request_j) o << fmt::format(", {:.3f} J/request", *ef.per_request_j);
  if (ef.per_output_token_j) o << fmt::format(", {:.4f} J/output token", *ef.per_output_token_j);
  if (ef.above_idle_j) o << fmt::format(", {:.3f} J above idle", *ef.above_idle_j);
  o << "\n";
  if (served && target.extra.contains("offline")) {
    const auto& off = target.extra["offline"];
    o << fmt::format(
        "  offline (all at t=0, static batches of {}): {:.3f} s, energy {:.3f} J, {:.3f} J/request, "
        "{:.4f} J/output token; online/offline energy {:.2f}x\n",
        a.max_batch, off["duration_s"].get<double>(), off["energy_j"].get<double>(),
        off["energy_per_request_j"].get<double>(), off["energy_per_output_token_j"].get<double>(),
        off["energy_j"].get<double>() > 0 ? ef.energy_j / off["energy_j"].get<double>() : 0.0);
  }
  if (served) {
    o << "\n  request  arrival_s  queue_s    ttft_s     e2e_s      output_tokens\n";
    for (std::size_t i = 0; i < run.requests.size(); ++i) {
      const auto& r = run.requests[i].result;
      o << fmt::format("  {:<8} {:<10.4f} {:<10.4f} {:<10.4f} {:<10.4f} {}\n", i, r.send_s - run.start_s,
                       admitted_s[i] - r.send_s, r.ttft_s(), r.e2e_s(), r.output_tokens);
    }
  }
  for (const auto& q : run.requests)
    if (!q.result.ok) o << "  FAILED request " << q.result.tag << ": " << q.result.error << "\n";
  if (fs.failed > 0)
    o << fmt::format("  failure share {:.1f}% ({} of {}), allowed {:g}\n", 100.0 * fs.share, fs.failed, fs.requests,
                     a.max_failure_rate);
  if (m.total.estimated)
    o << "\n  Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.\n";
  o << "\n";
  return fs.over ? too_many_failures("replay", fs, a.max_failure_rate) : kExitOk;
}

// A served run in the load generator's shape, so both engines share the summary.
LoadgenRun as_loadgen_run(const ServeResult& sr, const std::vector<ServeRequest>& reqs) {
  LoadgenRun run;
  run.start_s = sr.start_s;
  run.end_s = sr.end_s;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const ServedRequest& q = sr.requests[i];
    LoadgenRequest lr;
    lr.scheduled_s = q.arrival_s;
    lr.lateness_s = 0.0;  // in-process: a request arrives exactly on schedule; its wait is queue_s
    OpenAiResult& r = lr.result;
    r.tag = i;
    r.ok = true;
    r.input_tokens_asked = reqs[i].input_tokens;
    r.output_tokens_asked = reqs[i].output_tokens;
    r.output_tokens = q.output_tokens;
    if (q.output_tokens != reqs[i].output_tokens)
      r.mismatch = fmt::format("{} output tokens, {} asked", q.output_tokens, reqs[i].output_tokens);
    r.send_s = q.arrival_s;
    r.token_s = q.token_s;
    r.end_s = q.end_s;
    run.requests.push_back(std::move(lr));
  }
  return run;
}

// The idle baseline asked for (--idle-power, or --idle measured now), if any.
Result<std::optional<IdleBaseline>> idle_baseline(const ReplayArgs& a, Sampler& sampler) {
  if (a.idle_power_w) return std::optional<IdleBaseline>(given_idle(Watts(*a.idle_power_w)));
  if (a.idle_s > 0) {
    auto idle = measure_idle(sampler, Seconds(a.idle_s));
    if (!idle) return idle.error();
    return std::optional<IdleBaseline>(std::move(*idle));
  }
  return std::optional<IdleBaseline>();
}

// The idle baseline asked for, also given to `meter`; on failure the sampler is stopped.
Result<std::optional<IdleBaseline>> meter_idle_baseline(const ReplayArgs& a, Sampler& sampler, Meter& meter) {
  auto idle = idle_baseline(a, sampler);
  if (!idle) {
    sampler.stop();
    return idle.error();
  }
  if (*idle) meter.set_idle(**idle);
  return idle;
}

int fail(const Error& e) {
  std::cerr << "jouleperf replay: " << e.to_string() << "\n";
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

int run_replay_llamacpp(const ReplayArgs& a, const std::vector<ScheduledRequest>& schedule, const Slo& slo) {
  if (a.model.empty()) {
    std::cerr << "jouleperf replay: --model FILE (a GGUF) is required with --engine llamacpp\n";
    return kExitUsage;
  }
  auto batching = parse_batching(a.batching);
  auto flash = parse_flash_attention(a.flash_attn);
  for (const Error* e : {batching ? nullptr : &batching.error(), flash ? nullptr : &flash.error()}) {
    if (e != nullptr) {
      std::cerr << "jouleperf replay: " << e->message << "\n";
      return kExitUsage;
    }
  }
  std::vector<ServeRequest> reqs;
  for (const auto& q : schedule) reqs.push_back({q.at_s, q.input_tokens, q.output_tokens, a.seed});
  ServeOptions so;
  so.batching = *batching;
  so.max_batch = a.max_batch;
  so.static_wait_s = a.static_wait_s;
  if (auto st = validate_serve(reqs, so); !st) return fail(st.error());

  LlamaEngineConfig cfg;
  cfg.model_path = a.model;
  cfg.threads = a.threads;
  cfg.threads_batch = a.threads_batch;
  cfg.flash_attention = *flash;
  cfg.kv_type = a.kv_type;
  cfg.n_batch = a.n_batch;
  cfg.n_ubatch = a.n_ubatch;
  cfg.gpu_layers = a.gpu_layers;
  auto prompt_texts = load_prompt_flags(a.prompts);
  if (!prompt_texts) return fail(prompt_texts.error());
  cfg.prompts = std::move(*prompt_texts);
  auto opened = open_llamacpp_engine(cfg);
  if (!opened) return fail(opened.error());
  Engine& engine = **opened;
  SteadyClock clock;
  // Warm-up: the first request alone, unmeasured (it also sizes the context for all).
  std::vector<ServeRequest> all_at_zero = reqs;
  for (auto& r : all_at_zero) r.arrival_s = 0.0;
  for (std::uint64_t i = 0; i < a.warmup; ++i) {
    ServeOptions wo = so;
    auto w = engine.serve({all_at_zero.front()}, wo, clock, nullptr);
    if (!w) return fail(w.error());
  }

  auto sampler_ptr = start_sampler(a.flags, clock, "replay");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  auto idle = meter_idle_baseline(a, sampler, meter);
  if (!idle) return fail(idle.error());
  auto served = engine.serve(reqs, so, clock, &meter);
  auto m = meter.stop();
  if (!served) {
    sampler.stop();
    return fail(served.error());
  }
  if (!m) {
    sampler.stop();
    return fail(m.error());
  }
  ReplayTarget target{"llamacpp", a.model, nlohmann::json::object()};
  const EngineInfo& info = engine.info();
  target.extra["model"] = info.model;
  target.extra["model_path"] = info.model_path;
  target.extra["synthetic_model"] = info.synthetic_model;
  target.extra["engine_version"] = info.version;
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : info.settings) settings[k] = v;
  target.extra["settings"] = settings;
  target.extra["batching"] = std::string(batching_name(so.batching));
  target.extra["max_batch"] = so.max_batch;
  target.extra["static_wait_s"] = so.static_wait_s;
  target.extra["forwards"] = served->forwards;
  target.extra["mean_batch"] = served->mean_batch;
  target.extra["peak_batch"] = served->peak_batch;
  target.extra["busy_s"] = served->busy_s;

  if (a.offline_compare) {
    // The same requests all at t=0, static batches of max_batch: the offline figure.
    ServeOptions off = so;
    off.batching = BatchingMode::kStatic;
    off.static_wait_s = 0.0;
    Meter meter2(sampler);
    if (*idle) meter2.set_idle(**idle);
    auto offline = engine.serve(all_at_zero, off, clock, &meter2);
    auto m2 = meter2.stop();
    if (!offline) {
      sampler.stop();
      return fail(offline.error());
    }
    if (!m2) {
      sampler.stop();
      return fail(m2.error());
    }
    std::uint64_t out_tokens = 0;
    for (const auto& q : offline->requests) out_tokens += q.output_tokens;
    const EnergyFigures f = energy_figures(*m2, offline->requests.size(), out_tokens);
    std::vector<double> e2e;
    for (const auto& q : offline->requests) e2e.push_back(q.e2e_s());
    target.extra["offline"] = {{"batching", "static"},
                               {"max_batch", off.max_batch},
                               {"duration_s", offline->end_s - offline->start_s},
                               {"forwards", offline->forwards},
                               {"e2e_s", pct_json(percentiles(e2e))},
                               {"energy_j", f.energy_j},
                               {"energy_source", m2->total.energy_source},
                               {"estimated", m2->total.estimated},
                               {"energy_per_request_j", opt_json(f.per_request_j)},
                               {"energy_per_output_token_j", opt_json(f.per_output_token_j)},
                               {"above_idle_j", opt_json(f.above_idle_j)}};
  }
  sampler.stop();
  std::vector<double> admitted;
  for (const auto& q : served->requests) admitted.push_back(q.admitted_s);
  return report(a, target, as_loadgen_run(*served, reqs), *m, admitted, slo, "");
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

Status store_replay(const ReplayArgs& a, const ReplayTarget& target, const std::string& kind,
                    const std::vector<StoredPhase>& phases, nlohmann::json info, const std::string& api_key) {
  auto store = study::Store::open(a.store);
  if (!store) return store.error();
  study::RunRecord rec;
  rec.run_id = new_run_id(kind);
  rec.kind = kind;
  rec.engine = target.engine;
  rec.target = scrub(target.engine == "openai" ? url_without_userinfo(target.where) : target.where, api_key);
  rec.model = a.model;
  rec.started_unix_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double origin = phases.empty() ? 0.0 : phases.front().run->start_s;
  std::vector<study::RequestRecord> reqs;
  for (const auto& ph : phases) {
    for (const auto& q : ph.run->requests) {
      const OpenAiResult& r = q.result;
      study::RequestRecord rr;
      rr.index = reqs.size();
      rr.phase = ph.name;
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
      reqs.push_back(std::move(rr));
    }
  }
  info.erase("per_request");
  if (info.contains("url") && info["url"].is_string()) info["url"] = rec.target;
  info["seed"] = a.seed;
  info["timeout_s"] = a.openai.timeout_s;
  info["request_deadline_s"] =
      a.openai.request_deadline_s ? nlohmann::json(*a.openai.request_deadline_s) : nlohmann::json("default");
  info["max_concurrency"] = a.max_concurrency ? nlohmann::json(*a.max_concurrency) : nlohmann::json(nullptr);
  // The key itself never; a server's echo of it is scrubbed from the whole document too.
  rec.info = nlohmann::json::parse(scrub(info.dump(), api_key));
  return store->put_run(rec, reqs);
}

// --rates goes with --engine openai and fixed lengths; --duration and --idle-gap only with --rates.
Status check_sweep_flags(const ReplayArgs& a) {
  if (a.rates_rps.empty()) {
    if (a.duration_s) return make_error(Errc::kInvalidArgument, "--duration needs --rates");
    if (a.idle_gap_given) return make_error(Errc::kInvalidArgument, "--idle-gap needs --rates");
    return {};
  }
  if (a.engine != "openai") return make_error(Errc::kInvalidArgument, "--rates needs --engine openai");
  if (a.poisson_rps) return make_error(Errc::kInvalidArgument, "give --rates or --poisson, not both");
  if (!a.trace.empty()) return make_error(Errc::kInvalidArgument, "--rates sends fixed lengths: drop --trace");
  if (a.duration_s && a.requests_given)
    return make_error(Errc::kInvalidArgument, "give --requests or --duration per rate, not both");
  if (!(a.idle_gap_s >= 0)) return make_error(Errc::kInvalidArgument, "--idle-gap must be >= 0 s");
  return {};
}

// --rates: one phase per rate, each followed by an idle gap; a table or JSON per phase.
int run_replay_sweep(const ReplayArgs& a, OpenAiClient& client, const Slo& slo, const std::string& api_key) {
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
  if (!phases) return fail(phases.error());
  // Text prompts of every phase are calibrated now (phase k's requests use seed + k, as
  // run_rate_sweep sends them), before anything is measured.
  std::vector<TextPromptKey> keys;
  for (std::size_t k = 0; k < phases->size(); ++k)
    for (std::size_t i = 0; i < (*phases)[k].schedule.size(); ++i)
      keys.push_back({a.seed + k, i, (*phases)[k].schedule[i].input_tokens});
  for (std::uint64_t i = 0; i < a.warmup; ++i)  // the warm-up requests' prompts (seed + phases)
    keys.push_back({a.seed + phases->size(), i, (*phases)[0].schedule.front().input_tokens});
  if (auto st = client.prepare_text_prompts(keys); !st) {
    std::cerr << "jouleperf replay: " << st.error().to_string() << "\n";
    return kExitFailure;
  }
  SteadyClock clock;
  auto sampler_ptr = start_sampler(a.flags, clock, "replay");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  auto idle = meter_idle_baseline(a, sampler, meter);
  if (!idle) return fail(idle.error());
  RateSweepOptions ro;
  ro.idle_gap_s = a.idle_gap_s;
  ro.warmup_requests = a.warmup;
  ro.loadgen.max_concurrency = a.max_concurrency;
  ro.loadgen.seed = a.seed;
  auto run = run_rate_sweep(client, *phases, ro, clock, &meter);
  auto m = meter.stop();
  sampler.stop();
  if (!run) return fail(run.error());
  if (!m) return fail(m.error());

  const double origin = run->phases.front().run.start_s;
  // The warm-up: not measured, not in any phase or the store; its failures are said.
  std::size_t warm_failed = 0;
  if (run->warmup)
    for (const auto& q : run->warmup->requests) warm_failed += q.result.ok ? 0 : 1;
  const nlohmann::json warmup_json = {
      {"requests", run->warmup ? run->warmup->requests.size() : 0},
      {"failed", warm_failed},
      {"note", "sent at the first rate before the first phase; not measured, not stored"}};
  struct Row {
    const SweepPhaseRun* p;
    LoadgenSummary s;
    SweepPhaseEnergy e;
  };
  std::vector<Row> rows;
  for (const auto& p : run->phases) {
    auto e = sweep_phase_energy(*m, p);
    if (!e) return fail(e.error());
    rows.push_back({&p, summarize_load(p.run, slo), std::move(*e)});
  }
  nlohmann::json jphases = nlohmann::json::array();
  std::size_t total = 0, ok = 0, failed = 0;
  // Each phase is a measurement of its own: a phase whose failed share is above the allowed
  // rate fails the sweep (warm-up requests are not measured and not counted).
  std::vector<std::pair<std::string, FailureShare>> over;
  for (const auto& r : rows) {
    total += r.s.requests;
    ok += r.s.ok;
    failed += r.s.failed;
    nlohmann::json pj = load_json(r.s, a.slo);
    FailureShare fs = failure_share(r.p->run, a.max_failure_rate);
    pj["failure_rate"] = fs.share;
    pj["failures"] = fs.reasons;
    if (fs.over) over.emplace_back(r.p->name, std::move(fs));
    pj["name"] = r.p->name;
    pj["rate_rps"] = r.p->rate_rps;
    pj["start_s"] = r.p->run.start_s - origin;
    pj["end_s"] = r.p->run.end_s - origin;
    pj["gap_start_s"] = r.p->gap_start_s - origin;
    pj["gap_end_s"] = r.p->gap_end_s - origin;
    pj["energy_j"] = r.e.energy_j;
    pj["active_energy_j"] = r.e.active.energy_j;
    pj["gap_energy_j"] = r.e.gap ? nlohmann::json(r.e.gap->energy_j) : nlohmann::json(nullptr);
    pj["uncertainty_j"] = r.e.uncertainty_j;
    pj["energy_source"] = r.e.energy_source;
    pj["estimated"] = r.e.estimated;
    pj["below_resolution"] = r.e.below_resolution;
    pj["above_idle_j"] = opt_json(r.e.above_idle_j);
    pj["energy_per_request_j"] =
        r.s.ok ? nlohmann::json(r.e.energy_j / static_cast<double>(r.s.ok)) : nlohmann::json(nullptr);
    pj["energy_per_output_token_j"] = r.s.output_tokens
                                          ? nlohmann::json(r.e.energy_j / static_cast<double>(r.s.output_tokens))
                                          : nlohmann::json(nullptr);
    jphases.push_back(std::move(pj));
  }
  nlohmann::json j = {{"engine", "openai"},
                      {"url", a.openai.url},
                      {"mode", "rate-sweep"},
                      {"rates_rps", a.rates_rps},
                      {"idle_gap_s", a.idle_gap_s},
                      {"gap_placement", "after each phase; a phase's energy_j includes its gap"},
                      {"warmup", warmup_json},
                      {"requests_per_rate", a.duration_s ? nlohmann::json(nullptr) : nlohmann::json(a.requests)},
                      {"duration_per_rate_s", opt_json(a.duration_s)},
                      {"requests", total},
                      {"ok", ok},
                      {"failed", failed},
                      {"max_failure_rate", a.max_failure_rate},
                      {"within_max_failure_rate", over.empty()},
                      {"slo", a.slo},
                      {"energy_j", m->total.energy_j},
                      {"energy_source", m->total.energy_source},
                      {"estimated", m->total.estimated},
                      {"measurement", to_json(*m)},
                      {"phases", jphases}};
  if (!a.store.empty()) {
    std::vector<StoredPhase> sp;
    for (const auto& p : run->phases) sp.push_back({p.name, &p.run});
    if (auto st = store_replay(a, ReplayTarget{"openai", a.openai.url, {}}, "rate-sweep", sp, j, api_key); !st) {
      std::cerr << "jouleperf replay: " << st.error().to_string() << "\n";
      return kExitFailure;
    }
  }
  if (a.json) {
    for (std::size_t k = 0; k < rows.size(); ++k)
      j["phases"][k]["per_request"] = per_request_json(rows[k].p->run, origin, {}, false);
    std::cout << j.dump(2) << "\n";
    int rc = kExitOk;
    for (const auto& [name, fs] : over) rc = too_many_failures("phase " + name, fs, a.max_failure_rate);
    return rc;
  }
  auto& o = std::cout;
  o << fmt::format("\n rate sweep on {}: {} rates, {} requests, {} ok, {} failed; idle gap {:g} s after each phase\n",
                   a.openai.url, rows.size(), total, ok, failed, a.idle_gap_s);
  if (run->warmup)
    o << fmt::format("  warm-up: {} requests before the first phase (not measured), {} failed\n",
                     run->warmup->requests.size(), warm_failed);
  o << fmt::format(
      "  {:<12} {:>7} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}\n", "phase",
      "rps", "ok", "fail", "dur_s", "tput", "goodput", "ttft50", "ttft99", "tpot50", "e2e99", "late99", "energy_J",
      "gap_J", "J/req", "J/tok");
  for (const auto& r : rows) {
    const double jreq = r.s.ok ? r.e.energy_j / static_cast<double>(r.s.ok) : 0.0;
    const double jtok = r.s.output_tokens ? r.e.energy_j / static_cast<double>(r.s.output_tokens) : 0.0;
    o << fmt::format(
        "  {:<12} {:>7.3g} {:>5} {:>5} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} "
        "{:>9.3f} {:>9.3f} {:>9.4f} {:>9.5f}\n",
        r.p->name, r.p->rate_rps, r.s.ok, r.s.failed, r.s.duration_s, r.s.throughput_rps, r.s.goodput_rps,
        r.s.ttft_s.p50, r.s.ttft_s.p99, r.s.tpot_s.p50, r.s.e2e_s.p99, r.s.lateness_s.p99, r.e.energy_j,
        r.e.gap ? r.e.gap->energy_j : 0.0, jreq, jtok);
  }
  o << fmt::format(
      "  energy [{}{}]: energy_J = the phase + its idle gap; J/req and J/tok divide energy_J by the\n"
      "  successful requests and their output tokens. Percentiles: successful requests, seconds.\n",
      m->total.energy_source, m->total.estimated ? ", ESTIMATED" : "");
  for (const auto& r : rows)
    for (const auto& q : r.p->run.requests)
      if (!q.result.ok) o << "  FAILED " << r.p->name << " request " << q.result.tag << ": " << q.result.error << "\n";
  if (m->total.estimated)
    o << "\n  Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.\n";
  o << "\n";
  int rc = kExitOk;
  for (const auto& [name, fs] : over) rc = too_many_failures("phase " + name, fs, a.max_failure_rate);
  return rc;
}

int run_replay(const ReplayArgs& a) {
  if (a.engine != "openai" && a.engine != "llamacpp") {
    std::cerr << "jouleperf replay: unknown engine '" << a.engine << "' (openai, llamacpp)\n";
    return kExitUsage;
  }
  if (!(a.max_failure_rate >= 0.0 && a.max_failure_rate <= 1.0)) {
    std::cerr << "jouleperf replay: --max-failure-rate must be in [0, 1]\n";
    return kExitUsage;
  }
  if (const auto why = prompt_flags_refusal(a.prompts, a.engine); !why.empty()) {
    std::cerr << "jouleperf replay: " << why << "\n";
    return kExitUsage;
  }
  auto slo = parse_slo(a.slo);
  if (!slo) {
    std::cerr << "jouleperf replay: " << slo.error().to_string() << "\n";
    return kExitUsage;
  }
  const bool sweep = !a.rates_rps.empty();
  if (auto st = check_sweep_flags(a); !st) return fail(st.error());
  if (!a.store.empty()) {
    // Fail before measuring when the store cannot be written.
    if (auto st = study::Store::open(a.store); !st) return fail(st.error());
  }
  std::vector<ScheduledRequest> schedule;
  if (!sweep) {
    auto built = build_schedule(a);
    if (!built) {
      std::cerr << "jouleperf replay: " << built.error().to_string() << "\n";
      return built.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
    }
    schedule = std::move(*built);
  }
  if (a.engine == "llamacpp") return run_replay_llamacpp(a, schedule, *slo);
  if (a.openai.url.empty()) {
    std::cerr << "jouleperf replay: --url is required with --engine openai\n";
    return kExitUsage;
  }
  if (a.offline_compare) {
    std::cerr << "jouleperf replay: --offline-compare needs --engine llamacpp\n";
    return kExitUsage;
  }
  auto oc = openai_config(a.openai);
  if (!oc) {
    std::cerr << "jouleperf replay: " << oc.error().to_string() << "\n";
    return kExitUsage;
  }
  oc->model = a.model;
  auto client = OpenAiClient::open(*oc);
  if (!client) {
    std::cerr << "jouleperf replay: " << client.error().to_string() << "\n";
    return kExitUsage;
  }
  if (sweep) return run_replay_sweep(a, **client, *slo, oc->api_key);
  // Text prompts are calibrated through the server's /tokenize now, before the schedule starts.
  std::vector<TextPromptKey> keys;
  for (std::size_t i = 0; i < schedule.size(); ++i) keys.push_back({a.seed, i, schedule[i].input_tokens});
  if (auto st = (*client)->prepare_text_prompts(keys); !st) {
    std::cerr << "jouleperf replay: " << st.error().to_string() << "\n";
    return kExitFailure;
  }
  SteadyClock clock;
  auto sampler_ptr = start_sampler(a.flags, clock, "replay");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  auto idle = meter_idle_baseline(a, sampler, meter);
  if (!idle) return fail(idle.error());
  LoadgenOptions lo;
  lo.max_concurrency = a.max_concurrency;
  lo.seed = a.seed;
  auto run = run_open_loop(**client, schedule, lo, clock, &meter);
  auto m = meter.stop();
  sampler.stop();
  if (!run) {
    std::cerr << "jouleperf replay: " << run.error().to_string() << "\n";
    return kExitFailure;
  }
  if (!m) {
    std::cerr << "jouleperf replay: " << m.error().to_string() << "\n";
    return kExitFailure;
  }
  return report(a, ReplayTarget{"openai", a.openai.url, nlohmann::json::object()}, *run, *m, {}, *slo, oc->api_key);
}

}  // namespace

void add_replay_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Open-loop load on an OpenAI-compatible server or served in-process by llama.cpp, with latency and energy");
  add_sensor_flags(cmd, a->flags);
  cmd->add_option("--engine", a->engine, "Engine: openai (a server), llamacpp (in-process, online batching)")
      ->capture_default_str();
  add_openai_flags(cmd, a->openai);
  add_prompt_flags(cmd, a->prompts);
  cmd->add_option("--model,-m", a->model, "openai: the served model name; llamacpp: the GGUF model file");
  cmd->add_option("--poisson", a->poisson_rps, "Poisson arrivals at RATE requests/s")->check(CLI::PositiveNumber);
  cmd->add_option("--gamma-cv", a->gamma_cv, "With --poisson: gamma arrivals with this coefficient of variation")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--requests,-n", a->requests, "Requests to send (the most taken from a trace)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--trace", a->trace, "Replay this trace's arrivals and lengths");
  cmd->add_option("--speed", a->speed, "Trace time compression (2 = twice as fast)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--from", a->from_s, "Trace window: arrivals from this trace time on, s");
  cmd->add_option("--to", a->to_s, "Trace window: arrivals before this trace time, s");
  cmd->add_option("--input,-I", a->input, "Prompt tokens per request (with --poisson)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--output,-O", a->output, "Generated tokens per request (with --poisson)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-concurrency", a->max_concurrency, "Requests in flight at most (later sends wait)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo", a->slo, "Goodput objective, e.g. ttft=0.5,tpot=0.05 (seconds)");
  cmd->add_option("--seed", a->seed, "Seed of arrivals and prompts")->envname("JOULEPERF_SEED")->capture_default_str();
  cmd->add_option("--idle", a->idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", a->idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batching", a->batching, "llamacpp: continuous or static")->capture_default_str();
  cmd->add_option("--max-batch", a->max_batch, "llamacpp: most sequences at once (continuous) / batch size (static)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--static-wait", a->static_wait_s,
                  "llamacpp static: longest wait for a batch to fill after its first arrival, s")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--offline-compare", a->offline_compare,
                "llamacpp: also run the same requests all at t=0 in static batches of --max-batch and compare energy");
  cmd->add_option("--warmup", a->warmup,
                  "Unmeasured warm-up: llamacpp, runs of the first request; openai --rates, requests at the first "
                  "rate before the first phase")
      ->capture_default_str();
  cmd->add_option("--threads,-t", a->threads, "llamacpp: decode threads (0 = every hardware thread)")
      ->envname("JOULEPERF_THREADS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--threads-batch", a->threads_batch, "llamacpp: prefill threads (0 = --threads)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--flash-attn", a->flash_attn, "llamacpp: flash attention: auto, on, off")->capture_default_str();
  cmd->add_option("--kv-type", a->kv_type, "llamacpp: KV-cache type: f32, f16, bf16, q8_0, q4_0")
      ->capture_default_str();
  cmd->add_option("--n-batch", a->n_batch, "llamacpp: most tokens per forward call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--n-ubatch", a->n_ubatch, "llamacpp: tokens per physical micro-batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--gpu-layers", a->gpu_layers, "llamacpp: layers offloaded to a GPU backend when built (-1 = all)")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  // Rate sweeps and the results store.
  cmd->add_option("--rates", a->rates_rps,
                  "Rate sweep: Poisson (or --gamma-cv) phases at these rates, requests/s, e.g. 1,2,4 (engine openai)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  auto* gap = cmd->add_option("--idle-gap", a->idle_gap_s,
                              "With --rates: idle time after each phase, counted in that phase's energy, s")
                  ->check(CLI::NonNegativeNumber)
                  ->capture_default_str();
  cmd->add_option("--duration", a->duration_s, "With --rates: each phase sends the arrivals of this long, s")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--store", a->store, "Write the run and every request into this results store (SQLite)");
  cmd->add_option("--max-failure-rate", a->max_failure_rate,
                  "Exit 1 when the failed share of the requests (of any phase, with --rates) is above this, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  auto* requests = cmd->get_option("--requests");
  cmd->callback([a, &ctx, gap, requests] {
    a->idle_gap_given = gap->count() > 0;
    a->requests_given = requests->count() > 0;
    ctx.exit_code = run_replay(*a);
  });
}

}  // namespace jouleperf::cli
