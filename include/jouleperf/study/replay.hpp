// `jouleperf replay` as a library call: open-loop load (Poisson/gamma at a rate, a trace
// replayed, or a sweep of rates) on an OpenAI-compatible server or served in-process by
// llama.cpp (continuous or static batching), with latency percentiles, goodput under an
// SLO, the run's energy from the sampler the caller starts, optionally the same requests
// batched offline (online_vs_offline), and the run written into a results store; and the
// run's Document (console/md/csv tables and the JSON `replay --json` prints).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/llama_settings.hpp"
#include "jouleperf/engine/measured_run.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/prompt.hpp"
#include "jouleperf/estimate/carbon.hpp"

namespace jouleperf::study {

struct ReplayOptions {
  std::string engine = "openai";  // openai | llamacpp
  std::string model;              // openai: the served model name; llamacpp: the GGUF file
  std::optional<double> poisson_rps;
  std::optional<double> gamma_cv;  // with poisson_rps or rates_rps: gamma arrivals
  std::size_t requests = 100;      // requests to send (the most taken from a trace; per rate)
  bool requests_given = false;
  std::string trace;  // replay this trace's arrivals and lengths
  double speed = 1.0;
  std::optional<double> from_s, to_s;      // trace window, trace seconds
  std::uint64_t input = 128, output = 32;  // lengths with poisson_rps / rates_rps
  std::optional<std::size_t> max_concurrency;
  std::string slo;  // "ttft=0.5,tpot=0.05"
  std::uint64_t seed = 1;
  double idle_s = 0.0;
  std::optional<double> idle_power_w;
  double max_failure_rate = 0.0;  // in [0, 1]
  // llamacpp
  std::string batching = "continuous";
  std::uint32_t max_batch = 8;
  double static_wait_s = 0.0;
  bool offline_compare = false;
  std::uint64_t warmup = 1;
  LlamaSettings llama;
  std::optional<PromptTexts> prompts;
  // openai: the server (its model is set from `model`); unset with llamacpp
  std::optional<OpenAiConfig> openai;
  // rate sweeps
  std::vector<double> rates_rps;
  double idle_gap_s = 5.0;
  bool idle_gap_given = false;
  std::optional<double> duration_s;
  std::string store;  // results store to write the run into ("" = none)
  // Energy per request (docs/serving.md): the idle energy apart (none) or apportioned by
  // time in flight or tokens. Not with --offline-compare or --rates (not attributed yet).
  std::string idle_policy = "none";
  // The split's per-token cost model (study/cost_model.hpp, choose_cost_model): "" (the
  // model's FLOPs where its architecture is known, else equal), "equal", "flops" or a
  // results store whose cells it is fitted from.
  std::string cost_model;
  // Chargeback (docs/serving.md): energy per request summed per value of this trace
  // column (a tag: tenant, model, log type), each group's share and emissions under
  // `carbon`. Needs a trace; not with --rates.
  std::string group_by;
  estimate::CarbonOptions carbon;
};

// A run or phase whose failed share of requests is above max_failure_rate.
struct FailureExcess {
  std::string what;  // "replay" or "phase rate-2"
  std::size_t requests = 0, failed = 0;
  double share = 0.0;
  std::vector<std::string> reasons;  // "FAILED request N: why"
};

struct ReplayResult {
  std::string mode;                 // "replay" or "rate-sweep"
  nlohmann::json json;              // the document `replay --json` prints (per_request included)
  std::vector<FailureExcess> over;  // non-empty: the run is not a measurement of the load asked
  double max_failure_rate = 0.0;
};

// Checks the options, builds the schedule, opens the engine (or the server's client),
// warms up, starts the sampler, takes the idle baseline, runs (and with offline_compare
// runs the same requests offline), and writes the store. Fails with kInvalidArgument for
// a bad option or combination (unknown engine, no model/URL, --rates with a trace, ...),
// a bad SLO or a schedule the trace cannot give; else with the engine's, sampler's,
// meter's or store's error. Request failures are results, not errors (see `over`).
Result<ReplayResult> run_replay(const ReplayOptions& options, const SamplerStarter& start_sampler);

// The result as a Document: header lines, a latency table, per-request (llamacpp) or
// per-phase (rate sweep) tables, footer lines; its JSON is ReplayResult::json.
table::Document replay_document(const ReplayResult& result);

// One line per excess: "<what>: F of N requests failed (P%), above --max-failure-rate R; ..."
// followed by its reasons, for the caller to show.
std::vector<std::string> failure_excess_lines(const ReplayResult& result);

}  // namespace jouleperf::study
