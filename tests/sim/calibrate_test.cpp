// Calibration: recovers a known machine from its own batches and predicts held-out ones;
// refuses too few or degenerate cells.
#include "jouleperf/sim/calibrate.hpp"

#include <gtest/gtest.h>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/simulator.hpp"

namespace jouleperf::sim {
namespace {

SimConfig cpu_config(const char* arch) {
  hardware::HardwareRegistry r;
  SimConfig c =
      make_config(*r.find("epyc-7763"), *find_stack("llamacpp-cpu"), info_from_arch(*find_builtin_arch(arch)));
  c.precision = WeightPrecision::kInt8;
  c.keep_requests = false;
  return c;
}

// A "machine" that differs from the built-in profile and stack in every figure the
// calibration fits (and only in those, so an exact fit exists): the batches it
// produces are what calibration must reproduce.
SimConfig truth() {
  SimConfig t = cpu_config("Llama-3.2-1B");
  t.stack.compute_efficiency = 1.0;
  t.stack.memory_efficiency = 1.0;
  t.power.active_floor = 0.5;
  t.hardware.peak_flops.bf16 *= 0.3;
  t.hardware.peak_flops.int8 *= 0.3;
  t.hardware.peak_flops.fp32 *= 0.3;
  t.hardware.memory_bandwidth_bps *= 0.5;
  t.stack.host_s_per_step = 2e-3;
  t.stack.host_s_per_sequence = 0.4e-3;
  t.hardware.idle_w = 40;
  t.hardware.tdp_w = 150;
  t.stack.decode_matmul_efficiency = 0.6;
  t.stack.decode_attention_efficiency = 0.3;
  return t;
}

std::vector<MeasuredBatch> batches_of(const SimConfig& c) {
  std::vector<MeasuredBatch> out;
  for (std::uint32_t in : {32u, 128u, 512u}) {
    for (std::uint32_t o : {8u, 64u}) {
      for (std::uint32_t b : {1u, 4u, 16u}) {
        auto run = simulate_batch(c, in, o, b);
        EXPECT_TRUE(run.ok());
        out.push_back({in, o, b, run->duration_s, run->energy_j, ""});
      }
    }
  }
  return out;
}

TEST(Calibrate, RecoversAKnownMachineAndPredictsHeldOutCells) {
  const auto cells = batches_of(truth());
  const SimConfig base = cpu_config("Llama-3.2-1B");
  // The uncalibrated simulator is far from this machine...
  std::size_t far = 0;
  for (const auto& m : cells) {
    auto run = simulate_batch(base, m.input_tokens, m.output_tokens, m.batch);
    ASSERT_TRUE(run.ok());
    if (std::abs(run->duration_s / m.duration_s - 1.0) > 0.2) ++far;
  }
  EXPECT_GT(far, cells.size() / 2);
  // ... and calibrated on two thirds of the cells it predicts the other third.
  CalibrationOptions options;
  options.random_starts = 0;  // the three set starts (the random ones only add time here)
  auto fit = calibrate(base, cells, options);
  ASSERT_TRUE(fit.ok()) << fit.error().message;
  EXPECT_EQ(fit->train_cells + fit->heldout_cells, cells.size());
  EXPECT_EQ(fit->heldout_cells, 6u);
  EXPECT_LT(fit->heldout_mape_latency_pct, 1.0);
  EXPECT_LT(fit->heldout_mape_energy_pct, 1.0);
  EXPECT_LT(fit->train_mape_latency_pct, 1.0);
  // Decode at batch 1 streams the weights: the fitted effective bandwidth is the
  // machine's bandwidth at its stack's efficiency.
  const SimConfig t = truth();
  EXPECT_NEAR(fit->config.hardware.memory_bandwidth_bps / t.hardware.memory_bandwidth_bps, 1.0, 0.1);
  EXPECT_NEAR(fit->config.hardware.tdp_w / t.hardware.tdp_w, 1.0, 0.1);
  EXPECT_EQ(fit->config.stack.memory_efficiency, 1.0);
  // The decode efficiencies are fitted too (in (0, 1), smoothly, from several starts).
  EXPECT_GT(fit->config.stack.decode_matmul_efficiency, 0.0);
  EXPECT_LT(fit->config.stack.decode_matmul_efficiency, 1.0);
  EXPECT_FALSE(fit->config.hardware.source_of("memory_bandwidth_bps").empty());
  std::size_t held = 0;
  for (const auto& c : fit->cells) held += c.held_out ? 1 : 0;
  EXPECT_EQ(held, fit->heldout_cells);
}

TEST(Calibrate, RefusesTooFewOrDegenerateCells) {
  const SimConfig base = cpu_config("Llama-3.2-1B");
  std::vector<MeasuredBatch> three = {{32, 8, 1, 0.1, 5, "a"}, {64, 8, 1, 0.2, 9, "b"}, {128, 8, 1, 0.3, 14, "c"}};
  auto r = calibrate(base, three);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  auto four = three;
  four.push_back({256, 8, 1, 0.0, 20, "zero-duration"});
  r = calibrate(base, four);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("zero-duration"), std::string::npos);
  four.back().duration_s = 0.4;
  CalibrationOptions o;
  o.hold_out_every = 1;
  r = calibrate(base, four, o);
  ASSERT_FALSE(r.ok());
}

TEST(Calibrate, AGpuStackOnACpuProfileIsTheSimulatorsError) {
  SimConfig c = cpu_config("Llama-3.2-1B");
  c.stack = *find_stack("vllm");
  const std::vector<MeasuredBatch> cells = {
      {32, 8, 1, 0.1, 5, "a"}, {64, 8, 1, 0.2, 9, "b"}, {128, 8, 1, 0.3, 14, "c"}, {256, 8, 1, 0.4, 20, "d"}};
  auto r = calibrate(c, cells);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace jouleperf::sim
