// jouleperf hardware list|show: the hardware profiles the simulator knows (built-in
// datasheet figures with their sources, plus user profiles from JSON files).
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "jouleperf/hardware/profile_json.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::cli {
namespace {

using hardware::HardwareProfile;
using hardware::HardwareRegistry;

struct HardwareFlags {
  std::vector<std::string> files;
  std::string name;
  bool json = false;
};

int fail(const char* cmd, const Error& e) {
  std::fprintf(stderr, "jouleperf hardware %s: %s\n", cmd, e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

Result<HardwareRegistry> registry_with(const std::vector<std::string>& files) {
  HardwareRegistry r;
  for (const auto& f : files)
    if (auto st = r.load_file(f); !st) return st.error();
  return r;
}

std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  return fmt::format("{:.4g} {}{}", v, prefixes[i], unit);
}

void print_list(const HardwareRegistry& r) {
  fmt::print("{:<14} {:<4} {:>13} {:>13} {:>11} {:>9} {:>6} {:>6}  {}\n", "name", "kind", "bf16 dense", "fp8 dense",
             "mem bw", "memory", "TDP", "idle", "interconnect (tensor parallel)");
  for (const HardwareProfile& p : r.profiles()) {
    const auto& f = p.peak_flops;
    fmt::print("{:<14} {:<4} {:>13} {:>13} {:>11} {:>9} {:>5.0f}W {:>5.0f}W  {}{}\n", p.name,
               hardware::device_kind_name(p.kind), si(f.bf16 > 0 ? f.bf16 : f.fp32, "FLOP/s"),
               f.fp8 > 0 ? si(f.fp8, "FLOP/s") : std::string("-"), si(p.memory_bandwidth_bps, "B/s"),
               fmt::format("{:.0f} GiB", p.memory_bytes / 1073741824.0), p.tdp_w, p.idle_w,
               p.max_tp > 1 ? fmt::format("{} x{} ", p.tp_link.name, p.max_tp) : std::string("none "),
               p.origin == "built-in" ? "" : fmt::format("[{}]", p.origin));
  }
  fmt::print(
      "\nbf16 column: dense BF16/FP16 tensor rate (CPUs without BF16 units: FP32). Idle figures are "
      "estimates; `hardware show NAME` gives every figure's source.\n");
}

void print_show(const HardwareProfile& p) {
  auto line = [&](const char* label, const std::string& value, const char* field) {
    fmt::print("{:<22} {:<18} {}\n", label, value, p.source_of(field));
  };
  fmt::print("{} ({}, {}){}\n", p.display_name, p.name, hardware::device_kind_name(p.kind),
             p.aliases.empty() ? "" : fmt::format(", also: {}", fmt::join(p.aliases, ", ")));
  fmt::print("origin: {}\n\n{:<22} {:<18} {}\n", p.origin, "figure", "value", "source");
  const auto& f = p.peak_flops;
  auto flops = [&](double v) { return v > 0 ? si(v, "FLOP/s") : std::string("none"); };
  line("peak fp32", flops(f.fp32), "peak_flops.fp32");
  line("peak tf32 (dense)", flops(f.tf32), "peak_flops.tf32");
  line("peak bf16/fp16 (dense)", flops(f.bf16), "peak_flops.bf16");
  line("peak fp8 (dense)", flops(f.fp8), "peak_flops.fp8");
  line("peak int8 (dense)", f.int8 > 0 ? si(f.int8, "OP/s") : std::string("none"), "peak_flops.int8");
  line("memory bandwidth", si(p.memory_bandwidth_bps, "B/s"), "memory_bandwidth_bps");
  line("memory", fmt::format("{:.1f} GiB", p.memory_bytes / 1073741824.0), "memory_bytes");
  line("TDP", fmt::format("{:.0f} W", p.tdp_w), "tdp_w");
  line("idle", fmt::format("{:.0f} W", p.idle_w), "idle_w");
  line("tensor-parallel link",
       p.max_tp > 1 ? fmt::format("{}, {}/dir, {:.0f} us/step, up to {}", p.tp_link.name,
                                  si(p.tp_link.bandwidth_bps, "B/s"), p.tp_link.latency_s * 1e6, p.max_tp)
                    : std::string("none"),
       "tp_link");
  // What the simulator draws from these figures: the device kind's power curve, and for
  // GPUs the calibrated vllm stack's achieved rates (efficiencies times this datasheet).
  const sim::PowerModel pm = sim::default_power_model(p.kind);
  fmt::print(
      "\nsimulator power model: P = idle + (TDP - idle) * f(a), f(a) = {:.3g} + {:.3g} * a^{:.3g}, "
      "a = min(1, compute util + {:.3g} * memory util)\n",
      pm.active_floor, 1.0 - pm.active_floor, pm.exponent, pm.memory_weight);
  const auto note = sim::power_model_calibration(p.kind);
  fmt::print("  {}\n", note.empty() ? std::string_view("engineering estimate, not fitted (docs/simulator.md)") : note);
  if (p.kind == hardware::DeviceKind::kGpu) {
    if (auto v = sim::find_stack("vllm"); v) {
      fmt::print("vllm on this profile: {} bf16 ({:.3g} of peak), {} ({:.3g} of bandwidth), {:.3g} ms host per step\n",
                 si(v->compute_efficiency * (f.bf16 > 0 ? f.bf16 : f.fp32), "FLOP/s"), v->compute_efficiency,
                 si(v->memory_efficiency * p.memory_bandwidth_bps, "B/s"), v->memory_efficiency,
                 v->host_s_per_step * 1e3);
      if (!v->calibration.empty()) fmt::print("  {}\n", v->calibration);
    }
  }
}

}  // namespace

void add_hardware_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<HardwareFlags>();
  auto* cmd = app.add_subcommand(
      "hardware", "Hardware profiles for the simulator: peak FLOP/s, bandwidth, memory, power, with sources");
  cmd->require_subcommand(1);
  auto add_common = [f](CLI::App* sub) {
    sub->add_option("--profiles", f->files, "JSON file(s) of user profiles (format: docs/simulator.md)")
        ->envname("JOULEPERF_HARDWARE_PROFILES");
    sub->add_flag("--json", f->json, "print JSON");
  };
  auto* list = cmd->add_subcommand("list", "every known profile, one line each");
  add_common(list);
  list->callback([&ctx, f] {
    auto r = registry_with(f->files);
    if (!r) {
      ctx.exit_code = fail("list", r.error());
      return;
    }
    if (f->json) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& p : r->profiles()) a.push_back(hardware::to_json(p));
      fmt::print("{}\n", a.dump(2));
    } else {
      print_list(*r);
    }
    ctx.exit_code = kExitOk;
  });
  auto* show = cmd->add_subcommand("show", "one profile, every figure with its source");
  show->add_option("name", f->name, "profile name or alias (h100-sxm, a6000, ...)")->required();
  add_common(show);
  show->callback([&ctx, f] {
    auto r = registry_with(f->files);
    if (!r) {
      ctx.exit_code = fail("show", r.error());
      return;
    }
    auto p = r->find(f->name);
    if (!p) {  // an unknown name is a usage error; an unreadable --profiles file is not
      ctx.exit_code = fail("show", make_error(Errc::kInvalidArgument, p.error().message));
      return;
    }
    if (f->json)
      fmt::print("{}\n", hardware::to_json(*p).dump(2));
    else
      print_show(*p);
    ctx.exit_code = kExitOk;
  });
}

}  // namespace jouleperf::cli
