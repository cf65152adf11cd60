// jouleperf sensors: every sensor found, its capabilities and a live reading; for
// each family that could not be used, why.
#include <memory>

#include "commands.hpp"
#include "jouleperf/sensor/survey.hpp"
#include "output_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

struct SensorsArgs {
  SensorFlags flags;
  OutputFlags out;
  double window_s = 0.25;
};

int run_sensors(const SensorsArgs& a) {
  auto format = output_format(a.out, "sensors");
  if (!format) return fail("sensors", format.error());
  SteadyClock clock;
  const SensorSurvey survey = survey_sensors(default_sensor_registry(), to_sensor_options(a.flags),
                                             to_sampler_config(a.flags), Seconds(a.window_s), clock);
  if (const int rc = emit(a.out, *format, sensors_document(survey), "sensors"); rc != kExitOk) return rc;
  return survey.sensors.empty() || !survey.live_error.empty() ? kExitFailure : kExitOk;
}

}  // namespace

void add_sensors_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<SensorsArgs>();
  auto* cmd = app.add_subcommand(
      "sensors", "List the energy sensors found here, with a live reading, and why others are not usable");
  add_sensor_flags(cmd, args->flags);
  add_output_flags(cmd, args->out);
  cmd->add_option("--window", args->window_s, "Live-reading window, s")
      ->check(CLI::Range(0.01, 60.0))
      ->capture_default_str();
  cmd->callback([args, &ctx] { ctx.exit_code = run_sensors(*args); });
}

}  // namespace jouleperf::cli
