#include "sweep_progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

namespace jouleperf::cli {

bool ProgressFlags::draw_bar() const { return !no_bar && (bar || isatty(STDERR_FILENO) == 1); }

void add_progress_flags(CLI::App* cmd, ProgressFlags& flags) {
  cmd->add_flag("--progress,--progress-bar", flags.bar, "Progress bar even when stderr is not a terminal");
  cmd->add_flag("--no-progress,--no-progress-bar", flags.no_bar, "Log lines even on a terminal");
}

void Progress::on_start(const study::SweepState& s) {
  end_line();
  std::cerr << fmt::format("sweep: {} cells in this shard, {} already stored\n", s.total, s.resumed);
}

void Progress::on_cell_stored(const study::CellResult& c, const study::SweepState& s) {
  if (on_cell_) on_cell_(c);
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
  mid_line_ = s.done != s.total;
  if (!mid_line_) std::cerr << "\n";
}

void Progress::on_step(int index, int count, const std::string& what) {
  end_line();
  std::cerr << fmt::format("\n[{}/{}] {}\n", index, count, what);
}

void Progress::on_log(const std::string& line) {
  end_line();
  std::cerr << line << "\n";
}

void Progress::end_line() {
  if (mid_line_) std::cerr << "\n";
  mid_line_ = false;
}

}  // namespace jouleperf::cli
