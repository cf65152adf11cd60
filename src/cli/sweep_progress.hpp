// Progress of a sweep on the terminal: a redrawn bar on a TTY, one line per cell
// otherwise (stderr). Shared by `sweep` and `study`.
#pragma once

#include <string>

#include "jouleperf/study/sweep.hpp"

namespace jouleperf::cli {

// "42s", "3m07s", "1h05m".
std::string format_duration(double s);
// A cell's energy per batch with its source and whether it is estimated or simulated.
std::string cell_energy(const study::CellResult& c);

class Progress final : public study::SweepProgress {
 public:
  explicit Progress(bool bar) : bar_(bar) {}
  void on_start(const study::SweepState& s) override;
  void on_cell_stored(const study::CellResult& c, const study::SweepState& s) override;

 private:
  bool bar_;
};

}  // namespace jouleperf::cli
