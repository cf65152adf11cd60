// Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
// Callbacks store their exit code in Context::exit_code; main returns it.
#pragma once

#include <CLI/CLI.hpp>

namespace jouleperf::cli {

// Documented exit codes (README, `jouleperf --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (sensor, file, network...)
inline constexpr int kExitUsage = 2;    // bad flags or arguments

struct Context {
  int exit_code = kExitOk;
};

void add_sensors_command(CLI::App& app, Context& ctx);
void add_measure_command(CLI::App& app, Context& ctx);
void add_burn_command(CLI::App& app, Context& ctx);
void add_trace_command(CLI::App& app, Context& ctx);
void add_model_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_replay_command(CLI::App& app, Context& ctx);
void add_hardware_command(CLI::App& app, Context& ctx);
void add_simulate_command(CLI::App& app, Context& ctx);
void add_optimize_command(CLI::App& app, Context& ctx);
void add_sweep_command(CLI::App& app, Context& ctx);
void add_merge_command(CLI::App& app, Context& ctx);
void add_cluster_command(CLI::App& app, Context& ctx);
void add_restore_command(CLI::App& app, Context& ctx);
void add_estimate_command(CLI::App& app, Context& ctx);
void add_report_command(CLI::App& app, Context& ctx);
void add_study_command(CLI::App& app, Context& ctx);
void add_calibrate_command(CLI::App& app, Context& ctx);
void add_validate_command(CLI::App& app, Context& ctx);
void add_fidelity_command(CLI::App& app, Context& ctx);

}  // namespace jouleperf::cli
