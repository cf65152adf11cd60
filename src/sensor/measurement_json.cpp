#include "jouleperf/sensor/measurement_json.hpp"

namespace jouleperf {

nlohmann::json to_json(const DomainEnergy& d) {
  nlohmann::json j{{"sensor", d.sensor},
                   {"domain", d.domain},
                   {"energy_j", d.energy_j},
                   {"power_w", d.power_w},
                   {"uncertainty_j", d.uncertainty_j},
                   {"energy_source", std::string(energy_source_name(d.source))},
                   {"estimated", d.estimated},
                   {"samples", d.samples},
                   {"failed_reads", d.failed_reads},
                   {"below_resolution", d.below_resolution},
                   {"in_total", d.in_total},
                   {"stale_end", d.stale_end},
                   {"rejected_reads", d.rejected_reads},
                   {"counter_gaps", d.counter_gaps},
                   {"gap_s", d.gap_s},
                   {"incomplete", d.incomplete}};
  j["rejection"] = d.rejection.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.rejection);
  if (d.idle_power_w) j["idle_power_w"] = *d.idle_power_w;
  if (d.above_idle_j) j["above_idle_j"] = *d.above_idle_j;
  return j;
}

nlohmann::json to_json(const IntervalEnergy& iv) {
  nlohmann::json j{{"name", iv.name},
                   {"start_s", iv.start_s},
                   {"end_s", iv.end_s},
                   {"duration_s", iv.duration_s},
                   {"energy_j", iv.energy_j},
                   {"power_w", iv.power_w},
                   {"uncertainty_j", iv.uncertainty_j},
                   {"energy_source", iv.energy_source},
                   {"estimated", iv.estimated},
                   {"below_resolution", iv.below_resolution},
                   {"rejected_reads", iv.rejected_reads},
                   {"incomplete", iv.incomplete}};
  j["above_idle_j"] = iv.above_idle_j ? nlohmann::json(*iv.above_idle_j) : nlohmann::json(nullptr);
  j["domains"] = nlohmann::json::array();
  for (const auto& d : iv.domains) j["domains"].push_back(to_json(d));
  return j;
}

nlohmann::json to_json(const Measurement& m) {
  nlohmann::json j = to_json(m.total);
  j["phases"] = nlohmann::json::array();
  for (const auto& p : m.phases) j["phases"].push_back(to_json(p));
  if (m.idle) {
    j["idle"] = {{"power_w", m.idle->total_power_w}, {"basis", m.idle->basis}};
  } else {
    j["idle"] = nullptr;
  }
  return j;
}

nlohmann::json to_json(const SensorInfo& info) {
  return {{"name", info.name},
          {"domain", info.domain},
          {"description", info.description},
          {"energy_counter", info.caps.energy_counter},
          {"power", info.caps.power},
          {"estimated", info.caps.estimated},
          {"resolution_j", info.caps.resolution_j},
          {"power_resolution_w", info.caps.power_resolution_w},
          {"update_interval_s", info.caps.update_interval_s},
          {"in_total", info.caps.in_total},
          {"max_power_w", info.caps.max_power_w}};
}

}  // namespace jouleperf
