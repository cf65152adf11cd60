#include "jouleperf/engine/loadgen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/prompt.hpp"
#include "jouleperf/workload/stats.hpp"

namespace jouleperf {

Result<LoadgenRun> run_open_loop(OpenAiClient& client, std::span<const ScheduledRequest> schedule,
                                 const LoadgenOptions& opt, const Clock& clock, Meter* meter) {
  if (schedule.empty()) return make_error(Errc::kInvalidArgument, "empty schedule");
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    if (!(schedule[i].at_s >= 0) || (i > 0 && schedule[i].at_s < schedule[i - 1].at_s))
      return make_error(Errc::kInvalidArgument, "schedule must be sorted by time and >= 0");
    if (schedule[i].input_tokens == 0 || schedule[i].output_tokens == 0)
      return make_error(Errc::kInvalidArgument, "request " + std::to_string(i) + " has a zero length");
  }
  if (!(opt.spin_s >= 0) || !(opt.spin_s < 1)) return make_error(Errc::kInvalidArgument, "spin_s must be in [0, 1) s");
  if (opt.max_concurrency && *opt.max_concurrency == 0)
    return make_error(Errc::kInvalidArgument, "max concurrency must be >= 1");
  // Prompts are built before the clock starts so building them never delays a send.
  std::vector<OpenAiRequest> reqs;
  reqs.reserve(schedule.size());
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    BatchRequest b;
    b.input_tokens = schedule[i].input_tokens;
    b.output_tokens = schedule[i].output_tokens;
    b.seed = opt.seed;
    reqs.push_back(make_openai_request(client.config(), b, i));
  }
  LoadgenRun run;
  run.requests.resize(schedule.size());
  if (meter != nullptr)
    if (auto st = opt.meter_started ? meter->mark(opt.meter_phase) : meter->start(opt.meter_phase); !st)
      return st.error();
  run.start_s = clock.now().value();
  std::size_t next = 0;
  std::vector<OpenAiResult> done;
  while (next < schedule.size() || client.in_flight() > 0) {
    double now = clock.now().value();
    while (next < schedule.size() && run.start_s + schedule[next].at_s <= now &&
           (!opt.max_concurrency || client.in_flight() < *opt.max_concurrency)) {
      if (auto st = client.submit(reqs[next], clock); !st) return st.error();
      run.requests[next].scheduled_s = run.start_s + schedule[next].at_s;
      ++next;
      now = clock.now().value();
    }
    double wait = 0.05;
    if (next < schedule.size() && (!opt.max_concurrency || client.in_flight() < *opt.max_concurrency)) {
      // The client sleeps to the microsecond (a timer fd), but the kernel may wake it up
      // to its timer slack (50 us) late: sleep until spin_s before the send, then poll.
      const double due = run.start_s + schedule[next].at_s - now;
      wait = due > opt.spin_s ? due - opt.spin_s : 0.0;
    }
    client.step(wait, clock, done);
    for (auto& r : done) {
      auto& slot = run.requests[r.tag];
      slot.lateness_s = r.send_s - slot.scheduled_s;
      slot.result = std::move(r);
    }
    done.clear();
  }
  run.end_s = run.start_s;
  for (const auto& r : run.requests) run.end_s = std::max(run.end_s, r.result.end_s);
  return run;
}

Result<Slo> parse_slo(std::string_view text) {
  Slo slo;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::kInvalidArgument, "SLO item without '=': " + std::string(item));
    const std::string_view key = trim(item.substr(0, eq));
    auto v = parse_double(trim(item.substr(eq + 1)));
    if (!v || !(*v > 0) || !std::isfinite(*v))
      return make_error(Errc::kInvalidArgument, "SLO bound must be a number > 0: " + std::string(item));
    if (key == "ttft")
      slo.ttft_s = *v;
    else if (key == "tpot")
      slo.tpot_s = *v;
    else if (key == "e2e")
      slo.e2e_s = *v;
    else
      return make_error(Errc::kInvalidArgument, "unknown SLO key '" + std::string(key) + "' (ttft, tpot, e2e)");
  }
  return slo;
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  p.p50 = workload::quantile_linear(std::span<const double>(v), 0.50);
  p.p90 = workload::quantile_linear(std::span<const double>(v), 0.90);
  p.p99 = workload::quantile_linear(std::span<const double>(v), 0.99);
  p.max = v.back();
  return p;
}

LoadgenSummary summarize_load(const LoadgenRun& run, const Slo& slo) {
  LoadgenSummary s;
  s.requests = run.requests.size();
  s.duration_s = run.end_s - run.start_s;
  std::vector<double> ttft, tpot, itl, e2e, late;
  for (const auto& q : run.requests) {
    const auto& r = q.result;
    late.push_back(q.lateness_s);
    if (!r.mismatch.empty()) ++s.mismatched;
    if (!r.ok) {
      ++s.failed;
      continue;
    }
    ++s.ok;
    s.output_tokens += r.output_tokens;
    s.input_tokens += r.usage_prompt_tokens.value_or(r.input_tokens_asked);
    ttft.push_back(r.ttft_s());
    if (r.token_s.size() >= 2) tpot.push_back(r.tpot_s());
    for (double x : r.itl_s()) itl.push_back(x);
    e2e.push_back(r.e2e_s());
    const bool met = (!slo.ttft_s || r.ttft_s() <= *slo.ttft_s) && (!slo.tpot_s || r.tpot_s() <= *slo.tpot_s) &&
                     (!slo.e2e_s || r.e2e_s() <= *slo.e2e_s);
    if (met) ++s.slo_met;
  }
  if (s.duration_s > 0) {
    s.throughput_rps = static_cast<double>(s.ok) / s.duration_s;
    s.output_tokens_per_s = static_cast<double>(s.output_tokens) / s.duration_s;
    s.goodput_rps = static_cast<double>(s.slo_met) / s.duration_s;
  }
  s.ttft_s = percentiles(std::move(ttft));
  s.tpot_s = percentiles(std::move(tpot));
  s.itl_s = percentiles(std::move(itl));
  s.e2e_s = percentiles(std::move(e2e));
  s.lateness_s = percentiles(std::move(late));
  return s;
}

LoadgenRun served_as_loadgen_run(const ServeResult& sr, const std::vector<ServeRequest>& reqs) {
  LoadgenRun run;
  run.start_s = sr.start_s;
  run.end_s = sr.end_s;
  for (std::size_t i = 0; i < reqs.size() && i < sr.requests.size(); ++i) {
    const ServedRequest& q = sr.requests[i];
    LoadgenRequest lr;
    lr.scheduled_s = q.arrival_s;
    lr.lateness_s = q.lateness_s;
    OpenAiResult& r = lr.result;
    r.tag = i;
    r.ok = q.ok;
    r.error = q.error;
    r.http_status = q.http_status;
    r.input_tokens_asked = reqs[i].input_tokens;
    r.output_tokens_asked = reqs[i].output_tokens;
    r.output_tokens = q.output_tokens;
    r.usage_prompt_tokens = q.usage_prompt_tokens;
    r.usage_completion_tokens = q.usage_completion_tokens;
    r.finish_reason = q.finish_reason;
    r.mismatch = q.mismatch;
    if (r.mismatch.empty() && q.ok && q.output_tokens != reqs[i].output_tokens)
      r.mismatch = fmt::format("{} output tokens, {} asked", q.output_tokens, reqs[i].output_tokens);
    r.send_s = q.arrival_s + q.lateness_s;
    r.token_s = q.token_s;
    r.end_s = q.end_s;
    run.requests.push_back(std::move(lr));
  }
  return run;
}

}  // namespace jouleperf
