// OpenAiEngine::serve: online serving through a server, on the open-loop load generator.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/serve.hpp"

namespace jouleperf {

namespace {

// The most requests in flight at once ([send, end] intervals overlapping).
std::uint64_t peak_in_flight(const LoadgenRun& run) {
  std::vector<std::pair<double, int>> edges;
  for (const auto& q : run.requests) {
    edges.emplace_back(q.result.send_s, 1);
    edges.emplace_back(q.result.end_s, -1);
  }
  std::sort(edges.begin(), edges.end());  // an end before a send at the same instant
  std::int64_t now = 0, peak = 0;
  for (const auto& [t, d] : edges) peak = std::max(peak, now += d);
  return static_cast<std::uint64_t>(peak);
}

ServedRequest served(const LoadgenRequest& q) {
  const OpenAiResult& r = q.result;
  ServedRequest s;
  s.arrival_s = q.scheduled_s;
  s.admitted_s = r.send_s;
  s.first_token_s = r.token_s.empty() ? r.end_s : r.token_s.front();
  s.end_s = r.end_s;
  s.input_tokens = r.usage_prompt_tokens.value_or(r.input_tokens_asked);
  s.output_tokens = r.output_tokens;
  s.token_s = r.token_s;
  s.lateness_s = q.lateness_s;
  s.ok = r.ok;
  s.error = r.error;
  s.mismatch = r.mismatch;
  s.http_status = r.http_status;
  s.usage_prompt_tokens = r.usage_prompt_tokens;
  s.usage_completion_tokens = r.usage_completion_tokens;
  s.finish_reason = r.finish_reason;
  return s;
}

}  // namespace

Result<ServeResult> OpenAiEngine::serve(const std::vector<ServeRequest>& requests, const ServeOptions& options,
                                        const Clock& clock, Meter* meter) {
  last_.clear();
  if (auto st = validate_serve(requests, options); !st) return st.error();
  if (options.batching != BatchingMode::kContinuous)
    return make_error(Errc::kUnsupported, "the openai engine serves as its server batches: batching continuous only");
  if (options.strategy != DecodeStrategy::kGreedy)
    return make_error(Errc::kUnsupported, "the openai engine sends temperature 0 (greedy) only");
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].arrival_s < requests[b].arrival_s; });
  std::vector<ScheduledRequest> schedule;
  for (std::size_t i : order)
    schedule.push_back({requests[i].arrival_s, requests[i].input_tokens, requests[i].output_tokens});
  LoadgenOptions lo;
  lo.max_concurrency = options.max_batch;
  lo.seed = requests.front().seed;
  if (client_->config().prompt_mode == PromptMode::kText) {
    std::vector<TextPromptKey> keys;
    for (std::size_t k = 0; k < schedule.size(); ++k) keys.push_back({lo.seed, k, schedule[k].input_tokens});
    if (auto st = client_->prepare_text_prompts(keys); !st) return st.error();
  }
  auto run = run_open_loop(*client_, schedule, lo, clock, meter);
  if (!run) return run.error();
  ServeResult out;
  out.start_s = run->start_s;
  out.end_s = run->end_s;
  out.peak_batch = peak_in_flight(*run);
  out.requests.resize(requests.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    out.requests[order[k]] = served(run->requests[k]);
    last_.push_back(run->requests[k].result);
    last_.back().tag = order[k];
  }
  const auto failures = last_failures();
  if (failures.empty() || !options.fail_on_request_failure) return out;
  std::string reasons;
  for (const auto& f : failures) reasons += fmt::format("; request {}: {}", f.request, f.reason);
  return make_error(Errc::kNetwork,
                    fmt::format("{} of {} requests failed{}", failures.size(), requests.size(), reasons));
}

}  // namespace jouleperf
