// `jouleperf estimate`: a workload (trace or embedded) and a results store -> the paper's
// estimate per configuration, the corrected one, the FLOPs-ideal baseline (Table 4),
// savings against the baseline configuration and carbon. Only flag handling and printing
// live here; every figure comes from the estimate library.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::cli {
namespace {

using namespace jouleperf::estimate;

struct EstimateFlags {
  std::string store, trace, workload;
  std::string format = "auto", input_col, output_col;
  bool skip_bad = false, include_failed = false;
  std::vector<std::string> where;
  std::string input_edges, output_edges, out_of_range = "exclude";
  std::string hardware, hardware_file, precision, arch, baseline;
  double tdp_w = 0.0, peak_flops = 0.0;
  std::uint64_t max_batch = 0;
  std::string missing = "interpolate";
  std::string composition = "none";
  CarbonOptions carbon;
  double scale_input = 1.0, scale_output = 1.0;
  std::string json_file;
  bool save = false;
};

int fail(const Error& e) {
  std::fprintf(stderr, "jouleperf estimate: %s\n", e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

// The workload's per-request lengths and a description of where they come from.
struct Lengths {
  RequestLengths lengths;
  std::string name, trace, source;
};

Result<Lengths> load_lengths(const EstimateFlags& f) {
  Lengths out;
  if (!f.workload.empty()) {
    auto w = workload::find_default_workload(f.workload);
    if (!w.ok()) return make_error(Errc::kInvalidArgument, w.error().message);
    out.lengths = lengths_from_default(**w);
    out.name = f.workload;
    out.trace = "embedded:" + f.workload;
    out.source = "embedded quantile tables of " + f.workload +
                 " spread within each bin (input and output independent); the trace's own per-request lengths are not "
                 "embedded";
    return out;
  }
  workload::LoadOptions lo;
  auto fmt = workload::parse_trace_format(f.format);
  if (!fmt.ok()) return fmt.error();
  lo.format = *fmt;
  lo.input_col = f.input_col;
  lo.output_col = f.output_col;
  lo.skip_bad = f.skip_bad;
  lo.include_failed = f.include_failed;
  for (const auto& w : f.where) {
    auto tf = workload::parse_tag_filter(w);
    if (!tf.ok()) return tf.error();
    lo.where.push_back(*tf);
  }
  auto t = workload::load_timed_requests(f.trace, lo);
  if (!t.ok()) return t.error();
  if (t->requests.empty())
    return make_error(Errc::kParse,
                      fmt::format("{}: no requests left to estimate ({} rows: {} failed, {} with zero tokens, {} "
                                  "filtered out, {} skipped as bad)",
                                  f.trace, t->load.rows, t->load.failed_excluded, t->load.zero_token_excluded,
                                  t->load.filtered_out, t->load.skipped_bad));
  for (const auto& r : t->requests) {
    out.lengths.inputs.push_back(r.input_tokens);
    out.lengths.outputs.push_back(r.output_tokens);
  }
  std::string stem = std::filesystem::path(f.trace).stem().string();
  if (std::filesystem::path(stem).extension() == ".csv" || std::filesystem::path(stem).extension() == ".jsonl")
    stem = std::filesystem::path(stem).stem().string();  // trace.csv.gz -> trace
  out.name = stem;
  out.trace = f.trace;
  out.source = "trace " + f.trace;
  if (t->load.zero_token_excluded > 0)
    out.source += fmt::format(" ({} requests with zero input or output tokens excluded)", t->load.zero_token_excluded);
  return out;
}

// Edges from a flag, else the lengths measured in the store.
Result<std::vector<std::uint64_t>> edges(const std::string& flag, const std::set<std::uint64_t>& measured,
                                         const char* what) {
  if (flag.empty()) {
    if (measured.empty()) return make_error(Errc::kNotFound, "the store holds no measured cell");
    return std::vector<std::uint64_t>(measured.begin(), measured.end());
  }
  auto spec = workload::parse_edge_spec(flag);
  if (!spec.ok()) return spec.error();
  if (spec->kind == workload::EdgeSpec::Kind::kQuantiles)
    return make_error(Errc::kInvalidArgument, std::string("--") + what + "-edges: quantiles are not supported here");
  return workload::resolve_edges(*spec, {});
}

// The architecture of a configuration: --arch, else its model (a built-in name or a GGUF).
Result<ModelInfo> model_of(const study::Config& c, const std::string& arch_flag) {
  const std::string name = arch_flag.empty() ? c.model : arch_flag;
  if (name.empty()) return make_error(Errc::kNotFound, "no model named (give --arch)");
  auto arch = find_builtin_arch(name);
  if (arch.ok()) return info_from_arch(*arch);
  auto info = read_gguf_info(name);
  if (!info.ok())
    return make_error(info.error().code,
                      "model '" + name + "': not a built-in architecture, and as a GGUF file: " + info.error().message);
  return info;
}

Result<DeviceRating> device_of(const study::Config& c, const EstimateFlags& f,
                               const hardware::HardwareRegistry& registry) {
  if (f.tdp_w > 0.0 || f.peak_flops > 0.0) {
    if (!(f.tdp_w > 0.0) || !(f.peak_flops > 0.0))
      return make_error(Errc::kInvalidArgument, "--tdp-w and --peak-flops go together");
    return DeviceRating{f.tdp_w, f.peak_flops, fmt::format("--tdp-w {:g} --peak-flops {:g}", f.tdp_w, f.peak_flops)};
  }
  std::string name = f.hardware;
  if (name.empty()) name = c.setting("hardware").value_or("");
  if (name.empty())
    return make_error(Errc::kNotFound, "no hardware profile (give --hardware NAME or --tdp-w and --peak-flops)");
  auto profile = registry.find(name);
  if (!profile.ok()) return profile.error();
  auto precision =
      f.precision.empty() ? precision_for_weight_type(c.weight_type) : hardware::parse_precision(f.precision);
  if (!precision.ok()) return precision.error();
  return rating_from_profile(*profile, *precision);
}

std::string opt_pct(const std::optional<double>& v) { return v ? fmt::format("{:.1f}", *v) : "-"; }

// "58.2 [56.1, 60.3]": the saving and its paired 95 % interval, when there is one.
std::string saving_text(const estimate::ConfigReport& r) {
  if (!r.saving_pct) return "-";
  if (!r.saving_lo_pct || !r.saving_hi_pct) return fmt::format("{:.1f}", *r.saving_pct);
  return fmt::format("{:.1f} [{:.1f}, {:.1f}]", *r.saving_pct, *r.saving_lo_pct, *r.saving_hi_pct);
}

void print_table(const WorkloadEstimate& w) {
  fmt::print("workload: {} ({}), {} requests in {} bins ({} excluded past the last edges)\n", w.workload.name,
             w.workload.trace, w.workload.requests, w.workload.bins.size(), w.workload.excluded);
  if (w.scale.input != 1.0 || w.scale.output != 1.0)
    fmt::print("lengths scaled before binning: input x{:g}, output x{:g}\n", w.scale.input, w.scale.output);
  fmt::print("missing bins: {}; baseline: {}; interval: +-{:g} standard errors + sensor bound\n",
             missing_bins_name(w.missing), w.baseline ? *w.baseline : "none", w.sigmas);
  fmt::print("\n{:<20} {:>11} {:>25} {:>11} {:>9} {:>20} {:>11} {:>11} {:>11}\n", "config", "energy Wh", "interval Wh",
             "ideal Wh", "> ideal %", "saving %", "J/request", "mJ/out tok", "corrected Wh");
  for (const auto& r : w.configs) {
    const auto& e = r.estimate;
    fmt::print("{:<20} {:>11.4g} {:>25} {:>11} {:>9} {:>20} {:>11.4g} {:>11.4g} {:>11}\n", e.config, r.energy_wh,
               fmt::format("[{:.4g}, {:.4g}]", to_wh(e.paper.lo_j), to_wh(e.paper.hi_j)),
               r.ideal ? fmt::format("{:.4g}", to_wh(r.ideal->energy_j)) : "-", opt_pct(r.above_ideal_pct),
               saving_text(r), r.per_request_j, r.per_output_token_j * 1e3,
               e.corrected ? fmt::format("{:.4g}", to_wh(e.corrected->value_j)) : "-");
  }
  fmt::print("\n");
  for (const auto& r : w.configs) {
    const auto& e = r.estimate;
    std::size_t interpolated = 0;
    for (const auto& b : e.bins) interpolated += b.interpolated ? 1 : 0;
    fmt::print("{}: energy source {}{}{}; {:.4g} gCO2e [{:.4g}, {:.4g}]; {} of {} bins interpolated", e.config,
               e.energy_source,
               e.estimated ? (e.simulated ? ", SIMULATED" : ", ESTIMATED from CPU time (a model)") : "",
               e.estimated ? "" : ", measured", r.gco2e, r.gco2e_lo, r.gco2e_hi, interpolated, e.bins.size());
    if (e.corrected_clamped > 0) fmt::print("; {} requests below the smallest measured length", e.corrected_clamped);
    if (e.corrected_uncorrected > 0)
      fmt::print("; {} requests not interpolable (ceiling kept)", e.corrected_uncorrected);
    fmt::print("\n  ideal: {}\n", r.ideal ? r.ideal->source : r.ideal_note);
    if (e.composed)
      fmt::print("  corrected for static batch composition: {:.4g} Wh [{:.4g}, {:.4g}] ({} partial batches)\n",
                 to_wh(e.composed->value_j), to_wh(e.composed->lo_j), to_wh(e.composed->hi_j),
                 e.composed_partial_batches);
  }
  fmt::print("carbon: {:g} g/kWh, PUE {:g} ({})\n", w.carbon.intensity_g_per_kwh, w.carbon.pue, w.carbon.source);
  if (!w.lengths_source.empty()) fmt::print("corrected estimate: real lengths from {}\n", w.lengths_source);
}

int run(const EstimateFlags& f) {
  if (f.trace.empty() == f.workload.empty())
    return fail(make_error(Errc::kInvalidArgument, "give --trace FILE or --workload NAME (one of them)"));
  auto missing = parse_missing_bins(f.missing);
  if (!missing.ok()) return fail(missing.error());
  auto composition = parse_batch_composition(f.composition);
  if (!composition.ok()) return fail(composition.error());
  auto policy = workload::parse_out_of_range(f.out_of_range);
  if (!policy.ok()) return fail(policy.error());
  if (auto st = validate(f.carbon); !st.ok()) return fail(st.error());
  if (!std::filesystem::exists(f.store))
    return fail(make_error(Errc::kNotFound, "store " + f.store + " does not exist"));
  // A reader unless the estimate is stored (--save): estimate works on a read-only store.
  auto store = study::Store::open(f.store, f.save ? study::StoreMode::kReadWrite : study::StoreMode::kReadOnly);
  if (!store.ok()) return fail(store.error());
  auto configs = store->configs();
  if (!configs.ok()) return fail(configs.error());
  auto cells = store->cells();
  if (!cells.ok()) return fail(cells.error());
  if (configs->empty()) return fail(make_error(Errc::kNotFound, "store " + f.store + " holds no configuration"));

  std::set<std::uint64_t> in_measured, out_measured;
  for (const auto& c : *cells) {
    if (c.status != study::CellStatus::kDone) continue;
    in_measured.insert(c.key.input_tokens);
    out_measured.insert(c.key.output_tokens);
  }
  auto in_edges = edges(f.input_edges, in_measured, "input");
  if (!in_edges.ok()) return fail(in_edges.error());
  auto out_edges = edges(f.output_edges, out_measured, "output");
  if (!out_edges.ok()) return fail(out_edges.error());

  auto lengths = load_lengths(f);
  if (!lengths.ok()) return fail(lengths.error());
  const LengthScale scale{f.scale_input, f.scale_output};
  if (auto st = scale_lengths(lengths->lengths, scale); !st.ok()) return fail(st.error());
  workload::BinningOptions bo;
  bo.input_edges = *in_edges;
  bo.output_edges = *out_edges;
  bo.policy = *policy;
  auto bins = bin_lengths(lengths->lengths, bo, lengths->name, lengths->trace);
  if (!bins.ok()) return fail(bins.error());

  hardware::HardwareRegistry registry;
  if (!f.hardware_file.empty())
    if (auto st = registry.load_file(f.hardware_file); !st.ok()) return fail(st.error());
  // Names given on the command line must resolve; a config's own model or hardware that
  // does not only leaves that config without an ideal baseline (said in the table).
  if (!f.hardware.empty())
    if (auto p = registry.find(f.hardware); !p.ok()) return fail(make_error(Errc::kInvalidArgument, p.error().message));
  if (!f.precision.empty())
    if (auto p = hardware::parse_precision(f.precision); !p.ok()) return fail(p.error());
  if (!f.arch.empty())
    if (auto m = model_of(study::Config{}, f.arch); !m.ok())
      return fail(make_error(Errc::kInvalidArgument, "--arch: " + m.error().message));
  std::vector<ConfigInputs> inputs;
  for (const auto& c : *configs) {
    ConfigInputs in;
    in.config = c;
    auto model = model_of(c, f.arch);
    auto device = device_of(c, f, registry);
    if (!device.ok() && device.error().code == Errc::kInvalidArgument && (f.tdp_w > 0.0 || f.peak_flops > 0.0))
      return fail(device.error());
    if (model.ok()) in.model = *model;
    if (device.ok()) in.device = *device;
    if (!model.ok()) in.ideal_note = model.error().message;
    if (!device.ok()) in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + device.error().message;
    inputs.push_back(std::move(in));
  }
  EstimateOptions options;
  options.missing = *missing;
  options.composition = *composition;
  options.max_batch = f.max_batch;
  auto result = estimate_workload(*bins, &lengths->lengths, inputs, *cells, options, f.carbon, f.baseline);
  if (!result.ok()) return fail(result.error());
  result->scale = scale;
  result->lengths_source = lengths->source;

  print_table(*result);
  for (const auto& r : result->refused)
    std::fprintf(stderr, "jouleperf estimate: refused %s: %s\n", r.config.c_str(), r.message.c_str());
  const nlohmann::json doc = to_json(*result);
  if (!f.json_file.empty()) {
    if (auto st = write_file_atomic(f.json_file, doc.dump(2) + "\n"); !st) return fail(st.error());
  }
  if (f.save) {
    if (auto st = store->put_artifact(study::Artifact{"estimate", result->workload.name, doc, 0.0}); !st.ok())
      return fail(st.error());
    fmt::print("stored artifact estimate/{} in {}\n", result->workload.name, f.store);
  }
  if (result->configs.empty()) {
    std::fprintf(stderr, "jouleperf estimate: no configuration could be estimated\n");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_estimate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<EstimateFlags>();
  auto* cmd = app.add_subcommand("estimate",
                                 "workload energy from a results store: the paper's estimate sum N/B * E_batch, a "
                                 "corrected one on real lengths, the FLOPs-ideal baseline, savings, carbon");
  cmd->add_option("--store", f->store, "results store (SQLite) holding the measured cells")->required();
  cmd->add_option("--trace", f->trace, "trace file to estimate (.csv, .jsonl, optionally .gz)");
  cmd->add_option("--workload", f->workload, "embedded workload: azure-conv-2023 | azure-code-2023");
  cmd->add_option("--format", f->format, "trace format: auto|azure|burstgpt|mooncake|csv|jsonl")->capture_default_str();
  cmd->add_option("--input-col", f->input_col, "generic CSV/JSONL: input-length column");
  cmd->add_option("--output-col", f->output_col, "generic CSV/JSONL: output-length column");
  cmd->add_flag("--skip-bad", f->skip_bad, "skip malformed rows instead of failing");
  cmd->add_flag("--include-failed", f->include_failed, "BurstGPT: keep failed requests");
  cmd->add_option("--where", f->where, "keep rows whose tag KEY equals VALUE (KEY=VALUE; repeatable)");
  cmd->add_option("--input-edges", f->input_edges,
                  "input bin edges: a list or pow2:LO:HI (default: the input lengths measured in the store)");
  cmd->add_option("--output-edges", f->output_edges,
                  "output bin edges: a list or pow2:LO:HI (default: the output lengths measured in the store)");
  cmd->add_option("--out-of-range", f->out_of_range, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str();
  cmd->add_option("--hardware", f->hardware,
                  "hardware profile for the ideal baseline's TDP and peak (default: the config's hardware setting)");
  cmd->add_option("--hardware-file", f->hardware_file, "JSON file of extra hardware profiles");
  cmd->add_option("--precision", f->precision,
                  "peak at this precision: fp32|tf32|bf16|fp8|int8 (default: from the "
                  "config's weight type)");
  cmd->add_option("--tdp-w", f->tdp_w, "rated power for the ideal baseline, W (with --peak-flops)");
  cmd->add_option("--peak-flops", f->peak_flops, "peak throughput for the ideal baseline, FLOP/s (with --tdp-w)");
  cmd->add_option("--arch", f->arch, "architecture whose FLOPs count (default: each config's model)");
  cmd->add_option("--baseline", f->baseline, "configuration savings are measured against (default: the one marked)");
  cmd->add_option("--max-batch", f->max_batch, "largest batch size B(I*, O*) may take (0 = no cap)")
      ->capture_default_str();
  cmd->add_option("--composition", f->composition,
                  "also price the static batches requests form (docs/estimate.md 4b): none | padded (prompts padded "
                  "to the longest, HF generate) | ragged (llama.cpp)")
      ->capture_default_str();
  cmd->add_option("--missing", f->missing, "bins without a measured cell: interpolate (in log-length space) | refuse")
      ->capture_default_str();
  cmd->add_option("--carbon-intensity", f->carbon.intensity_g_per_kwh, "grid carbon intensity, gCO2e/kWh")
      ->capture_default_str();
  cmd->add_option("--pue", f->carbon.pue, "data-centre power usage effectiveness (>= 1)")->capture_default_str();
  cmd->add_option("--scale-input", f->scale_input, "multiply input lengths by this before binning")
      ->capture_default_str();
  cmd->add_option("--scale-output", f->scale_output, "multiply output lengths by this before binning")
      ->capture_default_str();
  cmd->add_option("--json", f->json_file, "write the estimate artifact (JSON) to this file");
  cmd->add_flag("--save", f->save, "store the estimate in the store as artifact estimate/<workload>");
  cmd->callback([&ctx, f, cmd] {
    auto* ci = cmd->get_option("--carbon-intensity");
    auto* pue = cmd->get_option("--pue");
    if (ci->count() > 0 || pue->count() > 0)
      f->carbon.source =
          fmt::format("{:g} g/kWh {}; PUE {:g} {}", f->carbon.intensity_g_per_kwh,
                      ci->count() > 0 ? "set by the user" : "(US EIA, U.S. utility-scale generation 2022, CO2 only)",
                      f->carbon.pue, pue->count() > 0 ? "set by the user" : "(Uptime Institute 2023 global average)");
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
