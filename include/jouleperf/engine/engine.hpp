// The Engine interface: run one batch of B sequences, each with exactly I prompt tokens
// and exactly O generated tokens (end-of-sequence ignored), with per-token timestamps on
// the caller's clock and `prefill` / `decode` marks on a Meter so energy splits by phase.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

struct ServeRequest;  // engine/serve.hpp
struct ServeOptions;
struct ServeResult;

enum class DecodeStrategy {
  kGreedy,       // the most likely token at every step
  kSample,       // drawn through llama.cpp's sampler chain: top-k, top-p, temperature, seeded
  kBeam,         // beam search: the beam_width most likely continuations by cumulative log-probability
  kSpeculative,  // a draft model proposes draft_tokens tokens, the target verifies them in one forward
};

enum class BatchingMode {
  kStatic,      // all B sequences start together; the batch lasts until its longest member ends
  kContinuous,  // sequences join and leave a running batch at every decode step (Engine::serve);
                // run_batch's B equal sequences arriving together are batched the same either way
};

// "greedy", "sample", "beam", "speculative"; fails with kInvalidArgument otherwise.
Result<DecodeStrategy> parse_strategy(std::string_view s);
std::string_view strategy_name(DecodeStrategy s);
// "static", "continuous"; fails with kInvalidArgument otherwise.
Result<BatchingMode> parse_batching(std::string_view s);
std::string_view batching_name(BatchingMode m);

// Sampling settings (strategy kSample).
struct SamplingParams {
  double temperature = 0.8;  // <= 0: always the most likely token
  int top_k = 40;            // keep the k most likely tokens; <= 0: all
  double top_p = 0.95;       // keep the smallest set with this much probability; 1: all
  std::uint64_t seed = 1;    // sequence s draws from seed + s
};

struct BatchRequest {
  std::uint64_t batch = 1;          // B: sequences run together
  std::uint64_t input_tokens = 1;   // I: prompt tokens per sequence (>= 1)
  std::uint64_t output_tokens = 1;  // O: generated tokens per sequence (>= 1), EOS ignored
  std::uint64_t seed = 1;           // prompt token ids: sequence s draws from seed and s
  // With an engine given real prompt text (llamacpp: LlamaEngineConfig::prompts),
  // sequence s takes prompt (prompt_offset + s) mod n instead of random ids.
  std::uint64_t prompt_offset = 0;
  DecodeStrategy strategy = DecodeStrategy::kGreedy;
  SamplingParams sampling;  // with strategy kSample
  BatchingMode batching = BatchingMode::kStatic;
  bool keep_text = false;        // detokenize each sequence's output into SequenceResult::text
  std::uint32_t beam_width = 4;  // W, with strategy kBeam (>= 1)
  // With strategy kSpeculative (the engine needs a draft model): tokens the draft proposes
  // per step (>= 1), and, when set, a probability in [0, 1] with which each draft token
  // is accepted regardless of the target's choice (seeded by sampling.seed + s) instead
  // of greedy verification: it measures the cost of that acceptance rate, not a real draft.
  std::uint32_t draft_tokens = 4;
  std::optional<double> forced_accept_rate;
};

struct SequenceResult {
  std::uint64_t input_tokens = 0;
  std::vector<std::int32_t> tokens;  // the generated token ids, in order (size O)
  std::vector<double> token_s;       // when each generated token existed, clock seconds
  double start_s = 0.0;              // when the sequence was admitted, clock seconds
  std::string text;                  // with keep_text: the generated tokens, detokenized
  // With keep_text and real prompt text: the prompt's I token ids as fed, the prompt
  // detokenized, and prompt + generated tokens detokenized together (the continuation as
  // read; it starts with prompt_text).
  std::vector<std::int32_t> prompt_tokens;
  std::string prompt_text;
  std::string text_with_prompt;
  std::uint64_t output_tokens() const { return tokens.size(); }
  double ttft_s() const { return token_s.empty() ? 0.0 : token_s.front() - start_s; }  // time to first token
  double e2e_s() const { return token_s.empty() ? 0.0 : token_s.back() - start_s; }    // admission to last token
};

// Energy the simulator gives for a batch (the `sim` engine): nothing was measured.
struct SimulatedEnergy {
  double energy_j = 0.0;          // the whole batch, all devices, J
  double prefill_energy_j = 0.0;  // until every sequence had its first token, J
  double decode_energy_j = 0.0;   // the rest, J
  std::string description;        // the simulated deployment, one line
};

struct BatchResult {
  double start_s = 0.0;               // the first forward began, clock seconds
  double prefill_end_s = 0.0;         // every sequence had its first token
  double end_s = 0.0;                 // the last token of the batch existed
  std::uint64_t input_tokens = 0;     // over the batch
  std::uint64_t output_tokens = 0;    // over the batch
  std::uint64_t decode_forwards = 0;  // engine forward calls after prefill
  std::vector<SequenceResult> sequences;
  std::optional<SimulatedEnergy> simulated;  // set by the sim engine only
  // Speculative decoding only: accepted draft tokens / (accepted + rejected), counting one
  // rejection per verification that stopped early (the tokens after it were not judged),
  // i.e. the per-token acceptance rate; unset when no draft token was judged.
  std::optional<double> draft_acceptance;
  std::uint64_t draft_forwards = 0;  // draft-model forward calls after prefill
  double prefill_s() const { return prefill_end_s - start_s; }
  double decode_s() const { return end_s - prefill_end_s; }
};

// What an engine runs: recorded with every result as its conditions.
struct EngineInfo {
  std::string engine;   // "llamacpp"
  std::string version;  // e.g. the llama.cpp release and commit
  std::string model;    // model name
  std::string model_path;
  bool synthetic_model = false;
  std::vector<std::pair<std::string, std::string>> settings;  // threads, flash attention, ...
};

// One request of a batch that failed, and why ("HTTP 500: ...", "stalled: ...").
struct RequestFailure {
  std::uint64_t request = 0;  // its index in the batch (0-based)
  std::string reason;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const EngineInfo& info() const = 0;

  // With real prompt text (llamacpp only): the tokens the first prompt takes whole as the
  // engine feeds it (BOS included), i.e. the input length that neither cuts nor extends
  // it. Unset for an engine that feeds random token ids.
  virtual std::optional<std::uint64_t> natural_input_tokens() const { return std::nullopt; }

  // Runs one batch. Timestamps are read from `clock`, which must be the sampler's clock
  // when `meter` is given. With a meter (not yet started), the engine starts it with
  // phase "prefill" just before the first forward and marks "decode" once every sequence
  // has its first token; it leaves the meter running for the caller to stop.
  // Fails with kInvalidArgument for a request the engine cannot take (zero sizes, a
  // context larger than the model allows), or the engine's own error.
  virtual Result<BatchResult> run_batch(const BatchRequest& request, const Clock& clock, Meter* meter) = 0;

  // The requests of the last run_batch that failed, each with its reason, for engines
  // that serve a batch as separate requests (openai); empty for other engines and when
  // no request of the last batch failed. A run_batch with a failed request returns an
  // error, so a non-empty list always goes with a failed batch.
  virtual std::vector<RequestFailure> last_failures() const { return {}; }

  // Serves requests online as they arrive, batched by options.batching (see
  // engine/serve.hpp, which callers include), one ServedRequest record per request
  // whichever engine serves: llamacpp in-process, openai through its server (open-loop
  // sends; request failures are per-request records with fail_on_request_failure off),
  // sim simulated (ServeResult::simulated, per-request simulated energy). The default
  // fails with kUnsupported naming the engine.
  virtual Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options,
                                    const Clock& clock, Meter* meter);
};

}  // namespace jouleperf
