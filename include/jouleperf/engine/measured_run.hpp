// `jouleperf run` as a library call: one measured batch (B sequences of I prompt and O
// generated tokens) on the in-process llama.cpp engine or an OpenAI-compatible server,
// warm-up batches first, the energy split into prefill and decode; and its Document
// (console/md/csv tables and the JSON `run --json` prints).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/engine/llama_settings.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/run_report.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

// Starts the sensors' sampler on `clock` once the pipeline is ready to measure. An error
// with an empty message means the starter has already said why (nothing more to say).
using SamplerStarter = std::function<Result<std::unique_ptr<Sampler>>(const Clock& clock)>;

struct RunOptions {
  std::string engine = "llamacpp";  // llamacpp | openai
  std::string model;                // llamacpp: GGUF path; openai: the served model name
  std::uint64_t input = 128;        // I, prompt tokens per sequence
  bool input_given = true;          // false: with a real prompt, I is the prompt's own length
  std::uint64_t output = 32;        // O, generated tokens per sequence
  std::uint64_t batch = 1;          // B
  std::uint64_t seed = 1;           // prompt token ids
  std::string strategy = "greedy";  // greedy | sample | beam | speculative
  SamplingParams sampling;
  std::optional<std::uint64_t> sample_seed;  // unset: seed
  std::string batching = "static";
  std::uint32_t beam_width = 4;
  std::uint32_t draft_tokens = 4;
  std::optional<double> accept_rate;   // speculative: forced acceptance probability in [0, 1]
  LlamaSettings llama;                 // llamacpp settings (llama.draft: the draft model)
  std::uint64_t warmup = 1;            // unmeasured batches first
  double idle_s = 0.0;                 // > 0: measure idle power this long first, s
  std::optional<double> idle_power_w;  // idle power to subtract, W (instead of measuring)
  bool print_output = false;           // keep each sequence's text
  std::optional<PromptTexts> prompts;  // llamacpp: real prompt texts (unset: random ids)
  bool prompt_text_given = false;      // a single --prompt (I defaults to its length)
  std::optional<OpenAiConfig> openai;  // engine openai: the server (its model is set from `model`)
};

// What one run produced. A failed openai batch is an outcome too (failure set): its
// requests and whatever was metered are reported, charged to no request.
struct RunOutcome {
  BatchRequest request;
  EngineInfo engine;
  std::uint64_t warmup = 0;
  std::optional<BatchResult> result;       // unset when the batch failed
  std::optional<Measurement> measurement;  // unset when no window was metered
  std::optional<RunSummary> summary;       // with result and measurement
  std::vector<std::pair<std::string, std::string>> sensor_conditions;
  bool openai = false;  // engine openai: openai_results is every request
  std::vector<OpenAiResult> openai_results;
  std::optional<Error> failure;  // a failed openai batch
  std::string failed_phase;      // "warm-up N" or "measured batch"
};

// Checks the options, opens the engine, runs the warm-up batches, starts the sampler,
// takes the idle baseline and runs the measured batch. Fails with kInvalidArgument for
// an unknown engine/strategy/batching/flash-attn, a missing model or URL, --draft
// without speculative (or the reverse), or what the engine refuses (I+O beyond its
// context); with the engine's, sampler's or meter's error otherwise.
Result<RunOutcome> run_measured_batch(const RunOptions& options, const SamplerStarter& start_sampler);

// The openai engine's report of every request: {"requests_total","requests_ok",
// "requests_failed","failures","mismatches","requests"}.
nlohmann::json openai_requests_json(const std::vector<OpenAiResult>& results);

// The outcome as a Document: console/md/csv tables (phases, requests) and the JSON of
// `run --json` (ok, the run_report fields, decoding, sensor conditions, openai). A failed
// batch gives {"ok": false, "phase", "error", ...} and its failures as lines.
table::Document run_document(const RunOutcome& outcome);

// "FAILED request N: why" for each failed openai request (empty otherwise).
std::vector<std::string> failed_request_lines(const RunOutcome& outcome);

}  // namespace jouleperf
