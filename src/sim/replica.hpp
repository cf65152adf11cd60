// Internals of the serving simulator: the deployment a configuration describes (step
// models, KV capacity), the accounting every replica reports into, and the two
// schedulers. Not a public header.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <span>
#include <vector>

#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/sim/step.hpp"
#include "jouleperf/sim/step_trace.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::sim::detail {

// The simulated vLLM block size: a sequence wastes half a block on average.
inline constexpr double kBlockWasteTokens = 8.0;
// Share of the KV capacity kept free when admitting (vLLM's watermark).
inline constexpr double kAdmitWatermark = 0.01;

struct Deployment {
  StepModel target;
  std::optional<StepModel> draft;
  double kv_capacity_tokens = 0;  // per replica
  double tau = 1.0;               // tokens a decode iteration yields per sequence (expected)
  double q = 1.0;                 // query tokens per decode row (gamma + 1 when speculating)
  std::uint32_t gamma = 0;
  double beams = 1.0;
  double prefill_expansion = 1.0;  // prompt copies prefilled (beams unless the stack prefills once)
  bool beams_share_prompt = true;
  double devices = 1.0;  // per replica (tp)
  double idle_w = 0.0;   // per replica (all its devices)
};

// Step models and KV capacity. kInvalidArgument when the weights do not fit.
Result<Deployment> make_deployment(const SimConfig& c);

// One step as the accounting books it: the target model's forward, then the draft model's
// forwards, one after the other.
struct StepTotals {
  double duration_s = 0, energy_j = 0, flops = 0;
  double compute_util = 0, memory_util = 0;  // weighted by each forward's duration
};

// The target model on `target`, then (only with a draft model) `draft_forwards` draft
// forwards of one query over `draft_rows` decode rows (none when 0) whose first forward's
// queries see `draft_context` keys in all, `draft_rows` more at each later forward; the
// first draft forward also runs `draft_first` (the step's prompt chunks).
StepTotals step_totals(const Deployment& d, const StepShape& target, const StepShape& draft_first,
                       std::uint32_t draft_forwards, double draft_rows, double draft_context);

// Totals, per-request outcomes and the timeline, shared by the replicas.
class Accounting {
 public:
  // `want_bins` bins of bin_width_s cover the arrivals; a longer span merges bins.
  Accounting(std::size_t requests, double bin_width_s, std::size_t want_bins);

  // A step of one replica over [t0, t1): its energy (all its devices), the utilizations
  // of its devices, sequences in it, FLOPs computed.
  void step(double t0, double t1, double energy_j, double devices, double compute_util, double memory_util,
            double sequences, double flops);
  // One replica idle over [t0, t1) drawing idle_w.
  void idle(double t0, double t1, double idle_w);
  void complete(std::uint32_t req, double ttft_s, double tpot_s, double e2e_s, double energy_j);
  void reject(std::uint32_t req);
  void preempted() {
    ++preemptions_;
    kv_limited_ = true;
  }
  // The KV capacity held a request back (admission or batch formation).
  void kv_limited() { kv_limited_ = true; }
  // Sequences running in one step (continuous) or in one batch (static).
  void peak_sequences(double n) { peak_ = n > peak_ ? n : peak_; }
  void event() { ++events_; }
  // Where steps, idle spans and tokens are recorded (simulate_traced), or null.
  void set_trace(StepTrace* trace) { trace_ = trace; }
  StepTrace* trace() const { return trace_; }

  // Fills the totals, summaries and timeline of `r` (span from 0 to end_s).
  void finish(SimResult& r, double end_s, double devices_total, bool keep_requests);

 private:
  struct Bin {
    double busy_s = 0, energy_j = 0, compute_s = 0, memory_s = 0, batch_s = 0, replica_s = 0;
  };
  void add_to_bins(double t0, double t1, double energy_j, double busy_weight, double compute_util, double memory_util,
                   double sequences);

  std::vector<RequestOutcome> out_;
  std::vector<Bin> bins_;
  StepTrace* trace_ = nullptr;
  double bin_w_;
  std::size_t want_bins_;
  double active_j_ = 0, idle_j_ = 0, busy_s_ = 0, replica_busy_s_ = 0, batch_s_ = 0, flops_ = 0;
  std::uint64_t steps_ = 0, events_ = 0, preemptions_ = 0, completed_ = 0, rejected_ = 0;
  double peak_ = 0;
  bool kv_limited_ = false;
};

// A request as the schedulers see it.
struct Req {
  double arrival_s;
  std::uint32_t input;   // >= 1
  std::uint32_t output;  // >= 1
};

// Continuous batching (vLLM): sequences join and leave at every step; a token budget per
// step, chunked prefill, KV capacity with preemption (recompute, newest first).
class ContinuousReplica {
 public:
  ContinuousReplica(const SimConfig& c, const Deployment& d, std::span<const Req> reqs, Accounting& acc);
  // Queues request `req` arriving at t (>= the last call's t).
  void arrive(std::uint32_t req, double t);
  // Runs every step that starts before t_limit.
  void run_until(double t_limit);
  // Idles from the last step's end to end_s.
  void idle_until(double end_s);
  double now() const { return now_; }
  std::size_t in_flight() const { return in_flight_; }
  std::uint64_t steps() const { return steps_; }

 private:
  enum class State : std::uint8_t { kFree, kWaiting, kPrefilling, kDecoding };
  struct Seq {
    std::uint32_t req = 0;
    std::uint32_t gen = 0;
    State state = State::kFree;
    bool started = false;  // its first token was produced (TTFT recorded)
    double prompt = 0;     // tokens to prefill in this incarnation (recompute adds generated ones)
    double prefilled = 0;
    double remaining = 0;  // output tokens still to produce, including the next first token
    double first_token_s = 0;
    double energy_j = 0;
    std::uint64_t join_step = 0;  // decode steps done when it joined decode
    double ctx0 = 0;              // keys its first decode query sees
    double alloc = 0;             // prompt + remaining (a static cache's length)
    double acc0 = 0;              // energy accumulator when it joined decode
  };
  struct Due {
    std::uint64_t step;
    std::uint32_t slot, gen;
    bool operator>(const Due& o) const { return step > o.step; }
  };

  bool has_work() const { return decoding_ > 0 || !prefilling_.empty() || !waiting_.empty(); }
  void one_step();
  double decode_context_sum() const;  // first-query keys over decoding requests (one beam)
  double kv_decode_need(double context_sum) const;
  double kv_prompt_need(double prompt) const;
  void preempt_newest();
  void join_decode(std::uint32_t slot);
  // Takes decoding sequence `s` out of the decode aggregates (join_decode's inverse) and
  // adds the decode energy it took since it joined; its state is the caller's to set.
  void leave_decode(Seq& s);
  void complete(std::uint32_t slot);
  std::uint32_t new_slot();
  // With a trace: the step just priced (before its completions), its sequences and tokens.
  void trace_step(StepTrace& trace, double t0, double t1, double energy_j, bool decode_now);

  const SimConfig& c_;
  const Deployment& d_;
  std::span<const Req> reqs_;
  Accounting& acc_;
  double now_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t steps_ = 0;

  std::vector<Seq> slots_;
  std::vector<std::uint32_t> free_;
  std::deque<std::uint32_t> waiting_;
  std::deque<std::uint32_t> prefilling_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> decode_order_;  // (slot, gen), oldest first
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;

  // Aggregates over decoding requests.
  std::uint64_t decoding_ = 0;
  std::uint64_t dstep_ = 0;    // decode steps done
  std::int64_t join_sum_ = 0;  // sum of join_step
  double ctx0_sum_ = 0, prompt_sum_ = 0, alloc_sum_ = 0;
  double prefill_reserved_ = 0;                           // KV tokens reserved by admitted prompts
  double energy_acc_ = 0;                                 // energy per decode row so far, J
  std::vector<std::pair<std::uint32_t, double>> chunks_;  // scratch: (slot, tokens) of this step
};

// Static batching (HF generate): a batch of up to max_batch waiting requests, prompts
// padded to the longest, runs until its longest output ends; nothing joins meanwhile.
class StaticReplica {
 public:
  StaticReplica(const SimConfig& c, const Deployment& d, std::span<const Req> reqs, Accounting& acc);
  void arrive(std::uint32_t req, double t);
  void run_until(double t_limit);
  void idle_until(double end_s);
  double now() const { return now_; }
  std::size_t in_flight() const { return waiting_.size(); }
  std::uint64_t steps() const { return steps_; }

 private:
  void run_batch();
  const SimConfig& c_;
  const Deployment& d_;
  std::span<const Req> reqs_;
  Accounting& acc_;
  double now_ = 0;
  std::uint64_t steps_ = 0;
  std::deque<std::uint32_t> waiting_;
  std::vector<std::uint32_t> batch_;  // scratch
};

// The request fits the replica alone (KV at its longest, model context).
bool fits_alone(const SimConfig& c, const Deployment& d, const Req& r);

}  // namespace jouleperf::sim::detail
