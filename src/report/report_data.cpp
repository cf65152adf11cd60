#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

std::vector<const study::Artifact*> ReportData::of_kind(std::string_view kind) const {
  std::vector<const study::Artifact*> out;
  for (const auto& a : artifacts)
    if (a.kind == kind) out.push_back(&a);
  return out;
}

const study::Config* ReportData::config(std::string_view name) const {
  for (const auto& c : configs)
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<std::string> ReportData::sensor_note() const {
  for (const auto* a : of_kind("study")) {
    if (a->name != "summary" || !a->body.is_object()) continue;
    const auto it = a->body.find("sensor_note");
    if (it != a->body.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace jouleperf::report
