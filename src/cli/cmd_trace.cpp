#include "commands.hpp"

namespace jouleperf::cli {

void add_trace_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("trace", "(not built yet)");
  cmd->callback([&ctx] { ctx.exit_code = kExitFailure; });
}

}  // namespace jouleperf::cli
