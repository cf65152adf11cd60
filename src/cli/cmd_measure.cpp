// jouleperf measure -- CMD ARGS...: the energy of any command, the way `perf stat`
// measures its cycles (sensor/measured_command.hpp). The command's exit code is ours.
// The summary for people goes to stderr (the command's own stdout stays its own);
// -o FORMAT also writes the result to stdout (or --output-file), --json FILE its JSON.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "jouleperf/sensor/measured_command.hpp"
#include "output_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "measure";

struct MeasureArgs {
  SensorFlags flags;
  MeasureCommandOptions options;
  OutputFlags out;
  std::string json_path;  // --json FILE ('-' = stdout), besides -o
};

// Writes the result where the flags say; returns false when a file could not be written.
bool write_outputs(const MeasureArgs& a, table::Format format, const table::Document& doc) {
  std::cerr << "\n" << table::render(doc, table::Format::kConsole) << "\n";
  if (!a.json_path.empty()) {
    const OutputFlags to{"json", a.json_path == "-" ? "" : a.json_path, false};
    if (emit(to, table::Format::kJson, doc, kCommand) != kExitOk) return false;
  }
  // The console summary went to stderr: stdout gets another format, or a file the summary.
  if (format == table::Format::kConsole && a.out.file.empty()) return true;
  return emit(a.out, format, doc, kCommand) == kExitOk;
}

int run_measure(MeasureArgs& a) {
  auto format = output_format(a.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  if (a.options.command.empty())
    return fail(kCommand, make_error(Errc::kInvalidArgument,
                                     "no command given (usage: jouleperf measure [options] -- CMD ARGS...)"));
  a.options.monitor.sensors = to_sensor_options(a.flags);
  a.options.monitor.sampler = to_sampler_config(a.flags);
  SteadyClock clock;
  auto r = measure_command(a.options, clock,
                           [](std::string_view notice) { std::cerr << "jouleperf measure: " << notice << "\n"; });
  if (!r) {
    fail(kCommand, r.error());
    return kExitFailure;  // a sensor or the idle baseline failed: not a usage error
  }
  const int exit_code = r->exit_code;
  if (!r->measurement) {
    std::cerr << "jouleperf measure: " << r->error << "\n";
    return exit_code != 0 ? exit_code : kExitFailure;
  }
  if (!write_outputs(a, *format, measured_command_document(*r))) return exit_code != 0 ? exit_code : kExitFailure;
  return exit_code;
}

}  // namespace

void add_measure_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<MeasureArgs>();
  auto* cmd =
      app.add_subcommand("measure", "Measure the energy of a command: jouleperf measure [options] -- CMD ARGS...");
  add_sensor_flags(cmd, a->flags);
  cmd->add_option("--idle", a->options.idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->envname("JOULEPERF_IDLE")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", a->options.idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->envname("JOULEPERF_IDLE_POWER")
      ->check(CLI::NonNegativeNumber);
  add_output_flags(cmd, a->out, /*with_json_switch=*/false);
  // --json keeps its old meaning here, a FILE (a value that may be absent would eat the `--`).
  cmd->add_option("--json", a->json_path, "Also write the result as JSON to FILE ('-' = stdout)")
      ->envname("JOULEPERF_JSON");
  cmd->add_option("command", a->options.command, "The command and its arguments (after --)");
  cmd->footer(
      "The summary goes to stderr. Exit code: the command's own (128+N if killed by signal N; 127 if it cannot be "
      "found).");
  cmd->callback([a, &ctx] { ctx.exit_code = run_measure(*a); });
}

}  // namespace jouleperf::cli
