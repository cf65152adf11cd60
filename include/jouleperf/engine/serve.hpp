// Online serving inside an engine: requests arrive over time (seconds after the start of
// serve()) and are batched either continuously (sequences join and leave a running
// batch at every decode step, as vLLM and llama-server do) or statically (batches of up
// to max_batch run to completion before the next one starts). Every request has exactly
// its I prompt and O generated tokens, end-of-sequence ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"  // EngineStep
#include "jouleperf/engine/engine.hpp"

namespace jouleperf {

struct ServeRequest {
  double arrival_s = 0;  // seconds after the start of serve(), >= 0, finite
  std::uint64_t input_tokens = 1, output_tokens = 1;
  std::uint64_t seed = 1;  // prompt token ids come from (seed, index of the request)
};

struct ServeOptions {
  BatchingMode batching = BatchingMode::kContinuous;
  std::uint32_t max_batch = 8;  // continuous: most sequences at once; static: batch size
  double static_wait_s = 0.0;   // static: longest wait for a batch to fill once its first request
                                // has arrived (0 = run with whoever is waiting)
  DecodeStrategy strategy = DecodeStrategy::kGreedy;
  SamplingParams sampling;  // with kSample; request i draws from sampling.seed + i
  // A request the engine serves as a separate call that fails (openai: HTTP 5xx, a stall)
  // fails serve() by default, as an engine error does; false: it is a result
  // (ServedRequest::ok false, with its error) and serve() succeeds with the rest.
  bool fail_on_request_failure = true;
  // Keep every scheduling step's span and sequences (ServeResult::steps), for white-box
  // energy per request (engine/attribution.hpp). One entry per sequence per step.
  bool record_steps = false;
};

// One request's life, in clock seconds (the same clock as ServeResult::start_s).
struct ServedRequest {
  double arrival_s = 0;                               // start_s + ServeRequest::arrival_s
  double admitted_s = 0;                              // it got a sequence slot and its prefill began
  double first_token_s = 0;                           // its first generated token existed
  double end_s = 0;                                   // its last generated token existed
  std::uint64_t input_tokens = 0, output_tokens = 0;  // output_tokens: as generated
  std::vector<double> token_s;                        // when each generated token existed
  // How late it was handed to the engine after arrival_s, s: 0 in-process; a client
  // engine (openai) sends it when a concurrency slot frees, so the send is
  // arrival_s + lateness_s (and admitted_s is that send).
  double lateness_s = 0;
  bool ok = true;        // false: it failed (error says why) and its times end at the failure
  std::string error;     // "" when ok; else "HTTP 500: ...", "stalled: ...", "rejected: ..."
  std::string mismatch;  // "" when its token counts agree with what was asked; else what differs
  // What a server reported (client engines only; 0, unset or "" otherwise).
  long http_status = 0;
  std::optional<std::uint64_t> usage_prompt_tokens, usage_completion_tokens;
  std::string finish_reason;
  // The energy charged to it, J, where the engine can attribute one (the simulator: its
  // share of the steps it took part in); unset when only the whole run is metered.
  std::optional<double> energy_j;
  double ttft_s() const { return first_token_s - arrival_s; }  // queueing + prefill
  double e2e_s() const { return end_s - arrival_s; }
};

struct ServeResult {
  double start_s = 0, end_s = 0;        // clock seconds: serve() began / the last token existed
  std::vector<ServedRequest> requests;  // in the order given
  std::uint64_t forwards = 0;           // engine forward calls (llama_decode)
  double mean_batch = 0;                // sequences per scheduling step (decodes + prefills), mean
  std::uint64_t peak_batch = 0;         // most sequences admitted at once
  double busy_s = 0;                    // time inside forward calls and token choice (the rest: waiting)
  bool simulated = false;               // the sim engine: every time and energy is simulated, nothing ran
  std::optional<double> energy_j;       // simulated: the run's energy, all devices, J; unset when measured
  // With ServeOptions::record_steps, engines that schedule steps themselves (llamacpp):
  // each step's span on the clock and who was in it (request = index in the order given);
  // empty otherwise.
  std::vector<EngineStep> steps;
  std::size_t failed() const;  // requests with ok false
};

// Checks requests and options before serving: kInvalidArgument for an empty list, a
// negative or non-finite arrival, zero input or output tokens, max_batch 0, or a
// negative or non-finite static_wait_s. Arrivals need not be sorted.
Status validate_serve(const std::vector<ServeRequest>& requests, const ServeOptions& options);

// One sequence's part in a scheduling step: its whole prompt (a newcomer's prefill)
// or one decode token (a running sequence).
struct StepSequence {
  std::uint32_t slot = 0;   // sequence slot, < max_batch; reused once released
  std::size_t request = 0;  // index into serve()'s request list
  bool prefill = false;
};

// What an engine provides to run_serve_loop: the forward passes and the memory.
class ServeBackend {
 public:
  virtual ~ServeBackend() = default;
  // Runs one step: prefill for every newcomer and one decode token for every running
  // sequence, in one or more forward calls; calls token_ready(k) as soon as step[k]'s
  // next token exists. Returns the forward calls made; fails with the engine's error.
  virtual Result<std::uint64_t> forward(std::span<const StepSequence> step,
                                        const std::function<void(std::size_t)>& token_ready) = 0;
  // The sequence in `slot` has all its tokens: free its memory (KV cells) for reuse.
  virtual Status release(std::uint32_t slot) = 0;
};

// The scheduler shared by engines. Starts `meter` (if given; no phase names) at the
// start and leaves it running. Waits on `clock` until the next arrival when nothing
// is running. Continuous: before every step, waiting requests are admitted (earliest
// arrival first) into free slots up to max_batch, and the step holds their prefills and
// one decode token of every running sequence; finished sequences are released after
// the step. Static: a batch of up to max_batch waiting requests is admitted only when
// no sequence is running, once max_batch are waiting, static_wait_s has passed since
// the first of them arrived, or no more requests are to come; then it runs until its
// longest member ends (each member stops at its own O). Fails like validate_serve or
// with the backend's error.
Result<ServeResult> run_serve_loop(ServeBackend& backend, const std::vector<ServeRequest>& requests,
                                   const ServeOptions& options, const Clock& clock, Meter* meter);

}  // namespace jouleperf
