// jouleperf fidelity: the simulator against published steady-state serving measurements
// (ML.ENERGY-style rows): per row, simulated against measured J per output token, power,
// median inter-token latency and output tokens/s; the median and worst absolute error of
// each (docs/fidelity.md).
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "jouleperf/sim/serving_fit.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

struct FidelityArgs {
  ServingFlags serving;
  bool json = false;
};

int run_fidelity(const FidelityArgs& a) {
  auto check = check_fidelity(a.serving);
  if (!check) {
    std::cerr << "jouleperf fidelity: " << check.error().to_string() << "\n";
    return check.error().code == Errc::kInvalidArgument || check.error().code == Errc::kParse ? kExitUsage
                                                                                              : kExitFailure;
  }
  if (a.json) {
    std::cout << check->document.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << report::to_console(check->rows) << "\n" << report::to_console(check->errors);
  if (!check->assumption.empty()) std::cout << "\n" << check->assumption << "\n";
  std::cout << "SIMULATED figures (steady state: docs/simulator.md) against the file's measurements.\n";
  return kExitOk;
}

}  // namespace

void add_fidelity_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<FidelityArgs>();
  auto* cmd = app.add_subcommand(
      "fidelity", "Compare the simulator with published steady-state serving measurements (per row and overall)");
  add_serving_flags(cmd, a->serving, true);
  cmd->get_option("--measurements")->required();
  cmd->add_flag("--json", a->json, "Print JSON instead of the tables");
  cmd->callback([a, &ctx] { ctx.exit_code = run_fidelity(*a); });
}

}  // namespace jouleperf::cli
