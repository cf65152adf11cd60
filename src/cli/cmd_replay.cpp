// jouleperf replay: open-loop load on an OpenAI-compatible server (Poisson/gamma at a
// rate, or a trace replayed), with latency percentiles, goodput under an SLO and the
// energy of the phase from the chosen sensors.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "commands.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/loader.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

struct ReplayArgs {
  SensorFlags flags;
  std::string engine = "openai";
  std::string url;
  std::string api = "completions";
  std::string model;
  double timeout_s = 60.0;
  std::string api_key_env = "OPENAI_API_KEY";
  std::string api_key_file;
  bool http2 = false;
  std::optional<double> poisson_rps;
  std::optional<double> gamma_cv;
  std::size_t requests = 100;
  std::string trace;
  double speed = 1.0;
  std::uint64_t input = 128;
  std::uint64_t output = 32;
  std::optional<std::size_t> max_concurrency;
  std::string slo;
  std::uint64_t seed = 1;
  bool json = false;
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

int run_replay(const ReplayArgs& a) {
  if (a.engine != "openai") {
    std::cerr << "jouleperf replay: only --engine openai drives load (got '" << a.engine << "')\n";
    return kExitUsage;
  }
  auto api = parse_openai_api(a.api);
  auto slo = parse_slo(a.slo);
  auto key = load_api_key(a.api_key_env, a.api_key_file);
  for (const Error* e : {api ? nullptr : &api.error(), slo ? nullptr : &slo.error(), key ? nullptr : &key.error()}) {
    if (e != nullptr) {
      std::cerr << "jouleperf replay: " << e->to_string() << "\n";
      return kExitUsage;
    }
  }
  auto schedule = build_schedule(a);
  if (!schedule) {
    std::cerr << "jouleperf replay: " << schedule.error().to_string() << "\n";
    return schedule.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  OpenAiConfig oc;
  oc.url = a.url;
  oc.api = *api;
  oc.model = a.model;
  oc.api_key = std::move(*key);
  oc.timeout_s = a.timeout_s;
  oc.http2 = a.http2;
  auto client = OpenAiClient::open(oc);
  if (!client) {
    std::cerr << "jouleperf replay: " << client.error().to_string() << "\n";
    return kExitUsage;
  }
  SteadyClock clock;
  auto sampler_ptr = start_sampler(a.flags, clock, "replay");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  LoadgenOptions lo;
  lo.max_concurrency = a.max_concurrency;
  lo.seed = a.seed;
  auto run = run_open_loop(**client, *schedule, lo, clock, &meter);
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
  const LoadgenSummary s = summarize_load(*run, *slo);
  const double energy = m->total.energy_j;
  if (a.json) {
    nlohmann::json reqs = nlohmann::json::array();
    for (const auto& q : run->requests) {
      const auto& r = q.result;
      reqs.push_back({{"scheduled_s", q.scheduled_s - run->start_s},
                      {"lateness_s", q.lateness_s},
                      {"send_s", r.send_s - run->start_s},
                      {"end_s", r.end_s - run->start_s},
                      {"ok", r.ok},
                      {"error", r.error},
                      {"http_status", r.http_status},
                      {"input_tokens_asked", r.input_tokens_asked},
                      {"output_tokens_asked", r.output_tokens_asked},
                      {"output_tokens", r.output_tokens},
                      {"mismatch", r.mismatch},
                      {"ttft_s", r.ttft_s()},
                      {"tpot_s", r.tpot_s()},
                      {"e2e_s", r.e2e_s()}});
    }
    nlohmann::json j = {
        {"engine", "openai"},
        {"url", a.url},
        {"requests", s.requests},
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
        {"slo", a.slo},
        {"slo_met", s.slo_met},
        {"goodput_rps", s.goodput_rps},
        {"energy_j", energy},
        {"energy_source", m->total.energy_source},
        {"estimated", m->total.estimated},
        {"energy_per_request_j", s.ok ? nlohmann::json(energy / static_cast<double>(s.ok)) : nlohmann::json(nullptr)},
        {"energy_per_output_token_j",
         s.output_tokens ? nlohmann::json(energy / static_cast<double>(s.output_tokens)) : nlohmann::json(nullptr)},
        {"measurement", to_json(*m)},
        {"per_request", std::move(reqs)}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  auto& o = std::cout;
  o << fmt::format("\n replay on {}: {} requests, {} ok, {} failed, {} length mismatches, {:.3f} s\n", a.url,
                   s.requests, s.ok, s.failed, s.mismatched, s.duration_s);
  o << fmt::format("  throughput {:.2f} req/s, {:.1f} output tokens/s; goodput {:.2f} req/s ({} met the SLO '{}')\n",
                   s.throughput_rps, s.output_tokens_per_s, s.goodput_rps, s.slo_met, a.slo);
  o << fmt::format("  {:<14} {:>10} {:>10} {:>10} {:>10}\n", "", "p50", "p90", "p99", "max");
  for (const auto& [name, p] : {std::pair<const char*, const Percentiles*>{"ttft_s", &s.ttft_s},
                                {"tpot_s", &s.tpot_s},
                                {"itl_s", &s.itl_s},
                                {"e2e_s", &s.e2e_s},
                                {"send_late_s", &s.lateness_s}})
    o << fmt::format("  {:<14} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f}\n", name, p->p50, p->p90, p->p99, p->max);
  o << fmt::format("  energy {:.3f} J [{}{}]", energy, m->total.energy_source, m->total.estimated ? ", ESTIMATED" : "");
  if (s.ok) o << fmt::format(", {:.3f} J/request", energy / static_cast<double>(s.ok));
  if (s.output_tokens) o << fmt::format(", {:.4f} J/output token", energy / static_cast<double>(s.output_tokens));
  o << "\n";
  for (const auto& q : run->requests)
    if (!q.result.ok) o << "  FAILED request " << q.result.tag << ": " << q.result.error << "\n";
  o << "\n";
  return kExitOk;
}

}  // namespace

void add_replay_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand("replay", "Open-loop load on an OpenAI-compatible server, with latency and energy");
  add_sensor_flags(cmd, a->flags);
  cmd->add_option("--engine", a->engine, "Engine: openai")->capture_default_str();
  cmd->add_option("--url", a->url, "Server base URL, e.g. http://127.0.0.1:8080")->envname("JOULEPERF_URL")->required();
  cmd->add_option("--api", a->api, "completions (token-id prompts) or chat")->capture_default_str();
  cmd->add_option("--model,-m", a->model, "The served model name (the request's \"model\")");
  cmd->add_option("--timeout", a->timeout_s, "A request silent for this long fails, s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--api-key-env", a->api_key_env, "Environment variable holding the API key")->capture_default_str();
  cmd->add_option("--api-key-file", a->api_key_file, "File whose first line is the API key");
  cmd->add_flag("--http2", a->http2, "HTTP/2 (prior knowledge on http://)");
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
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  cmd->callback([a, &ctx] { ctx.exit_code = run_replay(*a); });
}

}  // namespace jouleperf::cli
