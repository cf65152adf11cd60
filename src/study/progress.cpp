#include "jouleperf/study/progress.hpp"

#include <fmt/format.h>

#include <cmath>

namespace jouleperf::study {

std::string format_duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}

std::string cell_energy(const CellResult& c) {
  if (c.status != CellStatus::kDone) return std::string(status_name(c.status)) + ": " + c.reason;
  const auto e = c.energy_per_batch_j();
  const char* kind = c.simulated ? "SIMULATED" : c.estimated ? "ESTIMATED" : "measured";
  if (c.simulated) return fmt::format("{:.4g} J/batch ({})", e.mean, kind);
  return fmt::format("{:.4g} J/batch +-{:.2g} ({}, {})", e.mean, e.stddev, c.energy_source, kind);
}

}  // namespace jouleperf::study
