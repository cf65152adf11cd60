// `jouleperf trace stats|bin|synth|workloads`: workload geometry. Only flag handling lives
// here; every figure and table comes from the workload library (trace_documents.hpp).
#include <memory>
#include <string>

#include "commands.hpp"
#include "jouleperf/model/documents.hpp"
#include "jouleperf/workload/trace_documents.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

using namespace jouleperf::workload;

void add_read_flags(CLI::App* cmd, TraceReadOptions& f, bool window) {
  cmd->add_option("--format", f.format, "auto|azure|azure-2023|azure-2024|burstgpt|mooncake|csv|jsonl")
      ->envname("JOULEPERF_TRACE_FORMAT");
  cmd->add_option("--input-col", f.input_col, "generic CSV/JSONL: input-length column");
  cmd->add_option("--output-col", f.output_col, "generic CSV/JSONL: output-length column");
  cmd->add_option("--time-col", f.time_col, "generic CSV/JSONL: arrival-time column (number or date)");
  cmd->add_option("--time-unit", f.time_unit, "unit of a numeric --time-col: s|ms|us|ns");
  cmd->add_option("--where", f.where, "keep rows whose tag KEY equals VALUE (KEY=VALUE; repeatable)");
  if (!window) return;
  cmd->add_flag("--skip-bad", f.skip_bad, "skip malformed rows (counted and reported) instead of failing")
      ->envname("JOULEPERF_SKIP_BAD");
  cmd->add_flag("--include-failed", f.include_failed, "BurstGPT: keep failed requests (Response tokens = 0)")
      ->envname("JOULEPERF_INCLUDE_FAILED");
  cmd->add_option("--from", f.from_s, "keep arrivals at or after this time, s from the first request");
  cmd->add_option("--to", f.to_s, "keep arrivals before this time, s from the first request");
}

struct StatsFlags {
  std::string file;
  TraceReadOptions read;
  StatsOptions stats;
  OutputFlags out;
};

int run_stats(const StatsFlags& f) {
  constexpr const char* kCommand = "trace stats";
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  auto load = to_load_options(f.read);
  if (!load) return fail(kCommand, load.error());
  auto stats = compute_trace_stats(f.file, *load, f.stats);
  if (!stats) return fail(kCommand, stats.error());
  return emit(f.out, *format, stats_document(*stats), kCommand);
}

void add_stats(CLI::App* trace, Context& ctx) {
  auto f = std::make_shared<StatsFlags>();
  auto* cmd =
      trace->add_subcommand("stats", "lengths (mean, std, median, p90, p99, min, max), duration, rate, burstiness");
  cmd->add_option("file", f->file, "trace file (.csv, .jsonl, optionally .gz)")->required();
  add_read_flags(cmd, f->read, true);
  cmd->add_option("--bucket", f->stats.bucket_s, "width of the requests-per-second series, s (0 = automatic)");
  add_output_flags(cmd, f->out);
  cmd->callback([&ctx, f] { ctx.exit_code = run_stats(*f); });
}

struct BinFlags {
  std::string file;
  TraceReadOptions read;
  BinRequest bin;
  std::string model;  // a built-in architecture name or a GGUF file: weights and KV bytes from it
  OutputFlags out;
};

int run_bin(BinFlags& f) {
  constexpr const char* kCommand = "trace bin";
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  if (!f.model.empty()) {
    auto info = builtin_or_gguf_info(f.model);
    if (!info) return fail(kCommand, make_error(info.error().code, "--model " + info.error().message));
    f.bin.model_weights_bytes = static_cast<double>(info->weight_bytes);
    f.bin.model_kv_bytes_per_token = static_cast<double>(info->kv_bytes_per_token);
  }
  auto load = to_load_options(f.read);
  if (!load) return fail(kCommand, load.error());
  auto options = to_binning_options(f.bin);
  if (!options) return fail(kCommand, options.error());
  auto result = bin_trace(f.file, *load, *options);
  if (!result) return fail(kCommand, result.error());
  return emit(f.out, *format, binning_document(*result, f.bin.show), kCommand);
}

void add_bin(CLI::App* trace, Context& ctx) {
  auto f = std::make_shared<BinFlags>();
  auto& b = f->bin;
  auto* cmd = trace->add_subcommand("bin", "the paper's bins: N(I*, O*), exclusions, fidelity, batch sizes");
  cmd->add_option("file", f->file, "trace file (.csv, .jsonl, optionally .gz)")->required();
  add_read_flags(cmd, f->read, true);
  cmd->add_option("--input-edges", b.input_edges, "input edges: a list, pow2:LO:HI or quantiles:K")
      ->capture_default_str()
      ->envname("JOULEPERF_INPUT_EDGES");
  cmd->add_option("--output-edges", b.output_edges, "output edges: a list, pow2:LO:HI or quantiles:K")
      ->capture_default_str()
      ->envname("JOULEPERF_OUTPUT_EDGES");
  cmd->add_option("--out-of-range", b.policy, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str()
      ->envname("JOULEPERF_OUT_OF_RANGE");
  cmd->add_option("--show", b.show, "matrix to print: counts|requests|tokens (shares in %)")->capture_default_str();
  cmd->add_option("--memory-budget", b.budget, "device memory for weights + KV cache (e.g. 80GiB): B(I*, O*)");
  cmd->add_option("--weights", b.weights, "model weight bytes (e.g. 16GB)")->capture_default_str();
  cmd->add_option("--kv-bytes-per-token", b.kv_bytes_per_token, "KV-cache bytes per token (all layers)");
  cmd->add_option("--model", f->model,
                  "model whose weight bytes and KV bytes/token set B(I*, O*): a built-in architecture "
                  "(e.g. Llama-3.1-8B, see `jouleperf model info`) or a GGUF file; --weights and "
                  "--kv-bytes-per-token override");
  cmd->add_option("--max-batch", b.max_batch, "largest batch size considered")->capture_default_str();
  cmd->add_option("--decode-ms-per-token", b.decode_ms,
                  "occupancy estimate: decode time per generated token of one request, ms");
  cmd->add_option("--prefill-ms-per-token", b.prefill_ms, "occupancy estimate: prefill time per input token, ms");
  add_output_flags(cmd, f->out);
  cmd->callback([&ctx, f] { ctx.exit_code = run_bin(*f); });
}

struct SynthFlags {
  SynthRequest request;
  OutputFlags out;
};

int run_synth(const SynthFlags& f) {
  constexpr const char* kCommand = "trace synth";
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  auto reqs = synthesize_requests(f.request);
  if (!reqs) return fail(kCommand, reqs.error());
  return emit(f.out, *format, requests_document(*reqs), kCommand);
}

void add_synth(CLI::App* trace, Context& ctx) {
  auto f = std::make_shared<SynthFlags>();
  auto& r = f->request;
  auto* cmd = trace->add_subcommand(
      "synth", "a synthetic workload (CSV arrival_s,input_tokens,output_tokens) from a trace or an embedded workload");
  cmd->add_option("file", r.file, "trace to draw from (or --workload)");
  cmd->add_option("--workload", r.workload, "embedded workload: azure-conv-2023 | azure-code-2023")
      ->envname("JOULEPERF_WORKLOAD");
  cmd->add_option("-n,--count", r.count, "requests to draw (replay: at most; 0 = all)")->capture_default_str();
  cmd->add_option("--arrivals", r.arrivals, "poisson | gamma | replay")->capture_default_str();
  cmd->add_option("--rate", r.rate_rps, "arrival rate, requests/s (default: the source's own)");
  cmd->add_option("--cv", r.cv, "gamma: inter-arrival coefficient of variation (default: the source's)");
  cmd->add_option("--speed", r.speed, "replay: time compression (2 = twice as fast)")->capture_default_str();
  cmd->add_option("--from", r.from_s, "replay: window start, s of trace time");
  cmd->add_option("--to", r.to_s, "replay: window end, s of trace time");
  cmd->add_option("--lengths", r.lengths, "empirical | lognormal | bins")->capture_default_str();
  cmd->add_option("--seed", r.seed, "random seed (same seed, same workload)")
      ->capture_default_str()
      ->envname("JOULEPERF_SEED");
  add_read_flags(cmd, r.read, false);
  f->out.output = "csv";  // a workload file by default
  add_output_flags(cmd, f->out);
  cmd->callback([&ctx, f] { ctx.exit_code = run_synth(*f); });
}

void add_workloads(CLI::App* trace, Context& ctx) {
  auto out = std::make_shared<OutputFlags>();
  auto* cmd = trace->add_subcommand("workloads", "the embedded default workloads and their figures");
  add_output_flags(cmd, *out);
  cmd->callback([&ctx, out] {
    auto format = output_format(*out, "trace workloads");
    ctx.exit_code =
        format ? emit(*out, *format, workloads_document(), "trace workloads") : fail("trace workloads", format.error());
  });
}

}  // namespace

void add_trace_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("trace", "workload geometry of a trace: statistics, bins, synthetic workloads");
  cmd->require_subcommand(1);
  add_stats(cmd, ctx);
  add_bin(cmd, ctx);
  add_synth(cmd, ctx);
  add_workloads(cmd, ctx);
}

}  // namespace jouleperf::cli
