// jouleperf simulate: a whole trace or arrival process (or one controlled batch) served
// by a simulated deployment — per-request latencies, energy in total, per request and per
// token, idle share, utilization over time. Every figure printed is SIMULATED.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/sim/result_json.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

struct SimulateFlags {
  DeploymentFlags deploy;
  WorkloadFlags work;
  std::uint32_t batch = 0;  // controlled batch mode
  bool json = false;
  bool per_request = false;
  bool list_stacks = false;
};

int fail(const Error& e) {
  std::fprintf(stderr, "jouleperf simulate: %s\n", e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

constexpr const char* kBanner = "SIMULATED — a model, not a measurement (docs/simulator.md; unvalidated on GPUs)";

void print_stacks() {
  for (const auto& s : sim::builtin_stacks()) {
    fmt::print("{} ({}, {} batching): {}\n", s.name, hardware::device_kind_name(s.device),
               sim::batching_name(s.batching), s.description);
    fmt::print(
        "  efficiency: compute {:.2f}, memory {:.2f}; kernels {:g}/layer + {:g}, gap {:g} us; host {:g} us/kernel, "
        "{} graphs; serial host {:g} ms/step + {:g} us/sequence\n",
        s.compute_efficiency, s.memory_efficiency, s.kernels_per_layer, s.kernels_fixed, s.kernel_gap_s * 1e6,
        s.host_s_per_kernel * 1e6, s.decode_graphs ? "decode" : "no", s.host_s_per_step * 1e3,
        s.host_s_per_sequence * 1e6);
    fmt::print("  fitted: {}\n", s.calibration.empty() ? std::string("none (engineering estimates)") : s.calibration);
    fmt::print("  why: {}\n\n", s.rationale);
  }
}

void print_latency(const char* name, const sim::LatencySummary& s, double scale, const char* unit) {
  if (s.count == 0) {
    fmt::print("  {:<5} {:>10}\n", name, "n/a");
    return;
  }
  fmt::print("  {:<5} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}  {}\n", name, s.mean * scale, s.p50 * scale,
             s.p90 * scale, s.p99 * scale, s.max * scale, unit);
}

void print_result(const sim::SimResult& r, const std::string& workload) {
  fmt::print("{}\n{}\n", kBanner, r.description);
  if (!workload.empty()) fmt::print("workload: {}\n", workload);
  fmt::print("\n{:<16} {} completed, {} rejected, {} preemptions, {} steps, {} events\n", "requests", r.completed,
             r.rejected, r.preemptions, r.steps, r.events);
  fmt::print("{:<16} {:.1f} s on {:g} device(s); busy {:.1f}%, mean batch {:.1f}\n", "span", r.span_s, r.devices,
             100 * r.busy_share, r.mean_batch);
  fmt::print("{:<16} {} = {} in steps + {} idle (idle share {:.1f}%), mean power {:.0f} W\n", "energy",
             format_joules(r.energy_j), format_joules(r.active_energy_j), format_joules(r.idle_energy_j),
             100 * r.idle_share, r.mean_power_w);
  fmt::print("{:<16} {:.2f} J/request, {:.3f} J/output token, {:.4f} J/token (input + output)\n", "energy per",
             r.energy_per_request_j, r.energy_per_output_token_j, r.energy_per_token_j);
  if (r.flops_ideal_energy_j > 0)
    fmt::print("{:<16} {} (TDP / peak x request FLOPs): the simulation is {:.1f}x that\n", "FLOPs ideal",
               format_joules(r.flops_ideal_energy_j), r.energy_j / r.flops_ideal_energy_j);
  fmt::print("{:<16} {:.2f} req/s, {:.0f} output tokens/s\n", "throughput", r.throughput_rps, r.output_tokens_per_s);
  fmt::print("\nlatency {:>10} {:>10} {:>10} {:>10} {:>10}\n", "mean", "p50", "p90", "p99", "max");
  print_latency("TTFT", r.ttft, 1e3, "ms");
  print_latency("TPOT", r.tpot, 1e3, "ms");
  print_latency("e2e", r.e2e, 1.0, "s");
  if (!r.timeline.empty()) {
    fmt::print("\nutilization over time ({} bins; --json for all):\n", r.timeline.size());
    fmt::print("  {:>10} {:>8} {:>9} {:>8} {:>8} {:>8}\n", "start s", "busy", "power W", "compute", "memory", "batch");
    const std::size_t stride = r.timeline.size() > 12 ? (r.timeline.size() + 11) / 12 : 1;
    for (std::size_t i = 0; i < r.timeline.size(); i += stride) {
      const auto& b = r.timeline[i];
      fmt::print("  {:>10.1f} {:>7.1f}% {:>9.0f} {:>7.1f}% {:>7.1f}% {:>8.1f}\n", b.start_s, 100 * b.busy_share,
                 b.power_w, 100 * b.compute_util, 100 * b.memory_util, b.mean_batch);
    }
  }
}

int run(const SimulateFlags& f) {
  auto registry = load_registry(f.deploy);
  if (!registry) return fail(registry.error());
  auto config = to_sim_config(f.deploy, *registry);
  if (!config) return fail(config.error());
  config->keep_requests = f.per_request;
  if (f.batch > 0) {
    if (f.work.input == 0 || f.work.output == 0)
      return fail(make_error(Errc::kInvalidArgument, "--batch needs --input and --output"));
    auto b = sim::simulate_batch(*config, f.work.input, f.work.output, f.batch);
    if (!b) return fail(b.error());
    if (f.json) {
      nlohmann::json j{{"simulated", true},
                       {"config", sim::to_json(*config)},
                       {"batch", f.batch},
                       {"input_tokens", f.work.input},
                       {"output_tokens", f.work.output},
                       {"fits", b->fits}};
      if (b->fits) {
        j["duration_s"] = b->duration_s;
        j["energy_j"] = b->energy_j;
        j["energy_per_request_j"] = b->energy_per_request_j;
        j["ttft_mean_s"] = b->ttft_mean_s;
        j["tpot_mean_s"] = b->tpot_mean_s;
        j["flops_ideal_energy_j"] = b->flops_ideal_energy_j;
        j["result"] = sim::to_json(b->detail, f.per_request);
      }
      fmt::print("{}\n", j.dump(2));
      return kExitOk;
    }
    fmt::print("{}\n", kBanner);
    if (!b->fits) {
      fmt::print("a batch of {} x ({} + {} tokens) does not fit the KV cache of {}\n", f.batch, f.work.input,
                 f.work.output, config->hardware.name);
      return kExitFailure;
    }
    fmt::print("{}\nbatch {} x ({} prompt + {} generated tokens)\n\n", b->detail.description, f.batch, f.work.input,
               f.work.output);
    fmt::print("{:<18} {:.3f} s ({} steps)\n", "duration", b->duration_s, b->steps);
    fmt::print("{:<18} {} ({:.2f} J per request)\n", "energy", format_joules(b->energy_j), b->energy_per_request_j);
    fmt::print("{:<18} {} ({:.1f}x below)\n", "FLOPs-ideal energy", format_joules(b->flops_ideal_energy_j),
               b->energy_j / b->flops_ideal_energy_j);
    fmt::print("{:<18} {:.2f} ms mean, all prompts done at {:.2f} ms\n", "TTFT", b->ttft_mean_s * 1e3,
               b->prefill_s * 1e3);
    fmt::print("{:<18} {:.2f} ms\n", "TPOT", b->tpot_mean_s * 1e3);
    return kExitOk;
  }
  std::string described;
  auto reqs = load_workload(f.work, described);
  if (!reqs) return fail(reqs.error());
  auto r = sim::simulate(*config, *reqs);
  if (!r) return fail(r.error());
  if (f.json) {
    nlohmann::json j = sim::to_json(*r, f.per_request);
    j["config"] = sim::to_json(*config);
    j["workload"] = described;
    fmt::print("{}\n", j.dump(2));
  } else {
    print_result(*r, described);
  }
  return kExitOk;
}

}  // namespace

void add_simulate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<SimulateFlags>();
  auto* cmd = app.add_subcommand("simulate",
                                 "Simulated serving on hardware you do not have: latencies, energy, idle share, "
                                 "utilization (a model, not a measurement)");
  add_deployment_flags(cmd, f->deploy, /*hardware_required=*/false);
  // --hardware is required unless --list-stacks: checked in the callback.
  cmd->add_option("--hardware", f->deploy.hardware, "hardware profile (jouleperf hardware list)")
      ->envname("JOULEPERF_HARDWARE");
  cmd->add_option("--stack", f->deploy.stack, "hf-eager | hf-compiled | vllm | llamacpp-cpu")
      ->capture_default_str()
      ->envname("JOULEPERF_STACK");
  cmd->add_option("--stack-file", f->deploy.stack_file,
                  "JSON with a fitted \"stack\" (and \"power\"), as `jouleperf calibrate -o` writes; replaces --stack")
      ->envname("JOULEPERF_STACK_FILE");
  cmd->add_option("--precision", f->deploy.precision, "weights: bf16 | fp8 | int8 | int4")->capture_default_str();
  cmd->add_option("--tp", f->deploy.tp, "tensor-parallel devices per replica")->capture_default_str();
  cmd->add_option("--replicas", f->deploy.replicas, "replicas behind the router")->capture_default_str();
  cmd->add_option("--batching", f->deploy.batching, "static | continuous (default: the stack's)");
  cmd->add_option("--max-batch", f->deploy.max_batch, "max sequences per step (static: the batch size)")
      ->capture_default_str();
  cmd->add_option("--beam", f->deploy.beam, "beam width")->capture_default_str();
  cmd->add_option("--spec-tokens", f->deploy.spec_tokens, "speculative decoding: draft tokens per step (0 = off)")
      ->capture_default_str();
  add_workload_flags(cmd, f->work);
  cmd->add_option("--batch", f->batch, "one controlled batch of this many requests of --input/--output tokens");
  cmd->add_flag("--json", f->json, "print JSON")->envname("JOULEPERF_JSON");
  cmd->add_flag("--per-request", f->per_request, "JSON: include every request's outcome");
  cmd->add_flag("--list-stacks", f->list_stacks, "print the named software stacks, their parameters and reasoning");
  cmd->callback([&ctx, f] {
    if (f->list_stacks) {
      if (f->json) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& s : sim::builtin_stacks()) a.push_back(sim::to_json(s));
        fmt::print("{}\n", a.dump(2));
      } else {
        print_stacks();
      }
      ctx.exit_code = kExitOk;
      return;
    }
    if (f->deploy.hardware.empty()) {
      ctx.exit_code = fail(make_error(Errc::kInvalidArgument, "--hardware is required (jouleperf hardware list)"));
      return;
    }
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
