// Progress of the study pipelines (`jouleperf study`, `sweep`): the library reports, the
// command draws (a bar on a terminal, log lines otherwise). The library never prints.
#pragma once

#include <string>

#include "jouleperf/study/sweep.hpp"

namespace jouleperf::study {

// A sweep's callbacks (a bar's done/total: SweepState) plus the steps of a longer job and
// its log lines. Each has an empty default.
class StudyProgress : public SweepProgress {
 public:
  // Step `index` of `count` (1-based) begins: `what` in one sentence.
  virtual void on_step(int /*index*/, int /*count*/, const std::string& /*what*/) {}
  // One line for people (a measured figure, a path written); no trailing newline.
  virtual void on_log(const std::string& /*line*/) {}
};

// A duration for people: "42s", "3m07s", "1h05m" (s in seconds, >= 0).
std::string format_duration(double s);
// A cell's energy per batch with its source and whether it is estimated or simulated, or
// its status and reason when it is not done.
std::string cell_energy(const CellResult& c);

}  // namespace jouleperf::study
