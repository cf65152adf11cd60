// jouleperf: measure, model and reduce the energy of LLM inference.
#include <cctype>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "number_flags.hpp"

namespace {

// Every option taking a value gets an environment mirror, JOULEPERF_<LONG_NAME> (e.g.
// --powercap-root -> JOULEPERF_POWERCAP_ROOT), unless it declared its own. Flags
// (switches without a value) and positionals have none.
void mirror_options_in_environment(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    if (!opt->get_envname().empty() || opt->get_type_size() == 0 || opt->get_expected_max() == 0 ||
        opt->get_lnames().empty() || opt->get_lnames().front() == "help")
      continue;
    std::string env = "JOULEPERF_";
    for (char c : opt->get_lnames().front()) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    opt->envname(env);
  }
  for (CLI::App* sub : app.get_subcommands({})) mirror_options_in_environment(*sub);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace jouleperf::cli;
  CLI::App app{
      "jouleperf: measure, model and reduce the energy of LLM inference.\n"
      "Exit codes: 0 success; 1 the command failed; 2 usage error (a bad flag or value: NaN, an infinity, an empty "
      "value, a negative count, a number out of its stated range); `measure` returns its command's code."};
  app.set_version_flag("--version", "jouleperf 0.1.0");
  app.require_subcommand(1);
  Context ctx;
  add_sensors_command(app, ctx);
  add_measure_command(app, ctx);
  add_burn_command(app, ctx);
  add_trace_command(app, ctx);
  add_model_command(app, ctx);
  add_run_command(app, ctx);
  add_replay_command(app, ctx);
  add_hardware_command(app, ctx);
  add_simulate_command(app, ctx);
  add_optimize_command(app, ctx);
  add_sweep_command(app, ctx);
  add_merge_command(app, ctx);
  add_cluster_command(app, ctx);
  add_restore_command(app, ctx);
  add_estimate_command(app, ctx);
  add_report_command(app, ctx);
  add_study_command(app, ctx);
  add_calibrate_command(app, ctx);
  add_validate_command(app, ctx);
  add_fidelity_command(app, ctx);
  mirror_options_in_environment(app);
  add_number_checks(app);  // every numeric option: no NaN, infinity, empty value or stray sign
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
  } catch (const std::exception& e) {
    // A command's bug (a library call that threw instead of returning an error): one line
    // and exit 1, never a terminate with no message.
    std::cerr << "jouleperf: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
  return ctx.exit_code;
}
