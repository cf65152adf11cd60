// `jouleperf trace stats|bin|synth|workloads`: workload geometry. Only flag handling
// and printing live here; every figure comes from the workload library.
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/workload/json.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"
#include "jouleperf/workload/synthetic.hpp"
#include "jouleperf/workload/trace_binning.hpp"

namespace jouleperf::cli {
namespace {

using namespace jouleperf::workload;

// Flags shared by the trace subcommands that read a file.
struct TraceFlags {
  std::string file;
  std::string format = "auto";
  std::string input_col, output_col, time_col;
  std::string time_unit = "s";
  bool skip_bad = false;
  bool include_failed = false;
  std::vector<std::string> where;
  double from_s = 0.0, to_s = 0.0;
  CLI::Option* from_opt = nullptr;
  CLI::Option* to_opt = nullptr;
  bool json = false;
};

void add_trace_flags(CLI::App* cmd, TraceFlags& f) {
  cmd->add_option("file", f.file, "trace file (.csv, .jsonl, optionally .gz)")->required();
  cmd->add_option("--format", f.format, "auto|azure|azure-2023|azure-2024|burstgpt|mooncake|csv|jsonl")
      ->envname("JOULEPERF_TRACE_FORMAT");
  cmd->add_option("--input-col", f.input_col, "generic CSV/JSONL: input-length column");
  cmd->add_option("--output-col", f.output_col, "generic CSV/JSONL: output-length column");
  cmd->add_option("--time-col", f.time_col, "generic CSV/JSONL: arrival-time column (number or date)");
  cmd->add_option("--time-unit", f.time_unit, "unit of a numeric --time-col: s|ms|us|ns");
  cmd->add_flag("--skip-bad", f.skip_bad, "skip malformed rows (counted and reported) instead of failing")
      ->envname("JOULEPERF_SKIP_BAD");
  cmd->add_flag("--include-failed", f.include_failed, "BurstGPT: keep failed requests (Response tokens = 0)")
      ->envname("JOULEPERF_INCLUDE_FAILED");
  cmd->add_option("--where", f.where, "keep rows whose tag KEY equals VALUE (KEY=VALUE; repeatable)");
  f.from_opt = cmd->add_option("--from", f.from_s, "keep arrivals at or after this time, s from the first request");
  f.to_opt = cmd->add_option("--to", f.to_s, "keep arrivals before this time, s from the first request");
  cmd->add_flag("--json", f.json, "print JSON");
}

Result<LoadOptions> load_options(const TraceFlags& f) {
  LoadOptions o;
  auto fmt = parse_trace_format(f.format);
  if (!fmt.ok()) return fmt.error();
  o.format = *fmt;
  o.input_col = f.input_col;
  o.output_col = f.output_col;
  o.time_col = f.time_col;
  auto unit = parse_time_unit(f.time_unit);
  if (!unit.ok()) return unit.error();
  o.time_unit = *unit;
  o.skip_bad = f.skip_bad;
  o.include_failed = f.include_failed;
  for (const auto& w : f.where) {
    auto tf = parse_tag_filter(w);
    if (!tf.ok()) return tf.error();
    o.where.push_back(*tf);
  }
  if (f.from_opt->count() > 0) o.from_s = f.from_s;
  if (f.to_opt->count() > 0) o.to_s = f.to_s;
  return o;
}

int fail(const char* cmd, const Error& e) {
  std::fprintf(stderr, "jouleperf trace %s: %s\n", cmd, e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

void print_load_summary(const LoadSummary& s) {
  fmt::print("trace:    {} (format {})\n", s.source, trace_format_name(s.format));
  fmt::print("requests: {} (rows {}; failed excluded {}; zero-token excluded {}; skipped bad {}; filtered out {})\n",
             s.requests, s.rows, s.failed_excluded, s.zero_token_excluded, s.skipped_bad, s.filtered_out);
  for (const auto& b : s.bad_examples) fmt::print("  skipped line {}: {}\n", b.line, b.reason);
}

void print_stats(const TraceStats& t) {
  print_load_summary(t.load);
  if (!t.input) return;
  fmt::print("\n{:<8} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8}\n", "tokens", "mean", "std", "median", "p90", "p99",
             "min", "max");
  auto row = [](const char* name, const LengthStats& s) {
    fmt::print("{:<8} {:>10.2f} {:>10.2f} {:>9.1f} {:>9.1f} {:>9.1f} {:>7} {:>8}\n", name, s.mean, s.std, s.median,
               s.p90, s.p99, s.min, s.max);
  };
  row("input", *t.input);
  row("output", *t.output);
  if (!t.arrivals) {
    fmt::print("\narrivals: none (the trace has no times)\n");
    return;
  }
  const ArrivalStats& a = *t.arrivals;
  fmt::print("\narrivals: duration {:.1f} s, mean rate {:.3f} req/s", a.duration_s, a.rate_rps);
  if (a.interarrival_cv)
    fmt::print(", inter-arrival mean {:.4f} s, CV {:.3f}", *a.interarrival_mean_s, *a.interarrival_cv);
  fmt::print("{}\n", a.in_file_order ? "" : " (rows were out of time order; gaps taken after sorting)");
  fmt::print("rate series: {} buckets of {:g} s, peak {:.2f} req/s (--json for the series)\n", a.counts.size(),
             a.bucket_s, a.peak_rps);
}

void add_stats(CLI::App* trace, Context& ctx) {
  auto flags = std::make_shared<TraceFlags>();
  auto bucket = std::make_shared<double>(0.0);
  auto* cmd =
      trace->add_subcommand("stats", "lengths (mean, std, median, p90, p99, min, max), duration, rate, burstiness");
  add_trace_flags(cmd, *flags);
  cmd->add_option("--bucket", *bucket, "width of the requests-per-second series, s (0 = automatic)");
  cmd->callback([&ctx, flags, bucket] {
    auto opts = load_options(*flags);
    if (!opts.ok()) {
      ctx.exit_code = fail("stats", opts.error());
      return;
    }
    StatsOptions so;
    so.bucket_s = *bucket;
    auto stats = compute_trace_stats(flags->file, *opts, so);
    if (!stats.ok()) {
      ctx.exit_code = fail("stats", stats.error());
      return;
    }
    if (flags->json)
      fmt::print("{}\n", to_json(*stats).dump(2));
    else
      print_stats(*stats);
    ctx.exit_code = kExitOk;
  });
}

struct BinFlags {
  std::string input_edges = "32,128,256,512,1024,2048,4096,8192";
  std::string output_edges = "8,16,32,64,128,256,512";
  std::string policy = "exclude";
  std::string show = "counts";
  std::string budget, weights = "0";
  double kv_bytes_per_token = 0.0;
  std::string model;  // a built-in architecture name or a GGUF file: weights and KV bytes from it
  std::uint64_t max_batch = 1024;
  double decode_ms = 0.0, prefill_ms = 0.0;
};

Result<TraceBinningOptions> binning_options(const BinFlags& f) {
  TraceBinningOptions o;
  auto in = parse_edge_spec(f.input_edges);
  if (!in.ok()) return in.error();
  auto out = parse_edge_spec(f.output_edges);
  if (!out.ok()) return out.error();
  o.input_edges = *in;
  o.output_edges = *out;
  auto policy = parse_out_of_range(f.policy);
  if (!policy.ok()) return policy.error();
  o.policy = *policy;
  double kv_per_token = f.kv_bytes_per_token;
  std::optional<double> model_weights;
  if (!f.model.empty()) {
    // A built-in architecture by name, else a GGUF file's own tensors and hyper-parameters.
    auto arch = find_builtin_arch(f.model);
    Result<ModelInfo> info = arch.ok() ? Result<ModelInfo>(info_from_arch(*arch)) : read_gguf_info(f.model);
    if (!info.ok())
      return make_error(info.error().code,
                        "--model " + f.model + ": not a built-in architecture, and as a file: " + info.error().message);
    if (!(kv_per_token > 0)) kv_per_token = static_cast<double>(info->kv_bytes_per_token);
    model_weights = static_cast<double>(info->weight_bytes);
  }
  if (!f.budget.empty() || kv_per_token > 0) {
    if (f.budget.empty() || !(kv_per_token > 0))
      return make_error(
          Errc::kInvalidArgument,
          "batch sizes need --memory-budget and the KV bytes per token (--model or --kv-bytes-per-token)");
    MemoryModel m;
    auto budget = parse_bytes(f.budget);
    if (!budget.ok()) return budget.error();
    auto weights = parse_bytes(f.weights);
    if (!weights.ok()) return weights.error();
    m.budget_bytes = *budget;
    m.weights_bytes = (f.weights == "0" && model_weights) ? *model_weights : *weights;
    m.kv_bytes_per_token = kv_per_token;
    m.max_batch = f.max_batch;
    o.memory = m;
  }
  if (f.decode_ms > 0 || f.prefill_ms > 0) o.service = ServiceModel{f.decode_ms / 1e3, f.prefill_ms / 1e3};
  return o;
}

void print_matrix(const std::vector<std::uint64_t>& in_edges, const std::vector<std::uint64_t>& out_edges,
                  const std::function<std::string(std::size_t, std::size_t)>& cell) {
  fmt::print("{:>8} |", "I* \\ O*");
  for (auto e : out_edges) fmt::print(" {:>8}", e);
  fmt::print("\n{:-<{}}\n", "", 10 + 9 * out_edges.size());
  for (std::size_t i = 0; i < in_edges.size(); ++i) {
    fmt::print("{:>8} |", in_edges[i]);
    for (std::size_t o = 0; o < out_edges.size(); ++o) fmt::print(" {:>8}", cell(i, o));
    fmt::print("\n");
  }
}

void print_binning(const TraceBinning& t, const std::string& show) {
  const BinningResult& b = t.bins;
  print_load_summary(t.load);
  fmt::print("\nN(I*, O*) {} (rows: input edge I*, columns: output edge O*; policy {}{}{})\n",
             show == "counts"     ? "requests"
             : show == "requests" ? "share of binned requests, %"
                                  : "share of tokens, %",
             out_of_range_name(b.policy), b.input_overflow_bin ? "; last row = input overflow bin" : "",
             b.output_overflow_bin ? "; last column = output overflow bin" : "");
  print_matrix(b.input_edges, b.output_edges, [&](std::size_t i, std::size_t o) {
    if (show == "requests") return fmt::format("{:.2f}", 100.0 * b.request_share(i, o));
    if (show == "tokens") return fmt::format("{:.2f}", 100.0 * b.token_share(i, o));
    return fmt::format("{}", b.counts[i][o]);
  });
  fmt::print("\nbinned {} of {} requests", b.binned, b.requests);
  if (b.policy == OutOfRange::kExclude)
    fmt::print("; excluded {} ({:.2f}% of requests, {:.2f}% of tokens; {} by input, {} by output)", b.excluded.requests,
               100.0 * b.excluded.request_share, 100.0 * b.excluded.token_share, b.excluded.by_input,
               b.excluded.by_output);
  if (b.policy == OutOfRange::kClamp) fmt::print("; clamped into the last bin: {}", b.clamped);
  fmt::print(
      "\nfidelity: binned/real tokens {:.3f} (input {:.3f}, output {:.3f}); KS distance input {:.3f}, output {:.3f}\n",
      b.token_ratio, b.input_token_ratio, b.output_token_ratio, b.ks_input, b.ks_output);
  if (t.memory) {
    fmt::print("\nB(I*, O*): largest batch within {:.4g} GB (weights {:.4g} GB, KV {:g} B/token, cap {})\n",
               t.memory->budget_bytes / 1e9, t.memory->weights_bytes / 1e9, t.memory->kv_bytes_per_token,
               t.memory->max_batch);
    print_matrix(b.input_edges, b.output_edges,
                 [&](std::size_t i, std::size_t o) { return fmt::format("{}", t.batch_sizes[i][o]); });
  }
  if (t.concurrency) {
    const ConcurrencyStats& c = *t.concurrency;
    fmt::print(
        "\nrequests in flight at the trace's rate (decode {:g} ms/token, prefill {:g} ms/token; no queueing):\n"
        "  mean {:.2f}, p50 {}, p90 {}, p99 {}, max {}; busy {:.1f}% of {:.1f} s",
        t.service->decode_s_per_token * 1e3, t.service->prefill_s_per_token * 1e3, c.mean, c.p50, c.p90, c.p99, c.max,
        100.0 * c.busy_share, c.span_s);
    if (t.memory) fmt::print("; above the cap {:.2f}% of the time", 100.0 * c.above_cap_share);
    fmt::print("\n");
  }
}

void add_bin(CLI::App* trace, Context& ctx) {
  auto flags = std::make_shared<TraceFlags>();
  auto bf = std::make_shared<BinFlags>();
  auto* cmd = trace->add_subcommand("bin", "the paper's bins: N(I*, O*), exclusions, fidelity, batch sizes");
  add_trace_flags(cmd, *flags);
  cmd->add_option("--input-edges", bf->input_edges, "input edges: a list, pow2:LO:HI or quantiles:K")
      ->capture_default_str()
      ->envname("JOULEPERF_INPUT_EDGES");
  cmd->add_option("--output-edges", bf->output_edges, "output edges: a list, pow2:LO:HI or quantiles:K")
      ->capture_default_str()
      ->envname("JOULEPERF_OUTPUT_EDGES");
  cmd->add_option("--out-of-range", bf->policy, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str()
      ->envname("JOULEPERF_OUT_OF_RANGE");
  cmd->add_option("--show", bf->show, "matrix to print: counts|requests|tokens (shares in %)")->capture_default_str();
  cmd->add_option("--memory-budget", bf->budget, "device memory for weights + KV cache (e.g. 80GiB): B(I*, O*)");
  cmd->add_option("--weights", bf->weights, "model weight bytes (e.g. 16GB)")->capture_default_str();
  cmd->add_option("--kv-bytes-per-token", bf->kv_bytes_per_token, "KV-cache bytes per token (all layers)");
  cmd->add_option("--model", bf->model,
                  "model whose weight bytes and KV bytes/token set B(I*, O*): a built-in architecture "
                  "(e.g. Llama-3.1-8B, see `jouleperf model info`) or a GGUF file; --weights and "
                  "--kv-bytes-per-token override");
  cmd->add_option("--max-batch", bf->max_batch, "largest batch size considered")->capture_default_str();
  cmd->add_option("--decode-ms-per-token", bf->decode_ms,
                  "occupancy estimate: decode time per generated token of one request, ms");
  cmd->add_option("--prefill-ms-per-token", bf->prefill_ms, "occupancy estimate: prefill time per input token, ms");
  cmd->callback([&ctx, flags, bf] {
    if (bf->show != "counts" && bf->show != "requests" && bf->show != "tokens") {
      ctx.exit_code = fail("bin", make_error(Errc::kInvalidArgument, "--show takes counts, requests or tokens"));
      return;
    }
    auto lo = load_options(*flags);
    if (!lo.ok()) {
      ctx.exit_code = fail("bin", lo.error());
      return;
    }
    auto bo = binning_options(*bf);
    if (!bo.ok()) {
      ctx.exit_code = fail("bin", bo.error());
      return;
    }
    auto result = bin_trace(flags->file, *lo, *bo);
    if (!result.ok()) {
      ctx.exit_code = fail("bin", result.error());
      return;
    }
    if (flags->json)
      fmt::print("{}\n", to_json(*result).dump(2));
    else
      print_binning(*result, bf->show);
    ctx.exit_code = kExitOk;
  });
}

struct SynthFlags {
  std::string file, workload;
  std::size_t count = 1000;
  std::string arrivals = "poisson", lengths = "empirical";
  double rate = 0.0, cv = 0.0, speed = 1.0, from_s = 0.0, to_s = 0.0;
  CLI::Option *rate_opt = nullptr, *cv_opt = nullptr, *from_opt = nullptr, *to_opt = nullptr;
  std::uint64_t seed = 1;
  bool json = false;
  // Loader flags for FILE.
  TraceFlags trace;
};

void print_requests(const std::vector<TimedRequest>& reqs, bool json) {
  if (json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : reqs)
      a.push_back({{"arrival_s", r.arrival_s}, {"input_tokens", r.input_tokens}, {"output_tokens", r.output_tokens}});
    fmt::print("{}\n", a.dump(1));
    return;
  }
  fmt::print("arrival_s,input_tokens,output_tokens\n");
  for (const auto& r : reqs) fmt::print("{:.6f},{},{}\n", r.arrival_s, r.input_tokens, r.output_tokens);
}

void add_synth(CLI::App* trace, Context& ctx) {
  auto f = std::make_shared<SynthFlags>();
  auto* cmd = trace->add_subcommand(
      "synth", "a synthetic workload (CSV arrival_s,input_tokens,output_tokens) from a trace or an embedded workload");
  cmd->add_option("file", f->file, "trace to draw from (or --workload)");
  cmd->add_option("--workload", f->workload, "embedded workload: azure-conv-2023 | azure-code-2023")
      ->envname("JOULEPERF_WORKLOAD");
  cmd->add_option("-n,--count", f->count, "requests to draw (replay: at most; 0 = all)")->capture_default_str();
  cmd->add_option("--arrivals", f->arrivals, "poisson | gamma | replay")->capture_default_str();
  f->rate_opt = cmd->add_option("--rate", f->rate, "arrival rate, requests/s (default: the source's own)");
  f->cv_opt = cmd->add_option("--cv", f->cv, "gamma: inter-arrival coefficient of variation (default: the source's)");
  cmd->add_option("--speed", f->speed, "replay: time compression (2 = twice as fast)")->capture_default_str();
  f->from_opt = cmd->add_option("--from", f->from_s, "replay: window start, s of trace time");
  f->to_opt = cmd->add_option("--to", f->to_s, "replay: window end, s of trace time");
  cmd->add_option("--lengths", f->lengths, "empirical | lognormal | bins")->capture_default_str();
  cmd->add_option("--seed", f->seed, "random seed (same seed, same workload)")
      ->capture_default_str()
      ->envname("JOULEPERF_SEED");
  cmd->add_option("--format", f->trace.format, "trace format (see trace stats)");
  cmd->add_option("--input-col", f->trace.input_col, "generic CSV/JSONL: input-length column");
  cmd->add_option("--output-col", f->trace.output_col, "generic CSV/JSONL: output-length column");
  cmd->add_option("--time-col", f->trace.time_col, "generic CSV/JSONL: time column");
  cmd->add_option("--time-unit", f->trace.time_unit, "unit of a numeric --time-col: s|ms|us|ns");
  cmd->add_option("--where", f->trace.where, "keep rows whose tag KEY equals VALUE");
  cmd->add_flag("--json", f->json, "print a JSON array instead of CSV");
  cmd->callback([&ctx, f] {
    SynthesisOptions o;
    o.count = f->count;
    auto arrivals = parse_arrival_process(f->arrivals);
    auto lengths = parse_length_model(f->lengths);
    if (!arrivals.ok() || !lengths.ok()) {
      ctx.exit_code = fail("synth", !arrivals.ok() ? arrivals.error() : lengths.error());
      return;
    }
    o.arrivals = *arrivals;
    o.lengths = *lengths;
    if (f->rate_opt->count() > 0) o.rate_rps = f->rate;
    if (f->cv_opt->count() > 0) o.cv = f->cv;
    o.replay.speed = f->speed;
    if (f->from_opt->count() > 0) o.replay.from_s = f->from_s;
    if (f->to_opt->count() > 0) o.replay.to_s = f->to_s;
    std::mt19937_64 rng(f->seed);
    if (f->file.empty() == f->workload.empty()) {
      ctx.exit_code = fail("synth", make_error(Errc::kInvalidArgument, "give a trace FILE or --workload, not both"));
      return;
    }
    Result<std::vector<TimedRequest>> out = std::vector<TimedRequest>{};
    if (!f->workload.empty()) {
      auto w = find_default_workload(f->workload);
      if (!w.ok()) {
        ctx.exit_code = fail("synth", make_error(Errc::kInvalidArgument, w.error().message));
        return;
      }
      out = synthesize(**w, o, rng);
    } else {
      f->trace.from_opt = f->from_opt;  // windows apply at replay, not at loading
      f->trace.to_opt = f->to_opt;
      f->trace.from_s = f->trace.to_s = 0;
      auto lo = load_options(f->trace);
      if (!lo.ok()) {
        ctx.exit_code = fail("synth", lo.error());
        return;
      }
      lo->from_s.reset();
      lo->to_s.reset();
      auto t = load_timed_requests(f->file, *lo);
      if (!t.ok()) {
        ctx.exit_code = fail("synth", t.error());
        return;
      }
      out = synthesize(*t, o, rng);
    }
    if (!out.ok()) {
      ctx.exit_code = fail("synth", out.error());
      return;
    }
    print_requests(*out, f->json);
    ctx.exit_code = kExitOk;
  });
}

void add_workloads(CLI::App* trace, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = trace->add_subcommand("workloads", "the embedded default workloads and their figures");
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([&ctx, json] {
    nlohmann::json all = nlohmann::json::array();
    for (const DefaultWorkload& w : default_workloads()) {
      if (*json) {
        std::vector<std::vector<std::uint64_t>> counts;
        for (std::size_t i = 0; i < w.input_edges.size(); ++i) {
          counts.emplace_back();
          for (std::size_t o = 0; o < w.output_edges.size(); ++o) counts.back().push_back(w.count(i, o));
        }
        all.push_back({{"name", w.name},
                       {"description", w.description},
                       {"source", w.source},
                       {"attribution", w.attribution},
                       {"requests", w.requests},
                       {"duration_s", w.duration_s},
                       {"rate_rps", w.rate_rps},
                       {"interarrival_cv", w.interarrival_cv},
                       {"input_mean", w.input_mean},
                       {"output_mean", w.output_mean},
                       {"input_edges", std::vector<std::uint64_t>(w.input_edges.begin(), w.input_edges.end())},
                       {"output_edges", std::vector<std::uint64_t>(w.output_edges.begin(), w.output_edges.end())},
                       {"counts", counts},
                       {"excluded", w.excluded},
                       {"input_lognormal", {{"mu", w.input_lognormal.mu}, {"sigma", w.input_lognormal.sigma}}},
                       {"output_lognormal", {{"mu", w.output_lognormal.mu}, {"sigma", w.output_lognormal.sigma}}}});
        continue;
      }
      fmt::print("{}: {}\n  from {} ({})\n", w.name, w.description, w.source, w.attribution);
      fmt::print(
          "  {} requests over {:.0f} s ({:.2f} req/s, inter-arrival CV {:.2f}); mean input {:.1f}, output {:.1f} "
          "tokens\n",
          w.requests, w.duration_s, w.rate_rps, w.interarrival_cv, w.input_mean, w.output_mean);
      fmt::print(
          "  log-normal fits: input mu {:.3f} sigma {:.3f}; output mu {:.3f} sigma {:.3f}; {} excluded by the default "
          "bins\n",
          w.input_lognormal.mu, w.input_lognormal.sigma, w.output_lognormal.mu, w.output_lognormal.sigma, w.excluded);
    }
    if (*json) fmt::print("{}\n", all.dump(2));
    ctx.exit_code = kExitOk;
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
