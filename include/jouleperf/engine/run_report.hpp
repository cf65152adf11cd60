// One measured batch, summarized: speeds per phase, energy per phase (from the meter's
// marks) and per request. The JSON form is the field schema of `jouleperf run --json`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/engine/engine.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

struct RequestSummary {
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  double ttft_s = 0.0;
  double e2e_s = 0.0;
  double energy_j = 0.0;  // the batch's energy split by token share (input + output)
  std::string text;       // generated text, when kept
};

struct RunSummary {
  std::uint64_t batch = 0;
  std::uint64_t input_tokens = 0;   // over the batch
  std::uint64_t output_tokens = 0;  // over the batch
  double prefill_s = 0.0;
  double decode_s = 0.0;
  double prefill_tokens_per_s = 0.0;          // input tokens / prefill_s
  std::optional<double> decode_tokens_per_s;  // tokens made by decode forwards / decode_s;
                                              // none when O = 1 (no decode forward)
  double energy_j = 0.0;                      // the meter's total
  std::optional<double> prefill_energy_j;     // from the "prefill" phase
  std::optional<double> decode_energy_j;      // from the "decode" phase
  std::optional<double> above_idle_j;
  std::string energy_source;
  bool estimated = false;
  bool below_resolution = false;
  std::vector<RequestSummary> requests;
};

// Combines a batch's result with its measurement (phases named "prefill" and "decode").
RunSummary summarize_run(const BatchResult& result, const Measurement& measurement);

// {"engine","engine_version","model","model_path","synthetic_model","strategy","batching",
//  "batch","seed","input_tokens","output_tokens","prefill_s","decode_s","prefill_tokens_per_s",
//  "decode_tokens_per_s","energy_j","prefill_energy_j","decode_energy_j","above_idle_j",
//  "energy_source","estimated","below_resolution","request_energy_basis",
//  "requests":[{"input_tokens","output_tokens","ttft_s","e2e_s","energy_j"[,"text"]}],
//  "settings":{...},"measurement":{...}}
nlohmann::json to_json(const RunSummary& summary, const BatchRequest& request, const EngineInfo& engine,
                       const Measurement& measurement);

}  // namespace jouleperf
