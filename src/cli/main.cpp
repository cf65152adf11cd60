// jouleperf: measure, model and reduce the energy of LLM inference.
#include <cstdio>

#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace jouleperf::cli;
  CLI::App app{
      "jouleperf: measure, model and reduce the energy of LLM inference.\n"
      "Exit codes: 0 success; 1 the command failed; 2 usage error; `measure` returns its command's code."};
  app.set_version_flag("--version", "jouleperf 0.1.0");
  app.require_subcommand(1);
  Context ctx;
  add_sensors_command(app, ctx);
  add_measure_command(app, ctx);
  add_burn_command(app, ctx);
  add_trace_command(app, ctx);
  add_model_command(app, ctx);
  add_hardware_command(app, ctx);
  add_simulate_command(app, ctx);
  add_optimize_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return ctx.exit_code;
}
