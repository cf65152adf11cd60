// The inputs the `jouleperf estimate` CLI tests share (estimate_cli_test.cpp,
// golden_estimate_test.cpp): a small trace and a results store written through the Store
// API, two sim configurations on h100-sxm whose figures the tests check by hand.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "jouleperf/study/store.hpp"

namespace jouleperf::testing {

// Five requests (in, out), the last longer than any measured prompt.
inline constexpr const char* kEstimateTrace = "in,out\n32,8\n64,8\n100,16\n128,16\n500,3\n";

// A done cell at batch 2 with two repetitions of `e` J in 1 s each (a CPU-time model's
// estimate).
inline study::CellResult estimate_cell(const std::string& config, std::uint64_t i, std::uint64_t o, double e) {
  study::CellResult c;
  c.key = {config, i, o, 2};
  c.status = study::CellStatus::kDone;
  study::Repetition r;
  r.energy_j = e;
  r.duration_s = 1.0;
  c.reps = {r, r};
  c.energy_source = "cpu-time-model";
  c.estimated = true;
  return c;
}

// Writes the store at `path`: "baseline" (marked as the baseline) and "fast", both sim
// Llama-3.2-1B bf16 on h100-sxm. E_batch at B = 2: baseline 10, 30 J (I = 32, 128; O = 8)
// and 20, 60 J (O = 16); fast half of each. Call as ASSERT_TRUE(write_estimate_store(p)).
inline ::testing::AssertionResult write_estimate_store(const std::string& path) {
  auto s = study::Store::open(path);
  if (!s) return ::testing::AssertionFailure() << s.error().to_string();
  study::Config base;
  base.name = "baseline";
  base.engine = "sim";
  base.model = "Llama-3.2-1B";
  base.weight_type = "bf16";
  base.baseline = true;
  base.settings = {{"hardware", "h100-sxm"}};
  study::Config fast = base;
  fast.name = "fast";
  fast.baseline = false;
  for (const auto& config : {base, fast})
    if (auto st = s->put_config(config); !st) return ::testing::AssertionFailure() << st.error().to_string();
  const double e[2][2] = {{10, 20}, {30, 60}};
  const std::uint64_t in[2] = {32, 128}, out[2] = {8, 16};
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (const auto& [name, scale] : {std::pair{"baseline", 1.0}, std::pair{"fast", 0.5}})
        if (auto st = s->put_cell(estimate_cell(name, in[a], out[b], e[a][b] * scale)); !st)
          return ::testing::AssertionFailure() << st.error().to_string();
  return ::testing::AssertionSuccess();
}

}  // namespace jouleperf::testing
