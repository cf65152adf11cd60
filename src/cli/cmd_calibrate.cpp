// jouleperf calibrate: fits the simulator to the measured cells of one config of a
// results store (study::run_store_calibration, sim::calibrate), or to a file of steady-state
// serving measurements (sim::calibrate_serving); shows measured against predicted and the
// fit's held-out error, and saves the fitted profile, stack and power model as JSON that
// `jouleperf simulate` loads (--save FILE; the old -o FILE still works). docs/simulator.md.
#include <memory>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/sim/calibrate_serving_run.hpp"
#include "jouleperf/study/calibrate_run.hpp"
#include "output_flags.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "calibrate";

struct CalibrateFlags {
  study::StoreCalibrationOptions store_opts;  // --store --config mode
  ServingFlags serving;                       // --measurements mode
  sim::ServingCalibrationOptions serving_opts;
  std::string stack;  // either mode's base stack
  bool no_leave_one_out = false;
  std::string save;  // --save FILE (the old -o FILE)
  OutputFlags out;
};

// Writes the fitted document to --save; kExitOk, or the failure printed.
int save(const CalibrateFlags& f, const nlohmann::json& doc) {
  if (f.save.empty()) return kExitOk;
  if (auto st = write_file_atomic(f.save, doc.dump(2) + "\n"); !st) return fail(kCommand, st.error());
  return kExitOk;
}

int run_store(CalibrateFlags& f, table::Format format) {
  f.store_opts.stack = f.stack;
  auto in = study::prepare_store_calibration(f.store_opts);
  if (!in) return fail(kCommand, in.error());
  auto r = study::run_store_calibration(f.store_opts, std::move(*in));
  if (!r) {
    fail(kCommand, r.error());
    return kExitFailure;  // the fit failed, whatever the code
  }
  if (int rc = save(f, r->document); rc != kExitOk) return rc;
  return emit(f.out, format, study::store_calibration_document(*r, f.store_opts, f.save), kCommand);
}

int run_serving(CalibrateFlags& f, table::Format format) {
  if (!f.stack.empty()) f.serving.stack = f.stack;
  f.serving.profiles = f.store_opts.profiles;
  f.serving_opts.leave_one_out = !f.no_leave_one_out;
  f.serving_opts.name = f.store_opts.name;
  auto in = sim::load_serving_inputs(f.serving);
  if (!in) return fail(kCommand, in.error());
  auto r = sim::calibrate_serving(std::move(*in), f.serving, f.serving_opts);
  if (!r) {
    fail(kCommand, r.error());
    return r.error().code == Errc::kInternal ? kExitFailure : kExitUsage;  // a fit it could not run
  }
  if (int rc = save(f, r->document); rc != kExitOk) return rc;
  return emit(f.out, format, sim::serving_calibration_document(*r, f.save), kCommand);
}

int run(CalibrateFlags& f) {
  // The old `-o FILE` wrote the fitted document: a value that is no format is that file.
  auto format = output_format(f.out, kCommand, [&f](const std::string& v) {
    f.save = v;
    return true;
  });
  if (!format) return fail(kCommand, format.error());
  const bool serving = !f.serving.measurements.empty();
  if (serving && (!f.store_opts.store.empty() || !f.store_opts.config.empty()))
    return fail(kCommand,
                make_error(Errc::kInvalidArgument, "give either --measurements or --store with --config, not both"));
  if (serving) return run_serving(f, *format);
  if (f.store_opts.store.empty() || f.store_opts.config.empty())
    return fail(kCommand, make_error(Errc::kInvalidArgument, "give --measurements FILE.csv, or --store with --config"));
  return run_store(f, *format);
}

void add_store_flags(CLI::App* cmd, CalibrateFlags& f) {
  cmd->add_option("--store", f.store_opts.store, "Results store (SQLite) holding the measured cells (with --config)");
  cmd->add_option("--config", f.store_opts.config, "Config name in the store");
  cmd->add_option("--stack", f.stack,
                  "Base stack (default: a sim config's stack, else llamacpp-cpu; with --measurements: vllm)");
  cmd->add_option("--hardware", f.store_opts.hardware,
                  "Base hardware profile (default: a sim config's hardware, else this host's CPU from /proc/cpuinfo)");
  cmd->add_option("--profiles", f.store_opts.profiles, "JSON file(s) of user hardware profiles");
  cmd->add_option("--model", f.store_opts.model, "Model (built-in architecture or .gguf; default: the config's)");
  cmd->add_option("--precision", f.store_opts.precision,
                  "Weights: f32 | bf16 | q8_0 | q4_0 ... (default: the config's)");
  cmd->add_option("--hold-out-every", f.store_opts.hold_out_every, "Hold out every k-th cell (from the 2nd), k >= 2")
      ->capture_default_str();
  cmd->add_option("--max-evaluations", f.store_opts.max_evaluations, "Objective evaluations of the search")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

void add_fit_flags(CLI::App* cmd, CalibrateFlags& f) {
  cmd->add_option("--random-starts", f.store_opts.random_starts,
                  "Searches from seeded random points around the base, after the 3 set starts");
  cmd->add_option("--max-uncertainty", f.store_opts.max_uncertainty_pct,
                  "Leave out cells whose sensor bound is above this share of their energy, %")
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--cpu-idle-w", f.store_opts.cpu_idle_w,
                  "Host profile: idle power, W (default: the CPU-time model's)");
  cmd->add_option("--cpu-max-w", f.store_opts.cpu_max_w,
                  "Host profile: full-load power, W (default: the CPU-time model's)");
  cmd->add_option("--bandwidth-per-thread", f.store_opts.bandwidth_per_thread_gbps,
                  "Host profile: starting memory bandwidth per thread, GB/s (a guess; fitted)")
      ->capture_default_str();
  cmd->add_option("--name", f.store_opts.name, "Name of the written profile (default: <hardware>-<config>-calibrated)");
  cmd->add_option("--fit-evaluations", f.serving_opts.evaluations,
                  "--measurements: objective evaluations per fit (each leave-one-out refit too)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-leave-one-out", f.no_leave_one_out, "--measurements: skip the leave-one-out refits");
}

}  // namespace

void add_calibrate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<CalibrateFlags>();
  auto* cmd = app.add_subcommand(
      "calibrate", "Fit the simulator to one config's measured cells; held-out error; save the fitted profile");
  add_store_flags(cmd, *f);
  add_serving_flags(cmd, f->serving, false);
  add_fit_flags(cmd, *f);
  cmd->add_option("--save", f->save,
                  "Write the fitted profile, stack and power model as JSON (-o FILE, the old spelling, still works)");
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
