// The main job's plan (`jouleperf study` with no file, and `make demo`): the embedded Azure
// workloads scaled down so that a sweep of a synthetic model on a small CPU finishes in
// minutes, the unoptimized baseline and the optimized configurations, and the cells to
// measure. Pure functions; study::run_main_job runs them (study/study_run.hpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/workload/default_workloads.hpp"

namespace jouleperf::study {

// How the workloads are shrunk. Lengths are divided (rounding up, so a request keeps its
// bin) and binned on coarser edges; the edges before scaling are a subset of the paper's,
// so the coarse bins are unions of the paper's bins.
struct MainJobScale {
  std::vector<std::uint64_t> input_edges = {128, 512, 2048, 8192};  // tokens, before scaling
  std::vector<std::uint64_t> output_edges = {8, 32, 128, 512};
  std::uint32_t input_divisor = 16;
  std::uint32_t output_divisor = 8;

  // Edges after scaling (input_edges / input_divisor, ...), tokens.
  std::vector<std::uint64_t> scaled_input_edges() const;
  std::vector<std::uint64_t> scaled_output_edges() const;
  // One sentence for the terminal and the report.
  std::string note() const;
};

// Checks that every edge is a positive multiple of its divisor and edges increase.
// kInvalidArgument naming the edge.
Status validate_scale(const MainJobScale& scale);

// A workload ready for the estimate: real lengths (drawn inside the embedded bins, see
// estimate::lengths_from_default), the same lengths scaled, and the scaled lengths binned
// on the scaled edges.
struct ScaledWorkload {
  std::string name;
  std::string lengths_source;  // how the per-request lengths were obtained
  estimate::RequestLengths real;
  estimate::RequestLengths scaled;
  estimate::WorkloadBins bins;  // of `scaled`, on the scaled edges
};

// Fails as validate_scale or the binning fails.
Result<ScaledWorkload> scale_default_workload(const workload::DefaultWorkload& w, const MainJobScale& scale);

// The models the main job measures (written by `jouleperf model synth`).
struct MainJobModels {
  std::string f32_path;  // the unoptimized baseline's weights
  std::string q8_path;   // quantized weights
};

// The configurations:
//   baseline      f32 weights, batch 1, static batching, 1 thread   (Config::baseline)
//   q8_0          q8_0 weights, batch 1, static, 1 thread
//   q8_0-batched  q8_0 weights, batch `max_batch`, continuous, 1 thread
//   q8_0-batched-<t>t  the same with `best_threads` threads (only when best_threads != 1)
// Each config runs at its own batch size (setting "batches").
std::vector<Config> main_job_configs(const MainJobModels& models, std::uint32_t max_batch, int best_threads);

// The study: every config over the scaled edges (I x O), each at its own batch size
// (expand_grid honours "batches"); warm-up fixed at `warmup` batches, `repetitions`
// measured ones.
Study main_job_study(const std::vector<Config>& configs, const MainJobScale& scale, std::uint32_t warmup,
                     std::uint32_t repetitions);

// The "lengths" document of a workload: CDFs of the real and the binned (ceiling) input
// and output lengths, after scaling, at most `points` points each.
nlohmann::json lengths_document(const ScaledWorkload& w, std::size_t points = 200);

// The simulated-GPU section: Llama-3.1-8B (bf16) on an A6000 under hf-eager (static
// batching at batch 1 and 8, the group's baseline) and vllm (continuous, batch 1, 8 and
// 64); each bin's estimate uses the largest batch that fits. Simulated, never measured.
std::vector<Config> simulated_gpu_configs();

}  // namespace jouleperf::study
