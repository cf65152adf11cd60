// The online scheduler (continuous and static batching) shared by engines, and the
// default Engine::serve.
#include "jouleperf/engine/serve.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>
#include <optional>

namespace jouleperf {

Result<ServeResult> Engine::serve(const std::vector<ServeRequest>&, const ServeOptions&, const Clock&, Meter*) {
  return make_error(Errc::kUnsupported,
                    fmt::format("engine '{}' does not serve requests online (llamacpp does)", info().engine));
}

std::size_t ServeResult::failed() const {
  std::size_t n = 0;
  for (const auto& q : requests) n += q.ok ? 0 : 1;
  return n;
}

Status validate_serve(const std::vector<ServeRequest>& requests, const ServeOptions& options) {
  if (requests.empty()) return make_error(Errc::kInvalidArgument, "no requests to serve");
  if (options.max_batch == 0) return make_error(Errc::kInvalidArgument, "max_batch must be >= 1");
  if (!std::isfinite(options.static_wait_s) || options.static_wait_s < 0)
    return make_error(Errc::kInvalidArgument, "static_wait_s must be finite and >= 0");
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (!std::isfinite(r.arrival_s) || r.arrival_s < 0)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("request {}: arrival {} s must be finite and >= 0", i, r.arrival_s));
    if (r.input_tokens == 0 || r.output_tokens == 0)
      return make_error(Errc::kInvalidArgument, fmt::format("request {}: input and output tokens must be >= 1", i));
  }
  return {};
}

namespace {

struct Running {
  std::uint32_t slot = 0;
  std::size_t request = 0;
};

}  // namespace

Result<ServeResult> run_serve_loop(ServeBackend& backend, const std::vector<ServeRequest>& requests,
                                   const ServeOptions& options, const Clock& clock, Meter* meter) {
  if (auto st = validate_serve(requests, options); !st) return st.error();
  const std::size_t n = requests.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].arrival_s < requests[b].arrival_s; });

  ServeResult out;
  out.requests.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.requests[i].input_tokens = requests[i].input_tokens;
    out.requests[i].token_s.reserve(requests[i].output_tokens);
  }
  if (meter != nullptr)
    if (auto st = meter->start(); !st) return st.error();
  const double start = clock.now().value();
  out.start_s = start;
  for (std::size_t i = 0; i < n; ++i) out.requests[i].arrival_s = start + requests[i].arrival_s;

  const bool continuous = options.batching == BatchingMode::kContinuous;
  std::size_t next = 0;  // next in `order` not yet arrived
  std::deque<std::size_t> queue;
  std::vector<Running> running;
  std::vector<std::uint32_t> free_slots(options.max_batch);
  for (std::uint32_t s = 0; s < options.max_batch; ++s) free_slots[s] = options.max_batch - 1 - s;
  std::size_t done = 0;
  std::uint64_t steps = 0, step_sequences = 0;
  std::vector<StepSequence> step;
  std::vector<bool> finished;
  std::vector<std::size_t> tokens_before;

  while (done < n) {
    const double now = clock.now().value() - start;
    while (next < n && requests[order[next]].arrival_s <= now) queue.push_back(order[next++]);

    std::size_t admit = 0;
    std::optional<double> wake_s;  // relative to start
    if (continuous) {
      admit = std::min(queue.size(), options.max_batch - running.size());
    } else if (running.empty() && !queue.empty()) {
      const double deadline = requests[queue.front()].arrival_s + options.static_wait_s;
      if (queue.size() >= options.max_batch || next == n || now >= deadline)
        admit = std::min<std::size_t>(queue.size(), options.max_batch);
      else
        wake_s = std::min(deadline, requests[order[next]].arrival_s);
    }
    if (running.empty() && admit == 0) {
      // Nothing to run: idle until the next arrival (or the static batch's deadline).
      if (!wake_s) wake_s = requests[order[next]].arrival_s;
      clock.sleep_until(Seconds(start + *wake_s));
      continue;
    }

    step.clear();
    for (const auto& r : running) step.push_back({r.slot, r.request, false});
    const double admitted = clock.now().value();
    for (std::size_t k = 0; k < admit; ++k) {
      const std::size_t q = queue.front();
      queue.pop_front();
      const std::uint32_t slot = free_slots.back();
      free_slots.pop_back();
      out.requests[q].admitted_s = admitted;
      running.push_back({slot, q});
      step.push_back({slot, q, true});
    }
    out.peak_batch = std::max<std::uint64_t>(out.peak_batch, running.size());
    ++steps;
    step_sequences += step.size();

    finished.assign(step.size(), false);
    tokens_before.clear();
    for (const auto& q : step) tokens_before.push_back(out.requests[q.request].token_s.size());
    const double t0 = clock.now().value();
    auto forwards = backend.forward(step, [&](std::size_t k) {
      const double t = clock.now().value();
      ServedRequest& r = out.requests[step[k].request];
      if (r.token_s.empty()) r.first_token_s = t;
      r.token_s.push_back(t);
      if (r.token_s.size() == requests[step[k].request].output_tokens) {
        r.end_s = t;
        finished[k] = true;
      }
    });
    if (!forwards) return forwards.error();
    out.forwards += *forwards;
    const double t1 = clock.now().value();
    out.busy_s += t1 - t0;
    if (options.record_steps) {
      EngineStep& rec = out.steps.emplace_back(EngineStep{t0, t1, {}});
      rec.work.reserve(step.size());
      // A newcomer's whole prompt at context 0; a running sequence's next token at the
      // context of its prompt and the tokens it had before this step.
      for (std::size_t k = 0; k < step.size(); ++k) {
        const std::size_t q = step[k].request;
        if (step[k].prefill)
          rec.work.push_back({q, true, requests[q].input_tokens, 0});
        else
          rec.work.push_back({q, false, 1, requests[q].input_tokens + tokens_before[k]});
      }
    }
    for (std::size_t k = 0; k < step.size(); ++k)
      if (out.requests[step[k].request].token_s.size() != tokens_before[k] + 1)
        return make_error(Errc::kInternal,
                          fmt::format("the engine gave request {} {} tokens in one step (expected 1)", step[k].request,
                                      out.requests[step[k].request].token_s.size() - tokens_before[k]));

    for (std::size_t k = 0; k < step.size(); ++k) {
      if (!finished[k]) continue;
      if (auto st = backend.release(step[k].slot); !st) return st.error();
      free_slots.push_back(step[k].slot);
      ++done;
    }
    std::erase_if(running, [&](const Running& r) {
      const ServedRequest& q = out.requests[r.request];
      return q.token_s.size() >= requests[r.request].output_tokens;
    });
  }
  for (auto& r : out.requests) {
    r.output_tokens = r.token_s.size();
    out.end_s = std::max(out.end_s, r.end_s);
  }
  out.mean_batch = steps ? static_cast<double>(step_sequences) / static_cast<double>(steps) : 0.0;
  return out;
}

}  // namespace jouleperf
