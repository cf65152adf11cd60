#include "jouleperf/sensor/factory.hpp"

namespace jouleperf {

void SensorRegistry::add(SensorFamily family) {
  for (auto& f : families_) {
    if (f.name == family.name) {
      f = std::move(family);
      return;
    }
  }
  families_.push_back(std::move(family));
}

const SensorFamily* SensorRegistry::find(const std::string& name) const {
  for (const auto& f : families_)
    if (f.name == name) return &f;
  return nullptr;
}

SensorRegistry default_sensor_registry() {
  SensorRegistry r;
  r.add({"rapl", "CPU package/core/uncore/DRAM/psys energy counters via Linux powercap", true,
         [](const SensorOptions& o, const Clock& c, std::vector<SensorProblem>& p) {
           return open_rapl_sensors(o.rapl, c, p);
         }});
  r.add({"nvml", "NVIDIA GPU energy counter or power via NVML (dlopen)", true,
         [](const SensorOptions& o, const Clock& c, std::vector<SensorProblem>& p) {
           return open_nvml_sensors(o.nvml, c, p);
         }});
  r.add({"prometheus", "DCGM exporter / node exporter / Kepler endpoints over HTTP, one per node", true,
         [](const SensorOptions& o, const Clock& c, std::vector<SensorProblem>& p) -> Result<SensorList> {
           if (o.prometheus.urls.empty())
             return make_error(Errc::kInvalidArgument, "no exporter URL given (use --prometheus URL)");
           return open_prometheus_sensors(o.prometheus, c, p);
         }});
  r.add({"cpu-model", "ESTIMATED CPU power from /proc/stat utilization (no hardware sensor)", false,
         [](const SensorOptions& o, const Clock& c, std::vector<SensorProblem>&) -> Result<SensorList> {
           auto s = open_cpu_model_sensor(o.cpu_model, c);
           if (!s) return s.error();
           SensorList out;
           out.push_back(std::move(s).value());
           return out;
         }});
  return r;
}

namespace {
std::string known_names(const SensorRegistry& r) {
  std::string out;
  for (const auto& f : r.families()) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

void append(SensorList& to, SensorList from) {
  for (auto& s : from) to.push_back(std::move(s));
}
}  // namespace

Result<SensorSet> open_sensors(const SensorRegistry& registry, const SensorOptions& opts, const Clock& clock) {
  SensorSet set;
  if (!opts.names.empty()) {
    for (const auto& name : opts.names) {
      if (registry.find(name) == nullptr)
        return make_error(Errc::kInvalidArgument,
                          "unknown sensor '" + name + "' (known: " + known_names(registry) + ")");
    }
    for (const auto& name : opts.names) {
      const SensorFamily* f = registry.find(name);
      const std::size_t known_problems = set.problems.size();
      auto got = f->open(opts, clock, set.problems);
      if (!got) return make_error(got.error().code, "sensor '" + name + "': " + got.error().message);
      if (got->empty()) {
        std::string why;  // what the family said about its devices
        for (std::size_t i = known_problems; i < set.problems.size(); ++i)
          why += (why.empty() ? ": " : "; ") + set.problems[i].error.message;
        return make_error(Errc::kNotFound, "sensor '" + name + "' found no device" + why);
      }
      append(set.sensors, std::move(got).value());
    }
    return set;
  }
  for (const auto& f : registry.families()) {
    if (!f.hardware) continue;
    if (f.name == "prometheus" && opts.prometheus.urls.empty()) continue;
    auto got = f.open(opts, clock, set.problems);
    if (!got) {
      // Exporter URLs are an explicit request: an unreachable one is an error, not a
      // reason to fall back silently to another source.
      if (f.name == "prometheus") return make_error(got.error().code, "sensor 'prometheus': " + got.error().message);
      set.problems.push_back({f.name, "", got.error()});
      continue;
    }
    append(set.sensors, std::move(got).value());
  }
  if (set.sensors.empty()) {
    const SensorFamily* model = registry.find("cpu-model");
    if (model == nullptr)
      return make_error(Errc::kNotFound, "no hardware sensor is readable and no cpu-model family is registered");
    auto got = model->open(opts, clock, set.problems);
    if (!got)
      return make_error(got.error().code,
                        "no hardware sensor is readable and the CPU-time model failed: " + got.error().message);
    append(set.sensors, std::move(got).value());
  }
  return set;
}

}  // namespace jouleperf
