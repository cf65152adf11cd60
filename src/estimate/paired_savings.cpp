// Paired savings: one workload estimate per round of a rep-major sweep, per configuration.
#include "jouleperf/estimate/paired_savings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "jouleperf/estimate/interpolate.hpp"

namespace jouleperf::estimate {

namespace {

bool involved(const study::CellResult& c, const std::string& a, const std::string& b) {
  return c.key.config == a || c.key.config == b;
}

}  // namespace

std::optional<PairedSaving> paired_saving(std::span<const study::CellResult> cells, const std::string& config,
                                          const std::string& baseline, const WorkloadBins& bins,
                                          const RequestLengths* lengths, const EstimateOptions& options,
                                          std::string* why) {
  auto refuse = [&](std::string reason) -> std::optional<PairedSaving> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  if (config == baseline) return refuse("the baseline itself");
  std::size_t rounds = std::numeric_limits<std::size_t>::max();
  for (const auto& c : cells) {
    if (!involved(c, config, baseline) || c.status != study::CellStatus::kDone) continue;
    if (c.conditions.value("order", std::string()) != "rep-major")
      return refuse(fmt::format("{} was not measured rep-major", study::to_string(c.key)));
    for (std::size_t k = 0; k < c.reps.size(); ++k)
      if (c.reps[k].round != k)
        return refuse(fmt::format("{}: repetition {} ran in round {}", study::to_string(c.key), k, c.reps[k].round));
    rounds = std::min(rounds, c.reps.size());
  }
  if (rounds == std::numeric_limits<std::size_t>::max()) return refuse("no measured cells");
  if (rounds < 2) return refuse("fewer than two repetitions per cell");

  std::vector<double> savings;
  for (std::size_t k = 0; k < rounds; ++k) {
    // The cells as if round k were the only repetition.
    std::vector<study::CellResult> view;
    for (const auto& c : cells) {
      if (!involved(c, config, baseline)) continue;
      study::CellResult v = c;
      if (v.status == study::CellStatus::kDone) v.reps = {c.reps[k]};
      view.push_back(std::move(v));
    }
    auto e = estimate_config(CellGrid::of_config(view, config), config, bins, lengths, options);
    auto b = estimate_config(CellGrid::of_config(view, baseline), baseline, bins, lengths, options);
    if (!e.ok() || !b.ok() || !(b->paper.value_j > 0.0))
      return refuse(fmt::format("round {} cannot be estimated on its own", k));
    savings.push_back(100.0 * (1.0 - e->paper.value_j / b->paper.value_j));
  }
  const study::Spread s = study::spread_of(savings);
  const double half = study::ci95_half_width(s);
  PairedSaving out;
  out.mean_pct = s.mean;
  out.lo_pct = s.mean - half;
  out.hi_pct = s.mean + half;
  out.pairs = static_cast<std::uint32_t>(rounds);
  return out;
}

}  // namespace jouleperf::estimate
