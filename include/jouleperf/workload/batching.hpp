// Batch sizes per bin: the largest batch that fits a memory budget, and the batch sizes
// that continuous batching would actually form when a trace is served at its own rate.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::workload {

// The memory the paper's batch-size rule needs. Weights and KV bytes per token come
// from the model's architecture (given as plain numbers until the model part exists).
struct MemoryModel {
  double budget_bytes = 0.0;        // device memory the engine may use, bytes
  double weights_bytes = 0.0;       // model weights, bytes
  double kv_bytes_per_token = 0.0;  // KV cache per token over all layers, bytes
  std::uint64_t max_batch = 1024;   // cap (the paper sweeps B = 1...1024)
};

// The largest B with weights + kv_bytes_per_token * B * (input + output) <= budget,
// capped at max_batch; 0 when not even B = 1 fits. kInvalidArgument for a non-positive
// budget or KV size, negative weights, a zero max_batch or input + output == 0.
Result<std::uint64_t> max_batch_size(const MemoryModel& memory, std::uint64_t input_tokens,
                                     std::uint64_t output_tokens);

// Parses a byte count: a number with an optional unit B, kB, MB, GB, TB (powers of
// 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. "80GiB", "1.5e9", "16 GB".
// kInvalidArgument for anything else or a negative value.
Result<double> parse_bytes(std::string_view text);

// B(I*, O*) for every bin: [input bin][output bin].
Result<std::vector<std::vector<std::uint64_t>>> batch_size_matrix(const MemoryModel& memory,
                                                                  std::span<const std::uint64_t> input_edges,
                                                                  std::span<const std::uint64_t> output_edges);

// How long a request holds a slot of the running batch. Assumption (documented in
// docs/workloads.md): service time = prefill_s_per_token * input + decode_s_per_token *
// output, the same whatever the load; slots are unlimited (no queueing), so the count
// of requests in flight is the batch size continuous batching forms at the trace's rate.
struct ServiceModel {
  double decode_s_per_token = 0.0;   // time per generated token of one request, s
  double prefill_s_per_token = 0.0;  // prompt processing time per input token, s
};

// The time-weighted distribution of the number of requests in flight, from the first
// arrival to the last completion.
struct ConcurrencyStats {
  double mean = 0.0;      // time-weighted mean batch size
  std::uint64_t p50 = 0;  // smallest k with share of time at <= k requests >= 50%
  std::uint64_t p90 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t max = 0;           // largest batch at any instant
  double span_s = 0.0;             // first arrival to last completion, s
  double busy_share = 0.0;         // share of span_s with at least one request in flight
  std::vector<double> time_share;  // [k] = share of span_s with exactly k requests in flight
  double above_cap_share = 0.0;    // share of span_s above `cap` (when cap > 0)
};

// Sweeps the jobs (sorted by arrival in place) with a min-heap of completion times:
// O(n log n) time, memory O(peak concurrency) beyond the jobs. `cap` > 0 reports the
// share of time above a batch-size cap. kInvalidArgument for a negative or non-finite
// per-token time or no jobs.
Result<ConcurrencyStats> concurrency_distribution(std::vector<TimedRequest>& jobs, const ServiceModel& service,
                                                  std::uint64_t cap = 0);

}  // namespace jouleperf::workload
