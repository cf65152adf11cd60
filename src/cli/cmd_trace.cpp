// `jouleperf trace stats|bin|synth|workloads`: workload geometry. Only flag handling
// and printing live here; every figure comes from the workload library.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "jouleperf/workload/json.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"

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
  cmd->add_flag("--skip-bad", f.skip_bad, "skip malformed rows (counted and reported) instead of failing");
  cmd->add_flag("--include-failed", f.include_failed, "BurstGPT: keep failed requests (Response tokens = 0)");
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
  fmt::print("requests: {} (rows {}; failed excluded {}; skipped bad {}; filtered out {})\n", s.requests, s.rows,
             s.failed_excluded, s.skipped_bad, s.filtered_out);
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

}  // namespace

void add_trace_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("trace", "workload geometry of a trace: statistics, bins, synthetic workloads");
  cmd->require_subcommand(1);
  add_stats(cmd, ctx);
}

}  // namespace jouleperf::cli
