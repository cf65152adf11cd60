// `jouleperf validate --engine sim`: the workload estimate checked where measurement noise
// is zero (study/sim_validation_run.hpp). Cells at the bin edges and a full run of every
// request at its real lengths (static batches of the estimate's B per bin) are both
// simulated; the paper's estimate, the per-request corrected one and the one corrected for
// batch composition are compared with the run, and the paper's error is split into its
// causes (docs/estimate.md 4b, docs/fidelity.md "Estimate validated on the simulator").
// Every figure is SIMULATED.
#include <fmt/format.h>

#include <memory>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/study/sim_validation_run.hpp"
#include "output_flags.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "validate";

struct ValidateFlags {
  study::SimValidationOptions options;
  DeploymentFlags deploy;
  std::string json_file;  // --json FILE: the full_validation artifact (its meaning before -o json)
  OutputFlags out;
};

int run(const ValidateFlags& f) {
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  auto registry = load_registry(f.deploy);
  if (!registry.ok()) return fail(kCommand, registry.error());
  auto config = to_sim_config(f.deploy, *registry);
  if (!config.ok()) return fail(kCommand, config.error());
  const std::string name = fmt::format("{}-{}-{}", f.deploy.hardware, config->stack.name, f.deploy.model);
  auto r = study::run_sim_validation(*config, name, f.options);
  if (!r.ok()) return fail(kCommand, r.error());
  const auto doc = study::sim_validation_document(*r);
  if (const int rc = emit(f.out, *format, doc, kCommand); rc != kExitOk) return rc;
  if (f.json_file.empty()) return kExitOk;
  if (auto st = write_file_atomic(f.json_file, doc.json.dump(2) + "\n"); !st)
    return fail(kCommand, make_error(Errc::kIo, "cannot write " + f.json_file));
  return kExitOk;
}

void add_deployment(CLI::App* cmd, DeploymentFlags& d) {
  cmd->add_option("--hardware", d.hardware, "hardware profile (jouleperf hardware list)")->required();
  cmd->add_option("--stack", d.stack, "hf-eager | hf-compiled | vllm | llamacpp-cpu")->capture_default_str();
  cmd->add_option("--stack-file", d.stack_file, "a stack written by `jouleperf calibrate --save`");
  cmd->add_option("--profiles", d.profiles, "JSON file(s) of user hardware profiles");
  cmd->add_option("--model", d.model, "built-in architecture or a .gguf file")->capture_default_str();
  cmd->add_option("--precision", d.precision, "weights: bf16 | fp8 | int8 | int4")->capture_default_str();
}

void add_validation_options(CLI::App* cmd, study::SimValidationOptions& o) {
  cmd->add_option("--engine", o.engine, "sim (the only engine validated at full scale)")->capture_default_str();
  cmd->add_option("--workload", o.workload, "embedded workload: azure-conv-2023 | azure-code-2023");
  cmd->add_option("--trace", o.trace, "trace file (its requests' own lengths)");
  cmd->add_option("--format", o.format, "trace format: auto|azure|burstgpt|mooncake|csv|jsonl")->capture_default_str();
  cmd->add_option("--input-edges", o.input_edges, "input bin edges: a list or pow2:LO:HI")->capture_default_str();
  cmd->add_option("--output-edges", o.output_edges, "output bin edges: a list or pow2:LO:HI")->capture_default_str();
  cmd->add_option("--out-of-range", o.out_of_range, "requests past the last edge: exclude|clamp|overflow")
      ->capture_default_str();
  cmd->add_option("--batches", o.batches, "batch sizes simulated as cells: a list or pow2:LO:HI")
      ->capture_default_str();
  cmd->add_option("--max-batch", o.max_batch, "B per bin is at most this (0: the largest that fits)")
      ->capture_default_str();
  cmd->add_option("--composition", o.composition,
                  "static batches' prompts: padded (HF generate, the simulator) | ragged (llama.cpp)")
      ->capture_default_str();
  cmd->add_option("--order", o.order,
                  "batch a bin's requests in trace order or shuffled (default: trace for "
                  "--trace, shuffle for --workload, whose lengths are generated sorted)");
  cmd->add_option("--seed", o.seed, "seed of the shuffled order")->capture_default_str();
}

}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ValidateFlags>();
  auto* cmd = app.add_subcommand("validate",
                                 "the workload estimate against a full run of every request (simulated: cells and "
                                 "run from the simulator)");
  add_deployment(cmd, f->deploy);
  add_validation_options(cmd, f->options);
  cmd->add_option("--json", f->json_file, "write the full_validation artifact here (-o json prints it)");
  add_output_flags(cmd, f->out, /*with_json_switch=*/false);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
