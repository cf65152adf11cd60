// A built-in CPU workload (dense floating-point multiply-adds on N threads for a time or
// an amount of work), so `jouleperf burn` gives `measure` something real on any machine.
#pragma once

#include <cstdint>

#include "jouleperf/core/output.hpp"

namespace jouleperf::workload {

struct BurnOptions {
  double seconds = 3.0;  // how long, s (when gflop is 0)
  double gflop = 0.0;    // > 0: this much work instead of a fixed time, GFLOP
  int threads = 1;       // >= 1
};

struct BurnResult {
  int threads = 0;
  double elapsed_s = 0.0;  // wall time, s
  double flops = 0.0;      // floating-point operations done
};

// Runs the work on `threads` threads and waits for them. Never fails.
BurnResult burn_cpu(const BurnOptions& options);

// A header line "burn: N thread(s) for S s, G GFLOP (R GFLOP/s)" and table "burn"
// (threads, elapsed_s, gflop, gflop_per_s); JSON: that row as an object.
table::Document burn_document(const BurnResult& r);

}  // namespace jouleperf::workload
