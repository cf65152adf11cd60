#include "sweep_progress.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

namespace jouleperf::cli {

std::string format_duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}

std::string cell_energy(const study::CellResult& c) {
  if (c.status != study::CellStatus::kDone) return std::string(study::status_name(c.status)) + ": " + c.reason;
  const auto e = c.energy_per_batch_j();
  const char* kind = c.simulated ? "SIMULATED" : c.estimated ? "ESTIMATED" : "measured";
  if (c.simulated) return fmt::format("{:.4g} J/batch ({})", e.mean, kind);
  return fmt::format("{:.4g} J/batch +-{:.2g} ({}, {})", e.mean, e.stddev, c.energy_source, kind);
}

void Progress::on_start(const study::SweepState& s) {
  std::cerr << fmt::format("sweep: {} cells in this shard, {} already stored\n", s.total, s.resumed);
}

void Progress::on_cell_stored(const study::CellResult& c, const study::SweepState& s) {
  const std::string eta = s.eta_s ? format_duration(*s.eta_s) : "?";
  if (!bar_) {
    std::cerr << fmt::format("cell {}/{} {}: {} ETA {}\n", s.done, s.total, study::to_string(c.key), cell_energy(c),
                             eta);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = s.total ? static_cast<int>(kWidth * s.done / s.total) : kWidth;
  std::string line =
      fmt::format("\r[{}{}] {}/{} ETA {} | {}: {}", std::string(filled, '#'), std::string(kWidth - filled, '.'), s.done,
                  s.total, eta, study::to_string(c.key), cell_energy(c));
  if (line.size() > 160) line.resize(160);
  std::cerr << line << "\033[K" << std::flush;
  if (s.done == s.total) std::cerr << "\n";
}

}  // namespace jouleperf::cli
