// Continuous batching as vLLM schedules it: every step carries one token of each running
// sequence (gamma + 1 when verifying drafts) and, within the token budget, prompt chunks
// of admitted requests (chunked prefill) — or, without chunking, whole prompts in steps
// of their own. A request is admitted when its prompt fits the free KV cache; when the
// running sequences' growth does not fit, the newest is preempted and recomputed later.
//
// Decoding sequences are kept as aggregates (count, sum of first contexts, sum of join
// steps), so a step costs O(1) plus O(log n) per join and completion, whatever the batch.
#include <algorithm>
#include <cmath>
#include <limits>

#include "replica.hpp"

namespace jouleperf::sim::detail {
ContinuousReplica::ContinuousReplica(const SimConfig& c, const Deployment& d, std::span<const Req> reqs,
                                     Accounting& acc)
    : c_(c), d_(d), reqs_(reqs), acc_(acc) {}

std::uint32_t ContinuousReplica::new_slot() {
  if (!free_.empty()) {
    const std::uint32_t s = free_.back();
    free_.pop_back();
    return s;
  }
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void ContinuousReplica::arrive(std::uint32_t req, double t) {
  if (now_ < t && !has_work()) {
    acc_.idle(now_, t, d_.idle_w);
    now_ = t;
  }
  const std::uint32_t slot = new_slot();
  Seq& s = slots_[slot];
  const std::uint32_t gen = s.gen + 1;
  s = Seq{};
  s.gen = gen;
  s.req = req;
  s.state = State::kWaiting;
  s.prompt = reqs_[req].input;
  s.remaining = reqs_[req].output;
  s.alloc = s.prompt + s.remaining;
  waiting_.push_back(slot);
  ++in_flight_;
  acc_.event();
}

void ContinuousReplica::run_until(double t_limit) {
  while (has_work() && now_ < t_limit) one_step();
}

void ContinuousReplica::idle_until(double end_s) {
  if (now_ < end_s) {
    acc_.idle(now_, end_s, d_.idle_w);
    now_ = end_s;
  }
}

double ContinuousReplica::decode_context_sum() const {
  const auto steps = static_cast<std::int64_t>(decoding_) * static_cast<std::int64_t>(dstep_) - join_sum_;
  return ctx0_sum_ + d_.tau * static_cast<double>(steps);
}

double ContinuousReplica::kv_decode_need(double context_sum) const {
  if (decoding_ == 0) return 0.0;
  const double n = static_cast<double>(decoding_);
  const double tokens = context_sum + n * (d_.q - 1.0);  // per beam, after this step's writes
  const double w = d_.beams;
  const double mem = d_.beams_share_prompt ? prompt_sum_ + w * (tokens - prompt_sum_) : w * tokens;
  return mem + kBlockWasteTokens * n * w;
}

double ContinuousReplica::kv_prompt_need(double prompt) const {
  const double copies = d_.beams_share_prompt ? 1.0 : d_.beams;
  return copies * (prompt + kBlockWasteTokens);
}

void ContinuousReplica::join_decode(std::uint32_t slot) {
  Seq& s = slots_[slot];
  s.state = State::kDecoding;
  s.join_step = dstep_;
  s.ctx0 = s.prompt + 1.0;
  s.acc0 = energy_acc_;
  const auto steps = static_cast<std::uint64_t>(std::ceil(s.remaining / d_.tau - 1e-9));
  due_.push(Due{dstep_ + std::max<std::uint64_t>(1, steps), slot, s.gen});
  decode_order_.emplace_back(slot, s.gen);
  ++decoding_;
  join_sum_ += static_cast<std::int64_t>(dstep_);
  ctx0_sum_ += s.ctx0;
  prompt_sum_ += s.prompt;
  alloc_sum_ += s.alloc;
}

void ContinuousReplica::leave_decode(Seq& s) {
  --decoding_;
  join_sum_ -= static_cast<std::int64_t>(s.join_step);
  ctx0_sum_ -= s.ctx0;
  prompt_sum_ -= s.prompt;
  alloc_sum_ -= s.alloc;
  s.energy_j += energy_acc_ - s.acc0;
}

void ContinuousReplica::complete(std::uint32_t slot) {
  Seq& s = slots_[slot];
  if (s.state == State::kDecoding) leave_decode(s);
  const Req& r = reqs_[s.req];
  const double tpot =
      r.output >= 2 ? (now_ - s.first_token_s) / (r.output - 1.0) : std::numeric_limits<double>::quiet_NaN();
  acc_.complete(s.req, s.first_token_s - r.arrival_s, tpot, now_ - r.arrival_s, s.energy_j);
  s.state = State::kFree;
  ++s.gen;  // any heap entry left for it is stale
  free_.push_back(slot);
  --in_flight_;
}

void ContinuousReplica::preempt_newest() {
  while (!decode_order_.empty()) {
    const auto [slot, gen] = decode_order_.back();
    decode_order_.pop_back();
    Seq& s = slots_[slot];
    if (s.gen != gen || s.state != State::kDecoding) continue;
    // Tokens produced since it joined decode; it needs fewer than `remaining` (or it
    // would have completed).
    const double done = static_cast<double>(dstep_ - s.join_step);
    const double produced = std::min(s.remaining - 1.0, std::floor(d_.tau * done));
    leave_decode(s);
    // Recompute: the prompt and every token produced so far are prefilled again.
    s.prompt = s.prompt + 1.0 + produced;
    s.remaining -= produced;
    s.prefilled = 0;
    s.alloc = s.prompt + s.remaining;
    s.state = State::kWaiting;
    ++s.gen;
    waiting_.push_front(slot);
    acc_.preempted();
    return;
  }
}

void ContinuousReplica::one_step() {
  const double w = d_.beams;
  const double cap = d_.kv_capacity_tokens;
  const double admit_cap = cap * (1.0 - kAdmitWatermark);
  const auto max_seqs = static_cast<std::size_t>(c_.max_batch);
  const double budget_total = static_cast<double>(c_.token_budget);

  // The running sequences' KV growth must fit: preempt the newest until it does.
  double ctx = decode_context_sum();
  while (decoding_ > 0 && kv_decode_need(ctx) + prefill_reserved_ > cap) {
    preempt_newest();
    ctx = decode_context_sum();
  }
  if (decode_order_.size() > 2 * decoding_ + 1024) {
    std::erase_if(decode_order_, [&](const auto& e) {
      return slots_[e.first].gen != e.second || slots_[e.first].state != State::kDecoding;
    });
  }

  // Prompt chunks of this step: continue admitted prompts first, then admit new ones.
  chunks_.clear();
  bool decode_now = decoding_ > 0;
  double kv_used = kv_decode_need(ctx) + prefill_reserved_;
  auto admit = [&]() -> bool {
    if (waiting_.empty() || decoding_ + prefilling_.size() >= max_seqs) return false;
    const std::uint32_t slot = waiting_.front();
    Seq& s = slots_[slot];
    const double need = kv_prompt_need(s.prompt);
    if (kv_used + need > admit_cap) {
      acc_.kv_limited();
      return false;
    }
    waiting_.pop_front();
    s.state = State::kPrefilling;
    s.prefilled = 0;
    prefill_reserved_ += need;
    kv_used += need;
    prefilling_.push_back(slot);
    return true;
  };
  if (c_.chunked_prefill) {
    double budget = budget_total - (decode_now ? static_cast<double>(decoding_) * w * d_.q : 0.0);
    for (std::uint32_t slot : prefilling_) {
      if (budget <= 0) break;
      const Seq& s = slots_[slot];
      const double chunk = std::min(s.prompt - s.prefilled, budget);
      chunks_.emplace_back(slot, chunk);
      budget -= chunk;
    }
    while (budget > 0 && admit()) {
      const Seq& s = slots_[prefilling_.back()];
      const double chunk = std::min(s.prompt, budget);
      chunks_.emplace_back(prefilling_.back(), chunk);
      budget -= chunk;
    }
  } else {
    // Prefill first, whole prompts, in steps of their own (vLLM without chunking).
    double used = 0;
    while (!waiting_.empty()) {
      const double p = slots_[waiting_.front()].prompt;
      if (used > 0 && used + p > budget_total) break;
      if (!admit()) break;
      used += p;
    }
    if (!prefilling_.empty()) {
      decode_now = false;
      for (std::uint32_t slot : prefilling_) chunks_.emplace_back(slot, slots_[slot].prompt);
    }
  }

  if (!decode_now && chunks_.empty()) {
    // Nothing can run: the head of the queue cannot be admitted on an empty engine.
    // Admission is checked at arrival, so this is a guard, not a path.
    if (!waiting_.empty()) {
      const std::uint32_t slot = waiting_.front();
      waiting_.pop_front();
      acc_.reject(slots_[slot].req);
      slots_[slot].state = State::kFree;
      ++slots_[slot].gen;
      free_.push_back(slot);
      --in_flight_;
    }
    return;
  }

  // The step's shape: decode rows plus prompt chunks.
  StepShape dec, pre;
  double units = 0;
  const double rows = decode_now ? static_cast<double>(decoding_) * w : 0.0;
  const double ctx_rows = w * (c_.stack.attends_allocated_cache ? alloc_sum_ : ctx);
  if (decode_now) {
    dec = decode_rows(rows, ctx_rows, d_.q);
    if (c_.stack.beam_reorder_copy && w > 1) dec.kv_copy_tokens = dec.cache_tokens;
    units += rows * d_.q;
  }
  for (const auto& [slot, chunk] : chunks_) {
    const Seq& s = slots_[slot];
    const bool last = s.prefilled + chunk >= s.prompt;
    pre += scaled(prefill_chunk(s.prefilled, chunk, last, c_.prefill_logits), d_.prefill_expansion);
    units += chunk * d_.prefill_expansion;
  }
  StepShape shape = dec;
  shape += pre;
  // A draft model proposes gamma tokens per decode row (gamma forwards) and prefills the
  // same prompt chunks in its first forward.
  const std::uint32_t draft_forwards = decode_now ? d_.gamma : (chunks_.empty() ? 0u : 1u);
  const StepTotals step = step_totals(d_, shape, pre, draft_forwards, rows, ctx_rows);
  acc_.peak_sequences(static_cast<double>(decoding_ + prefilling_.size()));
  acc_.step(now_, now_ + step.duration_s, step.energy_j, d_.devices, step.compute_util, step.memory_util,
            rows + static_cast<double>(chunks_.size()), step.flops);
  if (StepTrace* trace = acc_.trace()) trace_step(*trace, now_, now_ + step.duration_s, step.energy_j, decode_now);
  now_ += step.duration_s;
  ++steps_;

  // Energy split by token share.
  const double per_unit = step.energy_j / units;
  if (decode_now) {
    energy_acc_ += per_unit * d_.q * w;
    ++dstep_;
    while (!due_.empty() && due_.top().step <= dstep_) {
      const Due due = due_.top();
      due_.pop();
      const Seq& s = slots_[due.slot];
      if (s.gen != due.gen || s.state != State::kDecoding) continue;
      complete(due.slot);
    }
  }
  for (const auto& [slot, chunk] : chunks_) {
    Seq& s = slots_[slot];
    s.prefilled += chunk;
    s.energy_j += per_unit * chunk * d_.prefill_expansion;
  }
  // Completed prompts are a prefix of the prefilling queue (chunks are handed out in order).
  while (!prefilling_.empty()) {
    const std::uint32_t slot = prefilling_.front();
    Seq& s = slots_[slot];
    if (s.prefilled < s.prompt) break;
    prefilling_.pop_front();
    prefill_reserved_ -= kv_prompt_need(s.prompt);
    if (!s.started) {
      s.started = true;
      s.first_token_s = now_;
    }
    s.remaining -= 1.0;  // the prefill's logits give the next token
    if (s.remaining <= 0.0)
      complete(slot);
    else
      join_decode(slot);
  }
  if (prefilling_.empty()) prefill_reserved_ = 0.0;  // no drift from repeated subtraction
}

// O(sequences) per step, only when tracing: the aggregates give the step's cost, the
// trace lists who was in it. A decode row's context is the keys it attends to: its first
// query's plus the tokens it has produced since (tau per step); a chunk's context is its prompt done so
// far. Every decode row, and every chunk that completes its prompt, gives its request
// tokens at the step's end.
void ContinuousReplica::trace_step(StepTrace& trace, double t0, double t1, double energy_j, bool decode_now) {
  TracedStep st{t0, t1, energy_j, {}};
  if (decode_now)
    for (const auto& [slot, gen] : decode_order_) {
      const Seq& s = slots_[slot];
      if (s.gen != gen || s.state != State::kDecoding) continue;
      const double ctx = s.ctx0 + d_.tau * static_cast<double>(dstep_ - s.join_step);
      st.work.push_back(TracedWork{s.req, false, d_.q * d_.beams, ctx});
      trace.token_s[s.req].push_back(t1);
    }
  // A prompt prefilled once per beam (no shared prompt) is that many chunks.
  const double copies = std::max(1.0, std::round(d_.prefill_expansion));
  for (const auto& [slot, chunk] : chunks_) {
    const Seq& s = slots_[slot];
    for (double k = 0; k < copies; ++k)
      st.work.push_back(TracedWork{s.req, true, chunk * d_.prefill_expansion / copies, s.prefilled});
    if (s.prefilled + chunk >= s.prompt) trace.token_s[s.req].push_back(t1);
  }
  trace.steps.push_back(std::move(st));
}

}  // namespace jouleperf::sim::detail
