// jouleperf calibrate: fits the simulator to the measured cells of one config of a
// results store (sim::calibrate), shows measured against predicted batches and the
// train / held-out mean absolute percentage errors, and writes the fitted profile, stack
// and power model as JSON that `jouleperf simulate` loads (docs/simulator.md).
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/hardware/profile_json.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sim/calibrate.hpp"
#include "jouleperf/sim/serving_fit.hpp"
#include "jouleperf/sim/stack_json.hpp"
#include "jouleperf/study/store.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

struct CalibrateArgs {
  std::string store;
  std::string config;
  std::string hardware;  // "" = the config's sim hardware, else the host CPU profile
  std::vector<std::string> profiles;
  std::string stack;      // "" = the config's sim stack, else llamacpp-cpu
  std::string model;      // "" = the config's model
  std::string precision;  // "" = the config's weight type / the model file's
  std::string name;       // of the written profile
  std::uint32_t hold_out_every = 3;
  std::uint32_t max_evaluations = 4000;
  std::uint32_t random_starts = 6;
  std::optional<double> max_uncertainty_pct;  // leave out cells whose sensor bound is a larger share of their energy
  std::optional<double> cpu_idle_w, cpu_max_w;
  double bandwidth_per_thread_gbps = 10.0;
  std::string output;
  bool json = false;
  ServingFlags serving;  // --measurements mode
  std::uint32_t serving_evaluations = 4000;
  bool no_leave_one_out = false;
};

int fail(int code, const std::string& msg) {
  std::cerr << "jouleperf calibrate: " << msg << "\n";
  return code;
}

// "q8_0 (mixed)" -> "q8_0".
std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

struct Base {
  sim::SimConfig config;
  std::string description;  // "host-cpu (from /proc/cpuinfo, 1 thread) + llamacpp-cpu"
};

Result<Base> base_config(const CalibrateArgs& a, const study::Config& cfg) {
  const bool sim_engine = cfg.engine == "sim";
  // Hardware.
  std::string hw_name = a.hardware;
  if (hw_name.empty() && sim_engine) hw_name = cfg.setting("hardware").value_or("h100-sxm");
  hardware::HardwareProfile hw;
  std::string hw_text;
  if (hw_name.empty()) {
    CpuModelOptions o;
    o.idle_w = a.cpu_idle_w;
    o.max_w = a.cpu_max_w;
    auto power = resolve_cpu_power_params(o);
    if (!power) return make_error(power.error().code, "CPU power model: " + power.error().message);
    hardware::HostProfileOptions ho;
    ho.threads = cfg.threads;
    ho.idle_w = power->idle_w;
    ho.max_w = power->max_w;
    ho.power_basis = power->basis;
    ho.bandwidth_per_thread_bps = a.bandwidth_per_thread_gbps * 1e9;
    auto p = hardware::read_host_cpu_profile(o.cpuinfo, "/proc/meminfo", ho);
    if (!p) return p.error();
    hw = *p;
    hw_text = fmt::format("host-cpu (/proc/cpuinfo, {} threads; {:.1f}..{:.1f} W from the CPU-time model)",
                          cfg.threads > 0 ? std::to_string(cfg.threads) : "all", power->idle_w, power->max_w);
  } else {
    hardware::HardwareRegistry registry;
    for (const auto& f : a.profiles)
      if (auto st = registry.load_file(f); !st) return st.error();
    auto p = registry.find(hw_name);
    if (!p) return make_error(Errc::kInvalidArgument, "--hardware: " + p.error().message);
    hw = *p;
    hw_text = hw.name;
  }
  // Stack.
  std::string stack_name = a.stack;
  if (stack_name.empty()) stack_name = sim_engine ? cfg.setting("stack").value_or("vllm") : "llamacpp-cpu";
  auto stack = sim::find_stack(stack_name);
  if (!stack) return make_error(Errc::kInvalidArgument, "--stack: " + stack.error().message);
  // Model and precision.
  const std::string model_name = a.model.empty() ? cfg.model : a.model;
  if (model_name.empty())
    return make_error(Errc::kInvalidArgument, fmt::format("config '{}' names no model: give --model", cfg.name));
  auto model = resolve_model(model_name);
  if (!model) return make_error(model.error().code, "model: " + model.error().message);
  std::string precision_text = a.precision;
  if (precision_text.empty() && sim_engine) precision_text = cfg.setting("precision").value_or("");
  if (precision_text.empty()) precision_text = cfg.weight_type;
  if (precision_text.empty()) precision_text = first_word(model->weight_type);
  auto precision = sim::parse_weight_precision(precision_text);
  if (!precision) return make_error(Errc::kInvalidArgument, "precision: " + precision.error().message);

  Base out;
  out.config = sim::make_config(hw, *stack, *model);
  out.config.precision = *precision;
  if (auto st = sim::validate_config(out.config); !st) return st.error();
  out.description =
      fmt::format("{} + {}, model {} ({})", hw_text, stack->name, model_name, sim::weight_precision_name(*precision));
  return out;
}

nlohmann::json result_json(const CalibrateArgs& a, const study::Config& cfg, const Base& base,
                           const sim::CalibrationResult& r, const std::string& profile_name,
                           const std::string& base_stack) {
  hardware::HardwareProfile p = r.config.hardware;
  p.name = profile_name;
  p.display_name = fmt::format("{} calibrated on {} config '{}'", base.config.hardware.display_name, a.store, cfg.name);
  p.aliases.clear();
  p.origin = "jouleperf calibrate";
  sim::SoftwareStack s = r.config.stack;
  s.name = profile_name + "-stack";
  s.description =
      fmt::format("{} fitted by jouleperf calibrate (efficiencies 1: the profile holds effective rates)", base_stack);
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : r.cells)
    cells.push_back({{"input_tokens", c.measured.input_tokens},
                     {"output_tokens", c.measured.output_tokens},
                     {"batch", c.measured.batch},
                     {"measured_duration_s", c.measured.duration_s},
                     {"predicted_duration_s", c.predicted_duration_s},
                     {"measured_energy_j", c.measured.energy_j},
                     {"predicted_energy_j", c.predicted_energy_j},
                     {"held_out", c.held_out}});
  return {
      {"profiles", nlohmann::json::array({hardware::to_json(p)})},
      {"stack", sim::stack_to_json(s, base_stack)},
      {"power", sim::power_to_json(r.config.power)},
      {"calibration",
       {{"store", a.store},
        {"config", cfg.name},
        {"engine", cfg.engine},
        {"model", cfg.model},
        {"precision", sim::weight_precision_name(base.config.precision)},
        {"base", base.description},
        {"hold_out_every", a.hold_out_every},
        {"train_cells", r.train_cells},
        {"heldout_cells", r.heldout_cells},
        {"train_mape_energy_pct", r.train_mape_energy_pct},
        {"train_mape_latency_pct", r.train_mape_latency_pct},
        {"heldout_mape_energy_pct", r.heldout_mape_energy_pct},
        {"heldout_mape_latency_pct", r.heldout_mape_latency_pct},
        {"evaluations", r.evaluations},
        {"max_uncertainty_pct", a.max_uncertainty_pct ? nlohmann::json(*a.max_uncertainty_pct) : nlohmann::json()},
        {"cells", cells},
        {"usage", fmt::format("jouleperf simulate --profiles FILE --hardware {} --stack-file FILE --model {} "
                              "--precision {} ...",
                              profile_name, cfg.model, sim::weight_precision_name(base.config.precision))},
        {"note",
         "every prediction made with this profile is SIMULATED; the held-out MAPE says how far the fit was from the "
         "measured cells it did not see"}}},
  };
}

int run_calibrate(const CalibrateArgs& a) {
  if (a.hold_out_every < 2) return fail(kExitUsage, "--hold-out-every must be at least 2");
  auto store = study::Store::open(a.store, study::StoreMode::kReadOnly);
  if (!store) return fail(kExitFailure, store.error().to_string());
  auto configs = store->configs();
  if (!configs) return fail(kExitFailure, configs.error().to_string());
  const study::Config* cfg = nullptr;
  std::string known;
  for (const auto& c : *configs) {
    if (c.name == a.config) cfg = &c;
    known += (known.empty() ? "" : ", ") + c.name;
  }
  if (cfg == nullptr)
    return fail(kExitUsage,
                fmt::format("{} has no config '{}' (configs: {})", a.store, a.config, known.empty() ? "none" : known));
  auto all = store->cells();
  if (!all) return fail(kExitFailure, all.error().to_string());
  std::vector<sim::MeasuredBatch> cells;
  std::string sources;
  std::size_t coarse = 0, left_out = 0;  // cells whose sensor bound is > 10 % / > --max-uncertainty of their energy
  for (const auto& c : *all) {
    if (c.key.config != a.config || c.status != study::CellStatus::kDone || c.reps.empty()) continue;
    const double bound_pct = 100.0 * c.mean_uncertainty_j() / c.energy_per_batch_j().mean;
    if (a.max_uncertainty_pct && bound_pct > *a.max_uncertainty_pct) {
      ++left_out;
      continue;
    }
    if (bound_pct > 10.0) ++coarse;
    cells.push_back({static_cast<std::uint32_t>(c.key.input_tokens), static_cast<std::uint32_t>(c.key.output_tokens),
                     static_cast<std::uint32_t>(c.key.batch), c.duration_s().mean, c.energy_per_batch_j().mean,
                     study::to_string(c.key)});
    if (sources.find(c.energy_source) == std::string::npos) sources += (sources.empty() ? "" : ", ") + c.energy_source;
  }
  if (cells.empty())
    return fail(
        kExitFailure,
        fmt::format("{}: config '{}' has no measured (done) cells{}", a.store, a.config,
                    left_out > 0 ? fmt::format(" within --max-uncertainty ({} left out)", left_out) : std::string()));

  auto base = base_config(a, *cfg);
  if (!base)
    return fail(base.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure, base.error().to_string());
  sim::CalibrationOptions o;
  o.hold_out_every = a.hold_out_every;
  o.max_evaluations = a.max_evaluations;
  o.random_starts = a.random_starts;
  auto r = sim::calibrate(base->config, cells, o);
  if (!r) return fail(kExitFailure, r.error().to_string());

  const std::string profile_name =
      a.name.empty() ? hardware::normalize_profile_name(base->config.hardware.name + "-" + cfg->name + "-calibrated")
                     : a.name;
  const std::string base_stack = base->config.stack.name;
  const nlohmann::json doc = result_json(a, *cfg, *base, *r, profile_name, base_stack);
  if (!a.output.empty()) {
    if (auto st = write_file_atomic(a.output, doc.dump(2) + "\n"); !st)
      return fail(kExitFailure, st.error().to_string());
  }
  if (a.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("calibrate '{}' ({} engine, energy: {}): {} cells, {} to fit, {} held out (every {})\n",
                           cfg->name, cfg->engine, sources, cells.size(), r->train_cells, r->heldout_cells,
                           a.hold_out_every);
  std::cout << fmt::format("base: {}\n", base->description);
  if (left_out > 0)
    std::cout << fmt::format(
        "{} cells left out: their sensor bound is above {:g} % of their energy (--max-uncertainty)\n", left_out,
        *a.max_uncertainty_pct);
  if (coarse > 0)
    std::cout << fmt::format(
        "note: {} of the {} cells have a sensor bound above 10 % of their energy: a prediction cannot be checked "
        "to 10 % there (longer cells, or --max-uncertainty 10)\n",
        coarse, cells.size());
  std::cout << "\n";
  std::cout << fmt::format("{:<28} {:>11} {:>11} {:>7} {:>11} {:>11} {:>7}\n", "cell", "measured s", "predicted s",
                           "err", "measured J", "predicted J", "err");
  for (const auto& c : r->cells) {
    std::cout << fmt::format("{:<28} {:>11.4g} {:>11.4g} {:>+6.1f}% {:>11.4g} {:>11.4g} {:>+6.1f}%{}\n",
                             c.measured.label, c.measured.duration_s, c.predicted_duration_s,
                             100 * (c.predicted_duration_s / c.measured.duration_s - 1), c.measured.energy_j,
                             c.predicted_energy_j, 100 * (c.predicted_energy_j / c.measured.energy_j - 1),
                             c.held_out ? "  held out" : "");
  }
  std::cout << fmt::format("\nMAPE            energy   latency\n");
  std::cout << fmt::format("train ({:>2})      {:>5.1f}%   {:>5.1f}%\n", r->train_cells, r->train_mape_energy_pct,
                           r->train_mape_latency_pct);
  std::cout << fmt::format("held out ({:>2})   {:>5.1f}%   {:>5.1f}%\n\n", r->heldout_cells, r->heldout_mape_energy_pct,
                           r->heldout_mape_latency_pct);
  const auto& hw = r->config.hardware;
  const auto& st = r->config.stack;
  std::cout << fmt::format(
      "fitted ({} evaluations): {} rate {:.3g} FLOP/s, bandwidth {:.3g} GB/s, host {:.3g} ms/step + {:.3g} ms/seq, "
      "idle {:.3g} W, full load {:.3g} W, active floor {:.2f}, decode attention efficiency {:.3g}, decode matmul "
      "efficiency {:.3g}\n",
      r->evaluations, sim::weight_precision_name(base->config.precision),
      hw.peak_flops.at(base->config.precision == sim::WeightPrecision::kFp32   ? hardware::Precision::kFp32
                       : base->config.precision == sim::WeightPrecision::kInt8 ? hardware::Precision::kInt8
                                                                               : hardware::Precision::kBf16),
      hw.memory_bandwidth_bps / 1e9, st.host_s_per_step * 1e3, st.host_s_per_sequence * 1e3, hw.idle_w, hw.tdp_w,
      r->config.power.active_floor, st.decode_attention_efficiency, st.decode_matmul_efficiency);
  if (!a.output.empty())
    std::cout << fmt::format("wrote {}: jouleperf simulate --profiles {} --hardware {} --stack-file {} ...\n", a.output,
                             a.output, profile_name, a.output);
  std::cout << "SIMULATED predictions; the held-out MAPE is the fit's error on cells it did not see.\n";
  return kExitOk;
}

// The figures as "name value [lo, hi]" joined.
std::string figures_text(const std::vector<sim::FittedFigure>& f) {
  std::string out;
  for (const auto& x : f)
    out += fmt::format("{}{} {:.4g} [{:g}, {:g}]", out.empty() ? "" : ", ", x.name, x.value, x.lo, x.hi);
  return out;
}

nlohmann::json errors_json(const sim::ServingErrors& e) {
  auto one = [](const sim::ErrorSummary& s) -> nlohmann::json {
    if (s.rows == 0) return nullptr;
    return {{"rows", s.rows}, {"median_abs_pct", 100 * s.median_abs}, {"worst_abs_pct", 100 * s.worst_abs}};
  };
  return {{"j_per_output_token", one(e.j_per_token)},
          {"power_w", one(e.power)},
          {"median_itl", one(e.itl)},
          {"output_tokens_per_s", one(e.throughput)},
          {"j_per_request", one(e.j_per_request)}};
}

int run_calibrate_serving(const CalibrateArgs& a) {
  auto in = load_serving_inputs(a.serving);
  if (!in) return fail(in.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure, in.error().to_string());
  sim::ServingFitOptions o;
  o.max_evaluations = a.serving_evaluations;
  o.leave_one_out = !a.no_leave_one_out;
  auto r = sim::fit_serving(in->cases, in->stack, in->power, a.serving.measurements, o);
  if (!r) return fail(r.error().code == Errc::kInternal ? kExitFailure : kExitUsage, r.error().to_string());
  const std::string name = a.name.empty() ? in->stack.name + "-calibrated" : a.name;
  const auto& e = r->held.empty() ? r->train_errors : r->held_errors;
  sim::SoftwareStack s = r->stack;
  s.name = name;
  s.description = fmt::format("{} fitted by jouleperf calibrate to {}", in->stack.name, a.serving.measurements);
  s.calibration = fmt::format(
      "fitted to {} ({} rows, prompt {}): {}; leave-one-out median |error| J/token {:.1f} %, power {:.1f} %, ITL "
      "{:.1f} %",
      a.serving.measurements, in->cases.size(),
      in->assumed_rows > 0 ? fmt::format("{:g} tokens assumed", a.serving.assume_input_tokens)
                           : std::string("from the file"),
      figures_text(r->figures), 100 * e.j_per_token.median_abs, 100 * e.power.median_abs, 100 * e.itl.median_abs);
  const auto train = report::serving_table(r->train, "train", "Fitted on every row");
  const auto held = report::serving_table(r->held, "leave_one_out", "Each row predicted by the fit on the others");
  nlohmann::json figs = nlohmann::json::array();
  for (const auto& f : r->figures) figs.push_back({{"name", f.name}, {"value", f.value}, {"lo", f.lo}, {"hi", f.hi}});
  const nlohmann::json doc = {
      {"stack", sim::stack_to_json(s, in->stack.name)},
      {"power", sim::power_to_json(r->power)},
      {"calibration",
       {{"measurements", a.serving.measurements},
        {"rows", in->cases.size()},
        {"assumed_input_tokens",
         in->assumed_rows > 0 ? nlohmann::json(a.serving.assume_input_tokens) : nlohmann::json()},
        {"figures", figs},
        {"objective", r->objective},
        {"evaluations", r->evaluations},
        {"train_errors", errors_json(r->train_errors)},
        {"leave_one_out_errors", r->held.empty() ? nlohmann::json() : errors_json(r->held_errors)},
        {"train", report::to_json(train)},
        {"leave_one_out", report::to_json(held)},
        {"usage", fmt::format("jouleperf simulate --stack-file FILE ... | jouleperf fidelity --measurements {} "
                              "--stack-file FILE",
                              a.serving.measurements)},
        {"note", "every prediction made with this stack is SIMULATED"}}}};
  if (!a.output.empty()) {
    std::ofstream out(a.output);
    out << doc.dump(2) << "\n";
    out.close();
    if (!out) return fail(kExitFailure, fmt::format("cannot write {}", a.output));
  }
  if (a.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("calibrate {} rows of {} from stack '{}'{}\n", in->cases.size(), a.serving.measurements,
                           in->stack.name,
                           in->assumed_rows > 0 ? fmt::format("; {} rows without a prompt length: {:g} tokens assumed "
                                                              "(--assume-input-tokens)",
                                                              in->assumed_rows, a.serving.assume_input_tokens)
                                                : std::string());
  std::cout << report::to_console(train) << "\n";
  std::cout << report::to_console(report::serving_error_table(r->train_errors, "train_errors", "Training error"))
            << "\n";
  if (!r->held.empty()) {
    std::cout << report::to_console(held) << "\n";
    std::cout << report::to_console(report::serving_error_table(r->held_errors, "held_errors", "Leave-one-out error"))
              << "\n";
  }
  std::cout << fmt::format("fitted ({} evaluations): {}\n", r->evaluations, figures_text(r->figures));
  if (!a.output.empty())
    std::cout << fmt::format("wrote {}: jouleperf simulate --stack-file {} ...\n", a.output, a.output);
  std::cout << "SIMULATED predictions; the leave-one-out error is the fit's error on rows it did not see.\n";
  return kExitOk;
}

}  // namespace

void add_calibrate_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand(
      "calibrate", "Fit the simulator to one config's measured cells; held-out error; write the fitted profile");
  cmd->add_option("--store", a->store, "Results store (SQLite) holding the measured cells (with --config)");
  cmd->add_option("--config", a->config, "Config name in the store");
  cmd->add_option("--stack", a->stack,
                  "Base stack (default: a sim config's stack, else llamacpp-cpu; with --measurements: vllm)");
  add_serving_flags(cmd, a->serving, false);
  cmd->add_option("--fit-evaluations", a->serving_evaluations,
                  "--measurements: objective evaluations per fit (each leave-one-out refit too)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-leave-one-out", a->no_leave_one_out, "--measurements: skip the leave-one-out refits");
  cmd->add_option("--hardware", a->hardware,
                  "Base hardware profile (default: a sim config's hardware, else this host's CPU from /proc/cpuinfo)");
  cmd->add_option("--profiles", a->profiles, "JSON file(s) of user hardware profiles");
  cmd->add_option("--model", a->model, "Model (built-in architecture or .gguf; default: the config's)");
  cmd->add_option("--precision", a->precision, "Weights: f32 | bf16 | q8_0 | q4_0 ... (default: the config's)");
  cmd->add_option("--hold-out-every", a->hold_out_every, "Hold out every k-th cell (from the 2nd), k >= 2")
      ->capture_default_str();
  cmd->add_option("--max-evaluations", a->max_evaluations, "Objective evaluations of the search")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--random-starts", a->random_starts,
                  "Searches from seeded random points around the base, after the 3 set starts");
  cmd->add_option("--max-uncertainty", a->max_uncertainty_pct,
                  "Leave out cells whose sensor bound is above this share of their energy, %")
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--cpu-idle-w", a->cpu_idle_w, "Host profile: idle power, W (default: the CPU-time model's)");
  cmd->add_option("--cpu-max-w", a->cpu_max_w, "Host profile: full-load power, W (default: the CPU-time model's)");
  cmd->add_option("--bandwidth-per-thread", a->bandwidth_per_thread_gbps,
                  "Host profile: starting memory bandwidth per thread, GB/s (a guess; fitted)")
      ->capture_default_str();
  cmd->add_option("--name", a->name, "Name of the written profile (default: <hardware>-<config>-calibrated)");
  cmd->add_option("-o,--output", a->output, "Write the fitted profile, stack and power model as JSON");
  cmd->add_flag("--json", a->json, "Print the JSON document instead of the table");
  cmd->callback([a, &ctx] {
    if (!a->serving.measurements.empty()) {
      if (!a->store.empty() || !a->config.empty()) {
        ctx.exit_code = fail(kExitUsage, "give either --measurements or --store with --config, not both");
        return;
      }
      if (!a->stack.empty()) a->serving.stack = a->stack;
      a->serving.profiles = a->profiles;
      ctx.exit_code = run_calibrate_serving(*a);
      return;
    }
    if (a->store.empty() || a->config.empty()) {
      ctx.exit_code = fail(kExitUsage, "give --measurements FILE.csv, or --store with --config");
      return;
    }
    ctx.exit_code = run_calibrate(*a);
  });
}

}  // namespace jouleperf::cli
