// Steady-state serving: the measurements people publish for an engine serving at a fixed
// max_num_seqs (ML.ENERGY Leaderboard: mean power, J per output token, median
// inter-token latency, output tokens/s over a steady-state window), their CSV form, and
// the simulator's prediction for the same operating point. Format and model:
// docs/fidelity.md ("Measurement files") and docs/simulator.md ("Steady-state serving").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/config.hpp"

namespace jouleperf::sim {

// One published run: an engine at max_num_seqs on num_gpus devices (tensor-parallel),
// averaged over its steady-state window. Optional figures are absent (not zero) when the
// file does not carry them; at least one is present.
struct ServingMeasurement {
  std::string gpu;                            // hardware profile name ("h100-sxm")
  std::string model;                          // built-in architecture ("Llama-3.1-8B")
  std::uint32_t num_gpus = 1;                 // tensor-parallel degree
  std::uint32_t max_num_seqs = 0;             // the engine's max batch
  double mean_batch = 0;                      // sequences per step, mean
  double mean_output_tokens = 0;              // per request, mean
  std::optional<double> mean_input_tokens;    // per request, mean (column avg_input_tokens)
  std::optional<double> power_w;              // all the run's GPUs together, W
  std::optional<double> j_per_output_token;   // GPU energy / output tokens, J
  std::optional<double> j_per_request;        // GPU energy / requests, J
  std::optional<double> median_itl_s;         // median inter-token latency, s
  std::optional<double> output_tokens_per_s;  // output tokens / s
  std::size_t line = 0;                       // 1-based line in its file
};

// Parses a measurements CSV: '#' lines are comments; the first other line is the header
// (column names, any order; unknown columns are ignored); then one run per line.
// Required columns: gpu, model, num_gpus, max_num_seqs, avg_batch_size,
// avg_output_tokens. Optional: avg_input_tokens, avg_power_w, j_per_output_token,
// j_per_request, median_itl_ms, output_tokens_per_s (at least one of the last five in
// the header). An empty optional cell is absent. kParse naming `origin`, the line and the
// column for a missing column, a short row, a number that does not parse, or a figure
// that is not positive (num_gpus and max_num_seqs whole numbers >= 1; mean batch at most
// max_num_seqs); kParse for a file with no rows.
Result<std::vector<ServingMeasurement>> parse_serving_measurements(std::string_view text, const std::string& origin);

// Reads and parses a measurements file (read_text_file's errors, then the above).
Result<std::vector<ServingMeasurement>> load_serving_measurements(const std::string& path);

// The simulator's steady state at one operating point.
struct SteadyState {
  double decode_step_s = 0;        // a step of decode rows only
  double prompt_step_s = 0;        // mean step that also prefills new prompts (0 when none)
  double prompt_step_share = 0;    // share of steps that carry a prompt: 1 - exp(-lambda)
  double mean_step_s = 0;          // mean step
  double median_itl_s = 0;         // token-weighted median step duration
  double output_tokens_per_s = 0;  // mean batch / mean step
  double power_w = 0;              // all devices, W
  double j_per_output_token = 0;   // all devices, J
  double j_per_request = 0;        // j_per_output_token * output tokens
  double kv_tokens_held = 0;       // mean batch * (input + output / 2)
  double kv_capacity_tokens = 0;   // per replica
};

// Steady-state serving of requests of `input_tokens` prompt and `output_tokens` output
// tokens at `mean_batch` sequences in flight on one replica of `c` (its hardware, stack,
// power model, precision and tp). Every step decodes the batch, each row attending to
// input + output/2 keys on average; requests start at lambda = mean_batch / output_tokens
// per step, a Poisson number in each step, each prompt prefilled whole in its step beside
// the other rows' decode (docs/simulator.md, "Steady-state serving"). kInvalidArgument for a non-positive figure, a
// model that does not fit the devices, or a batch whose KV cache (kv_tokens_held) exceeds the capacity.
Result<SteadyState> steady_state(const SimConfig& c, double mean_batch, double input_tokens, double output_tokens);

// The configuration of a measurement's run: its GPU from `registry`, its model (built-in
// architecture, bf16), tp = num_gpus, and `stack` / `power`. kInvalidArgument naming
// `origin`, the line and the field (gpu or model) for an unknown GPU or model.
Result<SimConfig> measurement_config(const ServingMeasurement& m, const hardware::HardwareRegistry& registry,
                                     const SoftwareStack& stack, const PowerModel& power, const std::string& origin);

}  // namespace jouleperf::sim
