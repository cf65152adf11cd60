// `trace stats|bin|synth|workloads` as library calls: the options a caller gives (plain
// settings a command line binds to), the computation, and what is printed as Documents
// (core/output.hpp). The JSON of each Document is json.hpp's, as `--json` always printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"
#include "jouleperf/workload/synthetic.hpp"
#include "jouleperf/workload/trace_binning.hpp"

namespace jouleperf::workload {

// How to read a trace file (the loader's options as text, as a user gives them).
struct TraceReadOptions {
  std::string format = "auto";                  // auto|azure|azure-2023|azure-2024|burstgpt|mooncake|csv|jsonl
  std::string input_col, output_col, time_col;  // generic CSV/JSONL columns
  std::string time_unit = "s";                  // of a numeric time column: s|ms|us|ns
  bool skip_bad = false;
  bool include_failed = false;
  std::vector<std::string> where;      // KEY=VALUE tag filters
  std::optional<double> from_s, to_s;  // arrival window, s from the first request
};

// The loader's options; kInvalidArgument for an unknown format or time unit or a
// malformed --where.
Result<LoadOptions> to_load_options(const TraceReadOptions& o);

// Statistics of a trace: header lines (source, format, row counts, skipped rows), tables
// "lengths" (input and output: count, mean, std, median, p90, p99, min, max, total, in
// tokens) and "arrivals" (quantity, value: duration, rate, gaps, the rate series' bucket
// and peak); JSON: to_json(stats) (with the series). Never fails.
table::Document stats_document(const TraceStats& stats);

// How `trace bin` is asked, as text. A model's weight bytes and KV bytes per token (from
// the model part, when the caller names one) fill weights and kv_bytes_per_token where
// the user left them at 0.
struct BinRequest {
  std::string input_edges = "32,128,256,512,1024,2048,4096,8192";
  std::string output_edges = "8,16,32,64,128,256,512";
  std::string policy = "exclude";  // exclude|clamp|overflow
  std::string show = "counts";     // counts|requests|tokens: the matrix printed
  std::string budget;              // memory budget (e.g. 80GiB); empty: no B(I*, O*)
  std::string weights = "0";       // weight bytes (e.g. 16GB)
  double kv_bytes_per_token = 0.0;
  std::optional<double> model_weights_bytes;       // from a model, B
  std::optional<double> model_kv_bytes_per_token;  // from a model, B
  std::uint64_t max_batch = 1024;
  double decode_ms = 0.0, prefill_ms = 0.0;  // occupancy estimate, ms per token (0: none)
};

// The binning options; kInvalidArgument for bad edges, policy, show, byte counts, or a
// budget without the KV bytes per token (or the reverse).
Result<TraceBinningOptions> to_binning_options(const BinRequest& r);

// A binned trace: header lines (load summary), table "bins" (the N(I*, O*) matrix chosen
// by `show`: one row per input edge, one column per output edge), "batch_sizes" (B(I*, O*),
// with a memory model), "summary" (quantity, value: binned, excluded, clamped, fidelity,
// concurrency); JSON: to_json(binning). `show` is counts|requests|tokens (shares in %).
table::Document binning_document(const TraceBinning& binning, const std::string& show);

// How `trace synth` is asked: a trace file (read with `read`) or an embedded workload.
struct SynthRequest {
  std::string file;      // a trace to draw from, or
  std::string workload;  // an embedded workload (exactly one of the two)
  std::size_t count = 1000;
  std::string arrivals = "poisson", lengths = "empirical";
  std::optional<double> rate_rps, cv, from_s, to_s;  // rate: req/s; from/to: replay window, s
  double speed = 1.0;
  std::uint64_t seed = 1;
  TraceReadOptions read;  // its from/to are ignored (windows apply at replay)
};

// The synthetic requests. kInvalidArgument for not exactly one source, an unknown
// workload, arrival process or length model; fails as the loader and synthesize fail.
Result<std::vector<TimedRequest>> synthesize_requests(const SynthRequest& r);

// Table "requests" (arrival_s, input_tokens, output_tokens); JSON: the array of them.
table::Document requests_document(const std::vector<TimedRequest>& requests);

// The embedded default workloads: table "workloads" (their figures) and, for people,
// their descriptions and attributions as footer lines; JSON: every figure, the bins and
// the log-normal fits. Never fails.
table::Document workloads_document();

}  // namespace jouleperf::workload
