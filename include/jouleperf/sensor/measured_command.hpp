// `jouleperf measure -- CMD ARGS...` as a library call: a program run under one measuring
// window, the way `perf stat` measures its cycles, and what is printed about it as a
// Document (core/output.hpp). The program is exec'd directly (no shell).
//
// Signals: from the start of measure_command until the program runs, SIGINT, SIGTERM,
// SIGHUP and SIGQUIT are blocked in the calling thread (threads started meanwhile, the
// sampler's, inherit the block), and a handler that forwards them is installed; once the
// program runs, every signal that arrived meanwhile is sent to it, and later ones are
// forwarded (a terminal's Ctrl-C already reaches it through the process group and is not
// sent twice). The handler stays installed; the caller's mask is restored on return.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/monitor.hpp"

namespace jouleperf {

struct MeasureCommandOptions {
  std::vector<std::string> command;    // the program and its arguments (non-empty)
  double idle_s = 0.0;                 // > 0: measure idle power this long first, s
  std::optional<double> idle_power_w;  // or subtract this idle power, W
  MonitorOptions monitor;              // which sensors, at which rates
};

struct MeasuredCommand {
  std::vector<std::string> command;
  // The program's exit code (128+N when killed by signal N); 127 when it cannot be found
  // and 126 when it cannot be run (then `measurement` is empty and `error` says why).
  int exit_code = 0;
  std::optional<Measurement> measurement;  // empty: the window could not be measured (`error`)
  std::string error;
  double self_cpu_s = 0.0;                                      // CPU time the measuring itself used, s
  std::vector<std::pair<std::string, std::string>> conditions;  // host and sampler conditions
  double sampler_hz = 0.0;
};

// Runs the program under a window of a Monitor opened with options.monitor. `notice`
// (may be empty) receives the estimated-fallback notice (survey.hpp) when the CPU-time
// model is all there is and no sensor was named. Fails (before running anything) as
// Monitor::open fails, with kInvalidArgument for an empty command, or when the idle
// baseline cannot be measured; later failures are in the result.
Result<MeasuredCommand> measure_command(const MeasureCommandOptions& options, const Clock& clock,
                                        const std::function<void(std::string_view)>& notice = {});

// What was measured: a header line naming the command and its exit code, tables "total"
// (quantity, value, note: energy_j with its uncertainty and source, above_idle_j,
// power_w, duration_s, self_cpu_ms) and "domains" (sensor, domain, energy_j, power_w,
// samples, source, note), footer lines for rejected reads, incomplete and ESTIMATED
// figures. JSON: to_json(measurement) with "command", "exit_code", "overhead" {"cpu_s",
// "share_of_one_core"} and "conditions" (with "sampler_hz"). `r.measurement` must be set.
table::Document measured_command_document(const MeasuredCommand& r);

}  // namespace jouleperf
