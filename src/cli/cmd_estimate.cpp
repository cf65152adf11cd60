// `jouleperf estimate`: a workload (trace or embedded) and a results store -> the paper's
// estimate per configuration, the corrected one, the FLOPs-ideal baseline (Table 4),
// savings against the baseline configuration and carbon. The pipeline is
// estimate::run_workload_estimate; this file binds flags, opens the store and writes.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/estimate/workload_run.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/store_estimate.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "estimate";

struct EstimateFlags {
  std::string store;
  estimate::WorkloadRunOptions run;
  OutputFlags out;
  CLI::Option* json_opt = nullptr;
  std::string json_file;  // the old `--json FILE`: the artifact also written there
  bool save = false;
};

// The stored estimate (--save), the old --json FILE, the refusals on stderr.
int finish(const EstimateFlags& f, study::Store& store, const estimate::WorkloadEstimate& r, table::Document& doc) {
  if (!f.json_file.empty())
    if (auto st = write_file_atomic(f.json_file, doc.json.dump(2) + "\n"); !st) return fail(kCommand, st.error());
  if (f.save) {
    if (auto st = store.put_artifact(study::Artifact{"estimate", r.workload.name, doc.json, 0.0}); !st)
      return fail(kCommand, st.error());
    doc.footer.push_back(fmt::format("stored artifact estimate/{} in {}", r.workload.name, f.store));
  }
  for (const auto& x : r.refused)
    std::fprintf(stderr, "jouleperf estimate: refused %s: %s\n", x.config.c_str(), x.message.c_str());
  return kExitOk;
}

int run(EstimateFlags& f) {
  if (f.json_opt->count() > 0 && f.json_file.empty()) f.out.json = true;
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  if (auto st = estimate::check_workload_run(f.run); !st) return fail(kCommand, st.error());
  if (!std::filesystem::exists(f.store))
    return fail(kCommand, make_error(Errc::kNotFound, "store " + f.store + " does not exist"));
  // A reader unless the estimate is stored (--save): estimate works on a read-only store.
  auto store = study::Store::open(f.store, f.save ? study::StoreMode::kReadWrite : study::StoreMode::kReadOnly);
  if (!store) return fail(kCommand, store.error());
  auto r = study::estimate_store(*store, f.run);
  if (!r) return fail(kCommand, r.error());
  auto doc = estimate::workload_estimate_document(*r);
  if (int rc = finish(f, *store, *r, doc); rc != kExitOk) return rc;
  if (int rc = emit(f.out, *format, doc, kCommand); rc != kExitOk) return rc;
  if (!r->configs.empty()) return kExitOk;
  std::fprintf(stderr, "jouleperf estimate: no configuration could be estimated\n");
  return kExitFailure;
}

void add_workload_flags(CLI::App* cmd, estimate::WorkloadRunOptions& o) {
  cmd->add_option("--trace", o.trace, "trace file to estimate (.csv, .jsonl, optionally .gz)");
  cmd->add_option("--workload", o.workload, "embedded workload: azure-conv-2023 | azure-code-2023");
  cmd->add_option("--trace-format,--format", o.trace_format,
                  "trace format: auto|azure|burstgpt|mooncake|csv|jsonl (--format: the old spelling)")
      ->capture_default_str();
  cmd->add_option("--input-col", o.input_col, "generic CSV/JSONL: input-length column");
  cmd->add_option("--output-col", o.output_col, "generic CSV/JSONL: output-length column");
  cmd->add_flag("--skip-bad", o.skip_bad, "skip malformed rows instead of failing");
  cmd->add_flag("--include-failed", o.include_failed, "BurstGPT: keep failed requests");
  cmd->add_option("--where", o.where, "keep rows whose tag KEY equals VALUE (KEY=VALUE; repeatable)");
  cmd->add_option("--input-edges", o.input_edges,
                  "input bin edges: a list or pow2:LO:HI (default: the input lengths measured in the store)");
  cmd->add_option("--output-edges", o.output_edges,
                  "output bin edges: a list or pow2:LO:HI (default: the output lengths measured in the store)");
  cmd->add_option("--out-of-range", o.out_of_range, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str();
  cmd->add_option("--scale-input", o.scale_input, "multiply input lengths by this before binning")
      ->capture_default_str();
  cmd->add_option("--scale-output", o.scale_output, "multiply output lengths by this before binning")
      ->capture_default_str();
}

void add_ideal_flags(CLI::App* cmd, estimate::WorkloadRunOptions& o) {
  cmd->add_option("--hardware", o.device.hardware,
                  "hardware profile for the ideal baseline's TDP and peak (default: the config's hardware setting, "
                  "else this host's CPU from /proc/cpuinfo)");
  cmd->add_option("--hardware-file", o.hardware_file, "JSON file of extra hardware profiles");
  cmd->add_option("--precision", o.device.precision,
                  "peak at this precision: fp32|tf32|bf16|fp8|int8 (default: from the config's weight type)");
  cmd->add_option("--tdp-w", o.device.tdp_w, "rated power for the ideal baseline, W (with --peak-flops)");
  cmd->add_option("--peak-flops", o.device.peak_flops, "peak throughput for the ideal baseline, FLOP/s (with --tdp-w)");
  cmd->add_option("--arch", o.arch, "architecture whose FLOPs count (default: each config's model)");
}

void add_estimate_flags(CLI::App* cmd, estimate::WorkloadRunOptions& o) {
  cmd->add_option("--baseline", o.baseline, "configuration savings are measured against (default: the one marked)");
  cmd->add_option("--max-batch", o.max_batch, "largest batch size B(I*, O*) may take (0 = no cap)")
      ->capture_default_str();
  cmd->add_option("--composition", o.composition,
                  "also price the static batches requests form (docs/estimate.md 4b): none | padded (prompts padded "
                  "to the longest, HF generate) | ragged (llama.cpp)")
      ->capture_default_str();
  cmd->add_option("--missing", o.missing, "bins without a measured cell: interpolate (in log-length space) | refuse")
      ->capture_default_str();
  cmd->add_option("--carbon-intensity", o.carbon.intensity_g_per_kwh, "grid carbon intensity, gCO2e/kWh")
      ->capture_default_str();
  cmd->add_option("--pue", o.carbon.pue, "data-centre power usage effectiveness (>= 1)")->capture_default_str();
}

}  // namespace

void add_estimate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<EstimateFlags>();
  auto* cmd = app.add_subcommand("estimate",
                                 "workload energy from a results store: the paper's estimate sum N/B * E_batch, a "
                                 "corrected one on real lengths, the FLOPs-ideal baseline, savings, carbon");
  cmd->add_option("--store", f->store, "results store (SQLite) holding the measured cells")->required();
  add_workload_flags(cmd, f->run);
  add_ideal_flags(cmd, f->run);
  add_estimate_flags(cmd, f->run);
  add_output_flags(cmd, f->out, /*with_json_switch=*/false);
  f->json_opt = cmd->add_option("--json", f->json_file,
                                "same as -o json; --json FILE (the old form) also writes the estimate artifact there")
                    ->expected(0, 1);
  cmd->add_flag("--save", f->save, "store the estimate in the store as artifact estimate/<workload>");
  cmd->callback([&ctx, f, cmd] {
    estimate::describe_carbon_source(f->run.carbon, cmd->get_option("--carbon-intensity")->count() > 0,
                                     cmd->get_option("--pue")->count() > 0);
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
