#include "provenance.hpp"

#include <fmt/format.h>

namespace jouleperf::report::detail {

std::string_view provenance_kind(bool estimated, bool simulated) {
  if (simulated) return "simulated";
  return estimated ? "estimated" : "measured";
}

std::string sensor_of(const nlohmann::json& conditions) {
  if (!conditions.is_object()) return "";
  const auto it = conditions.find("sensor");
  if (it == conditions.end()) return "";
  auto name_of = [](const nlohmann::json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object()) {
      for (const char* key : {"name", "sensor"}) {
        const auto n = v.find(key);
        if (n != v.end() && n->is_string()) return n->get<std::string>();
      }
    }
    return "";
  };
  if (it->is_array()) {
    std::string out;
    for (const auto& v : *it) {
      const std::string n = name_of(v);
      if (n.empty()) continue;
      if (!out.empty()) out += '+';
      out += n;
    }
    return out;
  }
  return name_of(*it);
}

void Provenance::add(bool estimated, bool simulated, const std::string& energy_source, const std::string& sensor,
                     const std::string& who) {
  auto& names = groups_[{std::string(provenance_kind(estimated, simulated)), energy_source, sensor}];
  if (!who.empty()) names.insert(who);
}

void Provenance::add(const study::CellResult& cell) {
  add(cell.estimated, cell.simulated, cell.energy_source, sensor_of(cell.conditions), cell.key.config);
}

bool Provenance::any_estimated() const {
  for (const auto& [key, names] : groups_)
    if (std::get<0>(key) == "estimated") return true;
  return false;
}

std::string Provenance::line(const std::optional<std::string>& sensor_note) const {
  if (groups_.empty()) return "No energy figures.";
  std::string out;
  for (const auto& [key, names] : groups_) {
    const auto& [kind, source, sensor] = key;
    std::string part = kind;
    part[0] = static_cast<char>(part[0] - 'a' + 'A');
    part += ": energy source " + (source.empty() ? std::string("not recorded") : source);
    if (!sensor.empty()) part += ", sensor " + sensor;
    if (!names.empty()) {
      std::string list;
      std::size_t shown = 0;
      for (const auto& n : names) {
        if (shown == 6) {
          list += fmt::format(" and {} more", names.size() - shown);
          break;
        }
        list += shown ? ", " : "";
        list += n;
        ++shown;
      }
      part += " (" + list + ")";
    }
    out += out.empty() ? "" : ". ";
    out += part;
  }
  out += ".";
  if (any_estimated() && sensor_note) out += " " + *sensor_note;
  return out;
}

}  // namespace jouleperf::report::detail
