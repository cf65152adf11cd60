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
  auto in = load_serving_inputs(a.serving);
  if (!in) {
    std::cerr << "jouleperf fidelity: " << in.error().to_string() << "\n";
    return in.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  auto rows = sim::compare_serving(in->cases, in->stack, in->power, a.serving.measurements);
  if (!rows) {
    std::cerr << "jouleperf fidelity: " << rows.error().to_string() << "\n";
    return kExitUsage;
  }
  const auto errors = sim::summarize(*rows);
  const std::string what =
      fmt::format("stack '{}'{}", in->stack.name, a.serving.stack_file.empty() ? "" : " from " + a.serving.stack_file);
  const auto table = serving_table(*rows, "fidelity", "Simulated (" + what + ") against measured");
  const auto summary = serving_error_table(errors, "fidelity_errors", "Absolute percentage errors");
  const std::string assumption =
      in->assumed_rows > 0
          ? fmt::format("{} of {} rows carry no prompt length: assumed {:g} tokens (--assume-input-tokens)",
                        in->assumed_rows, in->cases.size(), a.serving.assume_input_tokens)
          : std::string();
  if (a.json) {
    nlohmann::json doc = {{"measurements", a.serving.measurements},
                          {"stack", in->stack.name},
                          {"stack_file", a.serving.stack_file},
                          {"assumed_input_tokens",
                           in->assumed_rows > 0 ? nlohmann::json(a.serving.assume_input_tokens) : nlohmann::json()},
                          {"rows", report::to_json(table)},
                          {"errors", report::to_json(summary)},
                          {"simulated", true}};
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << report::to_console(table) << "\n" << report::to_console(summary);
  if (!assumption.empty()) std::cout << "\n" << assumption << "\n";
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
