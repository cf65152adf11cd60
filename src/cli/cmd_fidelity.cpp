// jouleperf fidelity: the simulator against published steady-state serving measurements
// (ML.ENERGY-style rows): per row, simulated against measured J per output token, power,
// median inter-token latency and output tokens/s; the median and worst absolute error of
// each (docs/fidelity.md). The comparison is sim::check_fidelity.
#include <memory>

#include "commands.hpp"
#include "output_flags.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "fidelity";

struct FidelityFlags {
  ServingFlags serving;
  OutputFlags out;
};

int run(const FidelityFlags& f) {
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  auto check = sim::check_fidelity(f.serving);
  if (!check) return fail(kCommand, check.error(), /*parse_is_usage=*/true);
  return emit(f.out, *format, sim::fidelity_document(*check), kCommand);
}

}  // namespace

void add_fidelity_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<FidelityFlags>();
  auto* cmd = app.add_subcommand(
      "fidelity", "Compare the simulator with published steady-state serving measurements (per row and overall)");
  add_serving_flags(cmd, f->serving, true);
  cmd->get_option("--measurements")->required();
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
