// Static batching as Hugging Face generate() runs it: the waiting requests (up to
// max_batch, or fewer when the padded batch's KV cache would not fit) are left-padded to
// the longest prompt, prefilled together, and decoded together until the longest output
// is done — finished rows keep computing. generate() returns the whole batch at its end.
#include <algorithm>
#include <cmath>
#include <limits>

#include "replica.hpp"

namespace jouleperf::sim::detail {

StaticReplica::StaticReplica(const SimConfig& c, const Deployment& d, std::span<const Req> reqs, Accounting& acc)
    : c_(c), d_(d), reqs_(reqs), acc_(acc) {}

void StaticReplica::arrive(std::uint32_t req, double t) {
  if (now_ < t) {
    acc_.idle(now_, t, d_.idle_w);
    now_ = t;
  }
  waiting_.push_back(req);
  acc_.event();
}

void StaticReplica::idle_until(double end_s) {
  if (now_ < end_s) {
    acc_.idle(now_, end_s, d_.idle_w);
    now_ = end_s;
  }
}

void StaticReplica::run_until(double t_limit) {
  while (!waiting_.empty() && now_ < t_limit) {
    if (waiting_.size() < c_.max_batch && c_.static_wait_s > 0.0) {
      const double start = reqs_[waiting_.front()].arrival_s + c_.static_wait_s;
      if (start > now_) {
        if (start >= t_limit) break;  // an arrival before then may fill the batch
        acc_.idle(now_, start, d_.idle_w);
        now_ = start;
      }
    }
    run_batch();
  }
}

void StaticReplica::run_batch() {
  const double w = d_.beams;
  const double cap = d_.kv_capacity_tokens * (1.0 - kAdmitWatermark);
  // Members: FCFS while the padded batch's cache fits.
  batch_.clear();
  double in_max = 0, out_max = 0;
  while (!waiting_.empty() && batch_.size() < c_.max_batch) {
    const Req& r = reqs_[waiting_.front()];
    const double in = std::max(in_max, static_cast<double>(r.input));
    const double out = std::max(out_max, static_cast<double>(r.output));
    const double n = static_cast<double>(batch_.size() + 1);
    const double per_row = d_.beams_share_prompt ? in / w + out : in + out;
    const double need = n * w * (per_row + kBlockWasteTokens) + n * w * d_.q;
    if (!batch_.empty() && need > cap) {
      acc_.kv_limited();
      break;
    }
    batch_.push_back(waiting_.front());
    waiting_.pop_front();
    in_max = in;
    out_max = out;
  }
  const double n = static_cast<double>(batch_.size());
  const double rows = n * w;
  acc_.peak_sequences(n);

  double energy = 0;
  auto run = [&](const StepShape& target_shape, const StepShape& draft_first, std::uint32_t draft_forwards,
                 double draft_rows, double draft_ctx) {
    const StepTotals step = step_totals(d_, target_shape, draft_first, draft_forwards, draft_rows, draft_ctx);
    acc_.step(now_, now_ + step.duration_s, step.energy_j, d_.devices, step.compute_util, step.memory_util,
              target_shape.sequences, step.flops);
    now_ += step.duration_s;
    energy += step.energy_j;
    ++steps_;
  };

  // Prefill: every row padded to the longest prompt (the prompt once per beam unless the
  // stack prefills it once).
  const StepShape pre = scaled(prefill_chunk(0, in_max, true, c_.prefill_logits), n * d_.prefill_expansion);
  run(pre, pre, d_.draft ? 1u : 0u, 0.0, 0.0);
  const double prefill_end = now_;

  // Decode: all rows until the longest output is done.
  const auto iterations = static_cast<std::uint64_t>(std::ceil((out_max - 1.0) / d_.tau - 1e-9));
  std::vector<double> ends;
  ends.reserve(static_cast<std::size_t>(iterations));
  for (std::uint64_t k = 1; k <= iterations; ++k) {
    const double ctx = c_.stack.attends_allocated_cache
                           ? in_max + out_max
                           : std::min(in_max + out_max, in_max + 1.0 + d_.tau * static_cast<double>(k - 1));
    StepShape dec = decode_rows(rows, rows * ctx, d_.q);
    if (c_.stack.beam_reorder_copy && w > 1) dec.kv_copy_tokens = dec.cache_tokens;
    run(dec, StepShape{}, d_.gamma, rows, rows * ctx);
    ends.push_back(now_);
  }

  // Outcomes: the batch's energy split by token share; every response returns at the end.
  double tokens = 0;
  for (std::uint32_t i : batch_) tokens += static_cast<double>(reqs_[i].input) + reqs_[i].output;
  for (std::uint32_t i : batch_) {
    const Req& r = reqs_[i];
    const auto own = static_cast<std::size_t>(std::ceil((r.output - 1.0) / d_.tau - 1e-9));
    const double last = own == 0 ? prefill_end : ends[std::min(own, ends.size()) - 1];
    const double tpot =
        r.output >= 2 ? (last - prefill_end) / (r.output - 1.0) : std::numeric_limits<double>::quiet_NaN();
    acc_.complete(i, prefill_end - r.arrival_s, tpot, now_ - r.arrival_s,
                  energy * (static_cast<double>(r.input) + r.output) / tokens);
  }
}

}  // namespace jouleperf::sim::detail
