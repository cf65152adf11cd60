#include "jouleperf/study/chargeback.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace jouleperf::study {

Result<Chargeback> charge_by_group(const std::string& column, std::span<const std::string> groups,
                                   std::span<const RequestTimeline> timelines, const Attribution& split,
                                   const estimate::CarbonOptions& carbon) {
  if (groups.size() != split.requests.size() || timelines.size() != split.requests.size())
    return make_error(Errc::kInvalidArgument, fmt::format("chargeback: {} group values, {} timelines for {} requests",
                                                          groups.size(), timelines.size(), split.requests.size()));
  if (auto st = estimate::validate(carbon); !st) return st.error();
  Chargeback out;
  out.column = column;
  out.total_j = split.total_j;
  out.unattributed_idle_j = split.unattributed_idle_j;
  out.unattributed_gco2e = estimate::gco2e(split.unattributed_idle_j, carbon);
  out.carbon = carbon;
  std::map<std::string, GroupEnergy> by;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    GroupEnergy& g = by[groups[i]];
    const RequestEnergy& e = split.requests[i];
    g.group = groups[i];
    ++g.requests;
    if (!timelines[i].ok) ++g.failed;
    g.energy_j += e.energy_j;
    g.prefill_j += e.prefill_j;
    g.decode_j += e.decode_j;
    g.idle_j += e.idle_j;
    if (e.above_idle_j) g.above_idle_j = g.above_idle_j.value_or(0.0) + *e.above_idle_j;
  }
  for (auto& [name, g] : by) {
    g.share = out.total_j > 0 ? g.energy_j / out.total_j : 0.0;
    g.gco2e = estimate::gco2e(g.energy_j, carbon);
    out.groups.push_back(std::move(g));
  }
  std::stable_sort(out.groups.begin(), out.groups.end(),
                   [](const GroupEnergy& a, const GroupEnergy& b) { return a.energy_j > b.energy_j; });
  return out;
}

nlohmann::json chargeback_json(const Chargeback& c) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : c.groups)
    groups.push_back({{"group", g.group},
                      {"requests", g.requests},
                      {"failed", g.failed},
                      {"energy_j", g.energy_j},
                      {"prefill_j", g.prefill_j},
                      {"decode_j", g.decode_j},
                      {"idle_j", g.idle_j},
                      {"above_idle_j", g.above_idle_j ? nlohmann::json(*g.above_idle_j) : nlohmann::json(nullptr)},
                      {"share", g.share},
                      {"gco2e", g.gco2e}});
  return {{"column", c.column},
          {"total_j", c.total_j},
          {"unattributed_idle_j", c.unattributed_idle_j},
          {"unattributed_gco2e", c.unattributed_gco2e},
          {"carbon",
           {{"intensity_g_per_kwh", c.carbon.intensity_g_per_kwh}, {"pue", c.carbon.pue}, {"source", c.carbon.source}}},
          {"groups", groups}};
}

}  // namespace jouleperf::study
