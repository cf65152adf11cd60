#include "commands.hpp"

namespace jouleperf::cli {

void add_sensors_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("sensors", "(not built yet)");
  cmd->callback([&ctx] { ctx.exit_code = kExitFailure; });
}

}  // namespace jouleperf::cli
