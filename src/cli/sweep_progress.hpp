// Progress of a sweep or a study on the terminal (stderr): a redrawn bar on a TTY, one line
// per cell otherwise; the steps and log lines of a study. Shared by `sweep`, `study` and
// `optimize`. The flags that choose it: --progress/--progress-bar, --no-progress/--no-progress-bar.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "jouleperf/study/progress.hpp"

namespace jouleperf::cli {

using study::cell_energy;
using study::format_duration;

struct ProgressFlags {
  bool bar = false;     // --progress, --progress-bar: the bar even when stderr is not a terminal
  bool no_bar = false;  // --no-progress, --no-progress-bar: log lines even on a terminal
  // The bar is drawn: asked for, or stderr is a terminal and it was not refused.
  bool draw_bar() const;
};

// Adds both spellings of each flag (sweep's --progress and study's --progress-bar).
void add_progress_flags(CLI::App* cmd, ProgressFlags& flags);

class Progress final : public study::StudyProgress {
 public:
  explicit Progress(bool bar) : bar_(bar) {}
  // Called with every cell stored (rows streamed as they finish).
  void set_on_cell(std::function<void(const study::CellResult&)> on_cell) { on_cell_ = std::move(on_cell); }
  void on_start(const study::SweepState& s) override;
  void on_cell_stored(const study::CellResult& c, const study::SweepState& s) override;
  void on_step(int index, int count, const std::string& what) override;
  void on_log(const std::string& line) override;
  // Ends a bar's line (before an error is printed).
  void end_line();

 private:
  bool bar_;
  bool mid_line_ = false;
  std::function<void(const study::CellResult&)> on_cell_;
};

}  // namespace jouleperf::cli
