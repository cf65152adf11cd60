// jouleperf sensors: every sensor found, its capabilities and a live reading; for
// each family that could not be used, why.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

struct SensorsArgs {
  SensorFlags flags;
  bool json = false;
  double window_s = 0.25;
};

int run_sensors(const SensorsArgs& a) {
  SteadyClock clock;
  const SensorRegistry registry = default_sensor_registry();
  SensorOptions opts = to_sensor_options(a.flags);
  std::vector<std::string> families = opts.names;
  if (families.empty()) {
    for (const auto& f : registry.families())
      if (f.name != "prometheus" || !opts.prometheus.urls.empty()) families.push_back(f.name);
  }
  SensorList found;
  std::vector<SensorProblem> problems;
  for (const auto& name : families) {
    SensorOptions one = opts;
    one.names = {name};
    auto set = open_sensors(registry, one, clock);
    if (!set) {
      problems.push_back({name, "", set.error()});
      continue;
    }
    for (auto& p : set->problems) problems.push_back(std::move(p));
    for (auto& s : set->sensors) found.push_back(std::move(s));
  }

  // A live reading: energy over a short window through the same sampler and meter.
  nlohmann::json out{{"sensors", nlohmann::json::array()}, {"unavailable", nlohmann::json::array()}};
  std::optional<Measurement> live;
  std::string live_error;
  Sampler sampler(std::move(found), to_sampler_config(a.flags), clock);
  if (sampler.size() > 0) {
    if (auto st = sampler.start(true); !st) {
      live_error = st.error().to_string();
    } else {
      auto idle = measure_idle(sampler, Seconds(a.window_s));
      sampler.stop();
      // measure_idle reports mean power per sensor over the window: that is the live reading.
      if (idle) {
        for (std::size_t i = 0; i < sampler.size(); ++i) {
          nlohmann::json s = to_json(sampler.info(i));
          s["energy_source"] = std::string(energy_source_name(sampler.source(i)));
          s["live_power_w"] = idle->power_w[i] ? nlohmann::json(*idle->power_w[i]) : nlohmann::json(nullptr);
          s["live_window_s"] = a.window_s;
          out["sensors"].push_back(s);
        }
      } else {
        live_error = idle.error().to_string();
      }
    }
  }
  for (const auto& p : problems) {
    out["unavailable"].push_back({{"name", p.name},
                                  {"target", p.target},
                                  {"error", std::string(errc_name(p.error.code))},
                                  {"message", p.error.message}});
  }
  if (!live_error.empty()) out["live_error"] = live_error;

  if (a.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    fmt::print("{:<11} {:<16} {:<15} {:>10}  {}\n", "SENSOR", "DOMAIN", "SOURCE", "POWER", "DETAIL");
    for (const auto& s : out["sensors"]) {
      const std::string power =
          s["live_power_w"].is_null() ? "-" : fmt::format("{:.2f} W", s["live_power_w"].get<double>());
      fmt::print("{:<11} {:<16} {:<15} {:>10}  {}{}\n", s["name"].get<std::string>(), s["domain"].get<std::string>(),
                 s["energy_source"].get<std::string>(), power, s["estimated"].get<bool>() ? "[ESTIMATED] " : "",
                 s["description"].get<std::string>());
    }
    if (!out["unavailable"].empty()) {
      fmt::print("\nnot usable here:\n");
      for (const auto& p : out["unavailable"]) {
        const std::string target = p["target"].get<std::string>();
        fmt::print("  {:<11} {}{}: {}\n", p["name"].get<std::string>(), target.empty() ? "" : target + " ",
                   p["error"].get<std::string>(), p["message"].get<std::string>());
      }
    }
    if (!live_error.empty()) fmt::print("\nlive reading failed: {}\n", live_error);
  }
  if (out["sensors"].empty()) return kExitFailure;
  return live_error.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void add_sensors_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<SensorsArgs>();
  auto* cmd = app.add_subcommand(
      "sensors", "List the energy sensors found here, with a live reading, and why others are not usable");
  add_sensor_flags(cmd, args->flags);
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->add_option("--window", args->window_s, "Live-reading window, s")
      ->check(CLI::Range(0.01, 60.0))
      ->capture_default_str();
  cmd->callback([args, &ctx] { ctx.exit_code = run_sensors(*args); });
}

}  // namespace jouleperf::cli
