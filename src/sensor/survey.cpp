#include "jouleperf/sensor/survey.hpp"

#include <utility>

#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

Result<StartedSampler> start_sampler(const SensorRegistry& registry, const SensorOptions& options,
                                     const SamplerConfig& config, const Clock& clock) {
  auto out = open_sampler(registry, options, config, clock);
  if (!out) return out.error();
  if (auto st = out->sampler->start(true); !st) return st.error();
  return out;
}

Result<StartedSampler> open_sampler(const SensorRegistry& registry, const SensorOptions& options,
                                    const SamplerConfig& config, const Clock& clock) {
  auto set = open_sensors(registry, options, clock);
  if (!set) return set.error();
  StartedSampler out;
  const bool estimated_only = set->sensors.size() == 1 && set->sensors[0]->info().caps.estimated;
  out.estimated_fallback = estimated_only && options.names.empty();
  if (out.estimated_fallback) out.notice = estimated_fallback_notice(set->problems);
  out.problems = std::move(set->problems);
  out.sampler = std::make_unique<Sampler>(std::move(set->sensors), config, clock);
  return out;
}

std::string estimated_fallback_notice(const std::vector<SensorProblem>& problems) {
  std::string out = "no hardware energy sensor is readable here; using the CPU-time model (ESTIMATED).";
  for (const auto& p : problems) out += "\n  " + p.name + ": " + p.error.message;
  return out;
}

SamplerSummary summarize_sampler(const Sampler& sampler) {
  SamplerSummary out;
  for (std::size_t i = 0; i < sampler.size(); ++i) {
    out.estimated = out.estimated || sampler.info(i).caps.estimated;
    out.sensors += (out.sensors.empty() ? "" : ", ") + sampler.info(i).name + " " + sampler.info(i).domain;
  }
  return out;
}

namespace {

// Each family opened on its own, so one that fails does not hide the others.
SensorList open_each(const SensorRegistry& registry, const SensorOptions& options, const Clock& clock,
                     std::vector<SensorProblem>& problems) {
  std::vector<std::string> families = options.names;
  if (families.empty())
    for (const auto& f : registry.families())
      if (f.name != "prometheus" || !options.prometheus.urls.empty()) families.push_back(f.name);
  SensorList found;
  for (const auto& name : families) {
    SensorOptions one = options;
    one.names = {name};
    auto set = open_sensors(registry, one, clock);
    if (!set) {
      problems.push_back({name, "", set.error()});
      continue;
    }
    for (auto& p : set->problems) problems.push_back(std::move(p));
    for (auto& s : set->sensors) found.push_back(std::move(s));
  }
  return found;
}

}  // namespace

SensorSurvey survey_sensors(const SensorRegistry& registry, const SensorOptions& options, const SamplerConfig& config,
                            Seconds window, const Clock& clock) {
  SensorSurvey out;
  out.window_s = window.value();
  Sampler sampler(open_each(registry, options, clock, out.unavailable), config, clock);
  if (sampler.size() == 0) return out;
  if (auto st = sampler.start(true); !st) {
    out.live_error = st.error().to_string();
    return out;
  }
  // measure_idle reports mean power per sensor over the window: that is the live reading.
  auto idle = measure_idle(sampler, window);
  sampler.stop();
  if (!idle) {
    out.live_error = idle.error().to_string();
    return out;
  }
  const auto facts = sampler.conditions();  // "<domain>.<key>" for every sensor
  for (std::size_t i = 0; i < sampler.size(); ++i) {
    SurveyedSensor found{sampler.info(i), sampler.source(i), idle->power_w[i], {}};
    const std::string prefix = found.info.domain + ".";
    for (const auto& [k, v] : facts)
      if (k.rfind(prefix, 0) == 0) found.conditions.emplace_back(k.substr(prefix.size()), v);
    out.sensors.push_back(std::move(found));
  }
  return out;
}

table::Document sensors_document(const SensorSurvey& s) {
  using table::Value;
  table::Document d;
  table::Table found{"sensors",
                     "Sensors",
                     {{"sensor", "family"},
                      {"domain", ""},
                      {"source", "energy counter, power or estimate"},
                      {"power_w", "live reading: mean power over the window"},
                      {"estimated", ""},
                      {"description", ""}},
                     {}};
  table::Table unusable{"unavailable",
                        "Not usable here",
                        {{"family", ""}, {"target", "what was tried"}, {"error", ""}, {"message", "why"}},
                        {}};
  d.json = {{"sensors", nlohmann::json::array()}, {"unavailable", nlohmann::json::array()}};
  for (const auto& x : s.sensors) {
    const std::string source(energy_source_name(x.source));
    found.rows.push_back({x.info.name, x.info.domain, source, x.live_power_w ? Value(*x.live_power_w) : Value{},
                          x.info.caps.estimated, x.info.description});
    nlohmann::json j = to_json(x.info);
    j["energy_source"] = source;
    j["live_power_w"] = x.live_power_w ? nlohmann::json(*x.live_power_w) : nlohmann::json(nullptr);
    j["live_window_s"] = s.window_s;
    j["conditions"] = nlohmann::json::object();
    for (const auto& [k, v] : x.conditions) j["conditions"][k] = v;
    d.json["sensors"].push_back(j);
  }
  for (const auto& p : s.unavailable) {
    const std::string error(errc_name(p.error.code));
    unusable.rows.push_back({p.name, p.target, error, p.error.message});
    d.json["unavailable"].push_back(
        {{"name", p.name}, {"target", p.target}, {"error", error}, {"message", p.error.message}});
  }
  if (!s.live_error.empty()) {
    d.json["live_error"] = s.live_error;
    d.footer.push_back("live reading failed: " + s.live_error);
  }
  d.tables = {std::move(found), std::move(unusable)};
  return d;
}

}  // namespace jouleperf
