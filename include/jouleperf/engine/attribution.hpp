// Energy per request under continuous batching (docs/serving.md, "Energy per request"):
// a run's measured energy, as slices of time, split among the requests that were being
// served in each slice, by a per-token cost model.
//
// Each request's work is a set of cost segments: spans of time with a cost (in the cost
// model's units) spent evenly over the span. Where they come from names the method:
//   white-box  the engine's own steps (which sequences were in each forward pass, with
//              how many tokens at what context): white_box_segments;
//   black-box  only the streamed token timeline (an HTTP server): a request is in
//              prefill before its first token (its wait less queueing) and decodes one token between
//              each two arrivals: black_box_segments.
// attribute() gives each slice's energy to the segments overlapping it, in proportion to
// their cost there; a slice with requests in flight but no segment (a queue, the gap
// between steps) goes to those requests by their time in it; a slice with no request in
// flight is idle, reported apart or apportioned by an IdlePolicy. Nothing is lost: the
// requests' energy plus the unattributed idle equals the slices' total (conservation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/energy_slices.hpp"  // EnergySlice

namespace jouleperf {

// The marginal cost of one token, in any consistent unit (J when fitted from cells):
// a prompt token at context c (its position) costs prefill_token + prefill_context * c,
// a generated token at context c costs decode_token + decode_context * c — the context
// terms are attention's dependence on the tokens before it.
struct TokenCostModel {
  double prefill_token = 1.0;
  double prefill_context = 0.0;
  double decode_token = 1.0;
  double decode_context = 0.0;
  std::string basis = "equal cost per token";  // where the figures come from, for people

  // Cost of a whole prompt of `tokens` tokens starting at context `context` (the tokens
  // already in the sequence's cache).
  double prefill_cost(std::uint64_t tokens, std::uint64_t context = 0) const;
  // Cost of one generated token at context `context` (prompt + tokens before it).
  double decode_cost(std::uint64_t context) const;
};

// kInvalidArgument unless every figure is finite and >= 0 and a token costs more than 0.
Status validate(const TokenCostModel& model);

// One request's work over a span of time, in the cost model's units.
struct CostSegment {
  std::size_t request = 0;    // index of the request
  double t0_s = 0, t1_s = 0;  // t1_s >= t0_s; equal: the cost falls at that instant
  double cost = 0;            // >= 0
  bool prefill = false;       // prefill (the prompt) or decode (generated tokens)
};

// What a client sees of one request: clock seconds on the sampler's clock.
struct RequestTimeline {
  double send_s = 0;                    // sent to (or admitted by) the engine
  std::optional<double> first_token_s;  // unset: no token arrived
  std::vector<double> token_s;          // each generated token's arrival, in order
  double end_s = 0;                     // the last token, or the failure
  std::uint64_t input_tokens = 0;
  bool ok = true;  // false: failed at end_s (its energy is what it used until then)
};

// Black-box segments: prefill costing the whole prompt over [start, first token], where
// start is the first token less the prompt's time at the run's fast prefill rate (the
// 90th percentile of input_tokens / (first token - send_s) over the requests with a
// token), or send_s if later: the wait before it is queueing (a failed request without a
// token: over [send_s, end_s], costing the part of its prompt the run's median prefill
// rate covers in that time); generated token k >= 1 over
// [token k-1, token k] at context input_tokens + k. Tokens that arrive together (a
// burst: speculative decoding, a coalesced stream) put their cost at that instant.
std::vector<CostSegment> black_box_segments(std::span<const RequestTimeline> requests, const TokenCostModel& model);

// One sequence's part in an engine step: a prompt (or part of it) or one generated token.
struct StepWork {
  std::size_t request = 0;
  bool prefill = false;
  std::uint64_t tokens = 1;   // prompt tokens in this step (prefill) or 1 (decode)
  std::uint64_t context = 0;  // prefill: tokens already in the cache; decode: the keys its token attends to
                              // (prompt + the tokens generated before it), as TokenCostModel::decode_cost
};

// One engine step (a forward pass or a group of them) and who was in it.
struct EngineStep {
  double t0_s = 0, t1_s = 0;  // clock seconds
  std::vector<StepWork> work;
};

// White-box segments: every sequence in a step over the step's span, at its cost.
std::vector<CostSegment> white_box_segments(std::span<const EngineStep> steps, const TokenCostModel& model);

// How energy measured while no request was in flight is treated.
enum class IdlePolicy {
  kNone,    // reported apart (unattributed)
  kTime,    // apportioned by each request's time in flight (send to end)
  kTokens,  // apportioned by each request's tokens (prompt + generated)
};
// "none" | "time" | "tokens"; kInvalidArgument naming the choices otherwise.
Result<IdlePolicy> parse_idle_policy(std::string_view name);
std::string_view idle_policy_name(IdlePolicy p);

struct AttributionOptions {
  IdlePolicy idle_policy = IdlePolicy::kNone;
  std::optional<double> idle_power_w;  // with it, every figure also above idle (W x slice length less)
};

// One request's share, J.
struct RequestEnergy {
  double energy_j = 0;                 // prefill_j + decode_j + idle_j
  double prefill_j = 0;                // slices' energy for its prefill (and its waiting before the first token)
  double decode_j = 0;                 // for its generated tokens (and its waiting between them)
  double idle_j = 0;                   // its part of the idle energy under the policy (0 with kNone)
  std::optional<double> above_idle_j;  // energy_j less idle power over its shares; with idle_power_w
};

struct Attribution {
  std::vector<RequestEnergy> requests;  // in request order
  double total_j = 0;                   // the slices' sum
  double attributed_j = 0;              // the requests' sum
  double unattributed_idle_j = 0;       // idle energy no request took (kNone)
  double idle_j = 0;                    // energy of slices with no request in flight, before the policy
  std::optional<double> total_above_idle_j, attributed_above_idle_j, unattributed_above_idle_j;
  IdlePolicy idle_policy = IdlePolicy::kNone;
};

// Splits the slices' energy among `timelines.size()` requests by `segments` (indices into
// the timelines). A request is in flight over [send_s, end_s]. Conservation holds by
// construction: attributed_j + unattributed_idle_j == total_j up to rounding, and the
// same above idle. kInvalidArgument for slices out of order or overlapping, a negative or
// non-finite figure, a segment naming no request or ending before it starts.
Result<Attribution> attribute(std::span<const EnergySlice> slices, std::span<const CostSegment> segments,
                              std::span<const RequestTimeline> timelines, const AttributionOptions& options);

}  // namespace jouleperf
