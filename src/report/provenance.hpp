// The provenance line under each figure: whether its energies were measured, estimated
// (a model such as the CPU-time model) or simulated (nothing was run), from which energy
// source and sensor, for which configurations. Internal to src/report.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>

#include "jouleperf/record/cell.hpp"

namespace jouleperf::report::detail {

// "simulated" when simulated, else "estimated" when estimated, else "measured".
std::string_view provenance_kind(bool estimated, bool simulated);

// The sensor named by a cell's conditions ("sensor": "rapl" | {"name": ...} | [...]), or "".
std::string sensor_of(const nlohmann::json& conditions);

class Provenance {
 public:
  // One source of the figure's figures; `who` names what it covers (a config, a trace).
  void add(bool estimated, bool simulated, const std::string& energy_source, const std::string& sensor,
           const std::string& who);
  void add(const study::CellResult& cell);
  bool empty() const { return groups_.empty(); }
  bool any_estimated() const;
  // "Measured: energy source counter, sensor rapl (baseline, fast). Estimated: ..." and,
  // when anything was estimated and the study has a sensor note, that note. Plain text.
  std::string line(const std::optional<std::string>& sensor_note) const;

 private:
  // (kind, energy source, sensor) -> names covered.
  std::map<std::tuple<std::string, std::string, std::string>, std::set<std::string>> groups_;
};

}  // namespace jouleperf::report::detail
