// `jouleperf validate --engine sim`: the workload estimate checked where measurement noise
// is zero. Cells at the bin edges and a full run of every request at its real lengths
// (static batches of the estimate's B per bin) are both simulated; the paper's estimate,
// the per-request corrected one and the one corrected for batch composition are compared
// with the run, and the paper's error is split into its causes (docs/estimate.md 4b,
// docs/fidelity.md "Estimate validated on the simulator"). Every figure is SIMULATED.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/study/full_validation.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/synthetic.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

struct ValidateFlags {
  std::string engine = "sim";
  DeploymentFlags deploy;
  std::string trace, workload, format = "auto";
  std::string input_edges = "pow2:32:8192", output_edges = "pow2:8:512", out_of_range = "exclude";
  std::string batches = "pow2:1:64";
  std::uint64_t max_batch = 0;
  std::string composition = "padded";
  std::string order;  // default: shuffle for --workload, trace for --trace
  std::uint64_t seed = 1;
  std::string json_file;
};

int fail(const Error& e) {
  std::fprintf(stderr, "jouleperf validate: %s\n", e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

Result<std::vector<std::uint64_t>> list_of(const std::string& flag, const char* what) {
  auto spec = workload::parse_edge_spec(flag);
  if (!spec.ok()) return make_error(Errc::kInvalidArgument, std::string("--") + what + ": " + spec.error().message);
  if (spec->kind == workload::EdgeSpec::Kind::kQuantiles)
    return make_error(Errc::kInvalidArgument, std::string("--") + what + ": quantiles are not supported here");
  return workload::resolve_edges(*spec, {});
}

Result<estimate::RequestLengths> load(const ValidateFlags& f, std::string& name, std::string& trace) {
  estimate::RequestLengths out;
  if (!f.workload.empty()) {
    auto w = workload::find_default_workload(f.workload);
    if (!w.ok()) return make_error(Errc::kInvalidArgument, w.error().message);
    name = f.workload;
    trace = "embedded:" + f.workload;
    return estimate::lengths_from_default(**w);
  }
  workload::LoadOptions lo;
  auto format = workload::parse_trace_format(f.format);
  if (!format.ok()) return format.error();
  lo.format = *format;
  auto t = workload::load_timed_requests(f.trace, lo);
  if (!t.ok()) return t.error();
  for (const auto& r : t->requests) {
    out.inputs.push_back(r.input_tokens);
    out.outputs.push_back(r.output_tokens);
  }
  name = std::filesystem::path(f.trace).stem().string();
  trace = f.trace;
  return out;
}

int run(const ValidateFlags& f) {
  if (f.engine != "sim")
    return fail(make_error(Errc::kInvalidArgument,
                           "--engine: only sim is validated at full scale (a measured engine runs a sampled "
                           "validation in `jouleperf study`)"));
  if (f.trace.empty() == f.workload.empty())
    return fail(make_error(Errc::kInvalidArgument, "give --trace FILE or --workload NAME (one of them)"));
  auto composition = estimate::parse_batch_composition(f.composition);
  if (!composition.ok()) return fail(composition.error());
  if (*composition == estimate::BatchComposition::kNone)
    return fail(make_error(Errc::kInvalidArgument, "--composition: padded or ragged"));
  auto order = study::parse_batch_order(f.order.empty() ? (f.workload.empty() ? "trace" : "shuffle") : f.order);
  if (!order.ok()) return fail(order.error());
  auto policy = workload::parse_out_of_range(f.out_of_range);
  if (!policy.ok()) return fail(policy.error());
  auto in_edges = list_of(f.input_edges, "input-edges");
  if (!in_edges.ok()) return fail(in_edges.error());
  auto out_edges = list_of(f.output_edges, "output-edges");
  if (!out_edges.ok()) return fail(out_edges.error());
  auto batches = list_of(f.batches, "batches");
  if (!batches.ok()) return fail(batches.error());

  auto registry = load_registry(f.deploy);
  if (!registry.ok()) return fail(registry.error());
  auto config = to_sim_config(f.deploy, *registry);
  if (!config.ok()) return fail(config.error());

  std::string name, trace;
  auto lengths = load(f, name, trace);
  if (!lengths.ok()) return fail(lengths.error());
  workload::BinningOptions bo;
  bo.input_edges = *in_edges;
  bo.output_edges = *out_edges;
  bo.policy = *policy;
  auto bins = estimate::bin_lengths(*lengths, bo, name, trace);
  if (!bins.ok()) return fail(bins.error());

  study::FullValidationOptions o;
  o.config = fmt::format("{}-{}-{}", f.deploy.hardware, config->stack.name, f.deploy.model);
  o.estimate.max_batch = f.max_batch;
  o.estimate.composition = *composition;
  o.order = *order;
  o.seed = f.seed;
  auto v = study::validate_on_simulator(*config, *bins, *lengths, *batches, o);
  if (!v.ok()) return fail(v.error());

  fmt::print("SIMULATED — cells and the full run both come from the simulator (no measurement noise)\n");
  fmt::print("{} on {}\n", o.config, config->hardware.name);
  fmt::print("workload: {} ({}), {} requests in {} bins ({} excluded past the last edges), batch order {}\n", name,
             trace, bins->requests, bins->bins.size(), bins->excluded,
             f.order.empty() ? (f.workload.empty() ? "trace" : "shuffle") : f.order);
  fmt::print("full run: {} requests in {} static batches ({} partial): {}\n\n", v->requests, v->batches,
             v->partial_batches, format_joules(v->run_j));
  fmt::print("  {:<34} {:>12} {:>10}\n", "estimate", "energy", "vs run");
  auto row = [&](const char* what, double j) {
    fmt::print("  {:<34} {:>12} {:>+9.2f}%\n", what, format_joules(j), v->error_pct(j));
  };
  row("paper (ceiling bins, N/B)", v->paper_j);
  row("per request (real lengths)", v->per_request_j);
  row("composed, fractional N/B", v->fractional_j);
  row(fmt::format("corrected ({} prompts)", estimate::batch_composition_name(v->composition)).c_str(), v->corrected_j);
  fmt::print(
      "\nthe paper's error {:+.2f}% = ceilings {:+.2f}% + batch composition {:+.2f}% + partial batches "
      "{:+.2f}% + rest {:+.2f}%\n",
      v->error_pct(v->paper_j), v->ceilings_pct(), v->composition_pct(), v->partial_pct(), v->rest_pct());
  if (v->estimate.composed_partial_scaled > 0)
    fmt::print("{} partial batches below every batch size simulated: priced at k/B of a larger batch\n",
               v->estimate.composed_partial_scaled);
  if (!f.json_file.empty()) {
    std::ofstream out(f.json_file);
    out << study::to_json(*v).dump(2) << "\n";
    if (!out) return fail(make_error(Errc::kIo, "cannot write " + f.json_file));
  }
  return kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ValidateFlags>();
  auto* cmd = app.add_subcommand("validate",
                                 "the workload estimate against a full run of every request (simulated: cells and "
                                 "run from the simulator)");
  cmd->add_option("--engine", f->engine, "sim (the only engine validated at full scale)")->capture_default_str();
  cmd->add_option("--hardware", f->deploy.hardware, "hardware profile (jouleperf hardware list)")->required();
  cmd->add_option("--stack", f->deploy.stack, "hf-eager | hf-compiled | vllm | llamacpp-cpu")->capture_default_str();
  cmd->add_option("--stack-file", f->deploy.stack_file, "a stack written by `jouleperf calibrate -o`");
  cmd->add_option("--profiles", f->deploy.profiles, "JSON file(s) of user hardware profiles");
  cmd->add_option("--model", f->deploy.model, "built-in architecture or a .gguf file")->capture_default_str();
  cmd->add_option("--precision", f->deploy.precision, "weights: bf16 | fp8 | int8 | int4")->capture_default_str();
  cmd->add_option("--workload", f->workload, "embedded workload: azure-conv-2023 | azure-code-2023");
  cmd->add_option("--trace", f->trace, "trace file (its requests' own lengths)");
  cmd->add_option("--format", f->format, "trace format: auto|azure|burstgpt|mooncake|csv|jsonl")->capture_default_str();
  cmd->add_option("--input-edges", f->input_edges, "input bin edges: a list or pow2:LO:HI")->capture_default_str();
  cmd->add_option("--output-edges", f->output_edges, "output bin edges: a list or pow2:LO:HI")->capture_default_str();
  cmd->add_option("--out-of-range", f->out_of_range, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str();
  cmd->add_option("--batches", f->batches, "batch sizes simulated as cells: a list or pow2:LO:HI")
      ->capture_default_str();
  cmd->add_option("--max-batch", f->max_batch, "B per bin is at most this (0: the largest that fits)")
      ->capture_default_str();
  cmd->add_option("--composition", f->composition,
                  "static batches' prompts: padded (HF generate, the simulator) | "
                  "ragged (llama.cpp)")
      ->capture_default_str();
  cmd->add_option("--order", f->order,
                  "batch a bin's requests in trace order or shuffled (default: trace for "
                  "--trace, shuffle for --workload, whose lengths are generated sorted)");
  cmd->add_option("--seed", f->seed, "seed of the shuffled order")->capture_default_str();
  cmd->add_option("--json", f->json_file, "write the full_validation artifact here");
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
