// Flags shared by `simulate`, `optimize`, `calibrate` and `fidelity`: the deployment
// (hardware, stack, model, scheduler, decoding), the workload (trace, embedded workload,
// Poisson process) and a serving-measurements file. The flags bind to the library's
// options structs (sim/inputs.hpp, sim/fidelity.hpp); the names below keep the CLI's.
#pragma once

#include <CLI/CLI.hpp>

#include "jouleperf/sim/fidelity.hpp"
#include "jouleperf/sim/inputs.hpp"

namespace jouleperf::cli {

using WorkloadFlags = sim::WorkloadSource;
using DeploymentFlags = sim::DeploymentOptions;
using ServingFlags = sim::ServingOptions;
using sim::check_fidelity;
using sim::FidelityCheck;
using sim::format_joules;
using sim::load_serving_inputs;
using sim::load_workload;
using sim::resolve_model;
using sim::ServingInputs;
using sim::to_sim_config;

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f);

// `hardware_required`: optimize searches hardware itself and only takes --profiles.
void add_deployment_flags(CLI::App* cmd, DeploymentFlags& f, bool hardware_required);

// The registry with the flags' profile files loaded.
inline Result<hardware::HardwareRegistry> load_registry(const DeploymentFlags& f) {
  return sim::load_registry(f.profiles);
}

// `stack_flags`: also --stack, --stack-file and --profiles (calibrate has its own).
void add_serving_flags(CLI::App* cmd, ServingFlags& f, bool stack_flags);

}  // namespace jouleperf::cli
