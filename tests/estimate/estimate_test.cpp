// The workload estimate against hand-computed cases: the paper's sum over bins, the
// FLOPs-ideal baseline, interpolation in log-length space, the corrected estimate, the
// interval, savings, carbon and the artifact's fields.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jouleperf/estimate/carbon.hpp"
#include "jouleperf/estimate/ideal.hpp"
#include "jouleperf/estimate/interpolate.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/estimate/workload_estimate.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/default_workloads.hpp"

namespace jouleperf::estimate {
namespace {

study::CellResult cell(const std::string& config, std::uint64_t i, std::uint64_t o, std::uint64_t b,
                       const std::vector<double>& energies, double uncertainty_j = 0.0) {
  study::CellResult c;
  c.key = {config, i, o, b};
  c.status = study::CellStatus::kDone;
  for (double e : energies) {
    study::Repetition r;
    r.energy_j = e;
    r.uncertainty_j = uncertainty_j;
    r.duration_s = 1.0;
    c.reps.push_back(r);
  }
  c.energy_source = "cpu-time-model";
  c.estimated = true;
  return c;
}

WorkloadBins three_bins() {
  WorkloadBins w;
  w.name = "hand";
  w.trace = "test";
  w.input_edges = {32, 128};
  w.output_edges = {8, 16};
  w.bins = {{32, 8, 0, 0, 10}, {128, 8, 32, 0, 5}, {128, 16, 32, 8, 16}};
  w.requests = w.offered = 31;
  return w;
}

std::vector<study::CellResult> three_bin_cells() {
  return {
      cell("base", 32, 8, 4, {10, 12, 14}, 0.5),  // mean 12, stddev 2, n 3
      cell("base", 128, 8, 1, {20}),              // a smaller batch at the same bin: not used
      cell("base", 128, 8, 2, {30, 30}, 1.0),     // mean 30, stddev 0
      cell("base", 128, 16, 8, {100}),            // one repetition: no spread
      cell("other", 32, 8, 4, {1}),               // another configuration: ignored
  };
}

TEST(Estimate, PaperSumOverThreeBinsByHand) {
  const auto cells = three_bin_cells();
  const CellGrid grid = CellGrid::of_config(cells, "base");
  auto e = estimate_config(grid, "base", three_bins(), nullptr, EstimateOptions{});
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  // N/B * E_batch: 10/4 * 12 = 30; 5/2 * 30 = 75 (B = 2, the largest measured); 16/8 * 100 = 200.
  EXPECT_DOUBLE_EQ(e->paper.value_j, 305.0);
  ASSERT_EQ(e->bins.size(), 3u);
  EXPECT_EQ(e->bins[0].batch, 4u);
  EXPECT_EQ(e->bins[1].batch, 2u);
  EXPECT_EQ(e->bins[2].batch, 8u);
  EXPECT_DOUBLE_EQ(e->bins[0].energy_j, 30.0);
  EXPECT_DOUBLE_EQ(e->bins[1].energy_j, 75.0);
  EXPECT_DOUBLE_EQ(e->bins[2].energy_j, 200.0);
  EXPECT_FALSE(e->bins[1].interpolated);
  EXPECT_EQ(e->requests, 31u);
  EXPECT_EQ(e->binned_output_tokens, 10u * 8 + 5u * 8 + 16u * 16);
  // Random: only the first cell has spread: 2.5 * 2 / sqrt(3) = 2.886751...
  EXPECT_NEAR(e->paper.random_sigma_j, 2.5 * 2.0 / std::sqrt(3.0), 1e-12);
  // Sensor bound, linear: 2.5 * 0.5 + 2.5 * 1.0 + 2 * 0 = 3.75.
  EXPECT_DOUBLE_EQ(e->paper.systematic_j, 3.75);
  EXPECT_NEAR(e->paper.lo_j, 305.0 - 2.0 * 2.886751345948129 - 3.75, 1e-9);
  EXPECT_NEAR(e->paper.hi_j, 305.0 + 2.0 * 2.886751345948129 + 3.75, 1e-9);
  EXPECT_EQ(e->energy_source, "cpu-time-model");
  EXPECT_TRUE(e->estimated);
  EXPECT_FALSE(e->simulated);
}

TEST(Estimate, BatchCapPicksASmallerMeasuredBatch) {
  const auto cells = three_bin_cells();
  const CellGrid grid = CellGrid::of_config(cells, "base");
  EstimateOptions o;
  o.bin_batch_caps[{128, 8}] = 1;  // e.g. the memory budget allows only B = 1 there
  WorkloadBins w = three_bins();
  w.bins.pop_back();
  auto e = estimate_config(grid, "base", w, nullptr, o);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  // 10/4 * 12 + 5/1 * 20 = 30 + 100.
  EXPECT_DOUBLE_EQ(e->paper.value_j, 130.0);
  EXPECT_EQ(e->bins[1].batch, 1u);
}

TEST(Estimate, ACapBelowEveryMeasuredBatchRefusesNamingTheBin) {
  const auto cells = three_bin_cells();
  const CellGrid grid = CellGrid::of_config(cells, "base");
  EstimateOptions o;
  o.max_batch = 4;  // (128, 16) was measured at B = 8 only, and no grid surrounds it below
  auto e = estimate_config(grid, "base", three_bins(), nullptr, o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::kNotFound);
  EXPECT_NE(e.error().message.find("I*=128 O*=16 (16 requests)"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("I=128 O=16 B=8"), std::string::npos) << e.error().message;
}

std::vector<study::CellResult> square_cells() {
  return {cell("c", 32, 8, 1, {10}), cell("c", 128, 8, 1, {30}), cell("c", 32, 32, 1, {20}),
          cell("c", 128, 32, 1, {60})};
}

TEST(Interpolate, ExactAtGridPointsBilinearInLogsAndRefusesOutside) {
  const auto cells = square_cells();
  const CellGrid g = CellGrid::of_config(cells, "c");
  for (const auto& c : cells) {
    auto r =
        interpolate_at(g, 1, static_cast<double>(c.key.input_tokens), static_cast<double>(c.key.output_tokens), false);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->exact);
    EXPECT_DOUBLE_EQ(r->energy_batch_j(), c.reps[0].energy_j);
  }
  // (64, 16): halfway in ln I between 32 and 128, halfway in ln O between 8 and 32:
  // 0.25 * (10 + 30 + 20 + 60) = 30.
  auto mid = interpolate_at(g, 1, 64, 16, false);
  ASSERT_TRUE(mid.ok());
  EXPECT_NEAR(mid->energy_batch_j(), 30.0, 1e-12);
  EXPECT_EQ(mid->corners.size(), 4u);
  // On the O = 8 line: 10 + 0.5 * (30 - 10) = 20.
  auto line = interpolate_at(g, 1, 64, 8, false);
  ASSERT_TRUE(line.ok());
  EXPECT_NEAR(line->energy_batch_j(), 20.0, 1e-12);
  EXPECT_EQ(line->corners.size(), 2u);
  // Linear weights: 64 is a third of the way from 32 to 128: 10 + (1/3) * 20; at (64, 16)
  // t = 1/3, u = 1/3: (4/9) 10 + (2/9) 30 + (2/9) 20 + (1/9) 60 = 20.
  auto lin = interpolate_at(g, 1, 64, 8, false, LengthSpace::kLinear);
  ASSERT_TRUE(lin.ok());
  EXPECT_NEAR(lin->energy_batch_j(), 10.0 + 20.0 / 3.0, 1e-12);
  auto lin_mid = interpolate_at(g, 1, 64, 16, false, LengthSpace::kLinear);
  ASSERT_TRUE(lin_mid.ok());
  EXPECT_NEAR(lin_mid->energy_batch_j(), (4 * 10 + 2 * 30 + 2 * 20 + 60) / 9.0, 1e-12);
  // Monotone between grid points (the corners increase in I and in O).
  double prev = 0.0;
  for (double i = 32; i <= 128; i += 4) {
    auto r = interpolate_at(g, 1, i, 16, false);
    ASSERT_TRUE(r.ok());
    EXPECT_GE(r->energy_batch_j(), prev);
    prev = r->energy_batch_j();
  }
  // Outside: above, below (without clamping), at an unmeasured batch.
  EXPECT_FALSE(interpolate_at(g, 1, 256, 8, false).ok());
  EXPECT_FALSE(interpolate_at(g, 1, 16, 8, false).ok());
  EXPECT_FALSE(interpolate_at(g, 2, 64, 16, false).ok());
  auto low = interpolate_at(g, 1, 16, 8, true);
  ASSERT_TRUE(low.ok());
  EXPECT_TRUE(low->clamped);
  EXPECT_DOUBLE_EQ(low->energy_batch_j(), 10.0);
}

TEST(Interpolate, AMissingCornerIsRefused) {
  auto cells = square_cells();
  cells.pop_back();  // no (128, 32)
  const CellGrid g = CellGrid::of_config(cells, "c");
  auto r = interpolate_at(g, 1, 64, 16, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("I=128 O=32"), std::string::npos) << r.error().message;
}

TEST(Estimate, MissingBinInterpolatedOrRefused) {
  const auto cells = square_cells();
  const CellGrid g = CellGrid::of_config(cells, "c");
  WorkloadBins w;
  w.bins = {{64, 16, 32, 8, 3}};
  auto e = estimate_config(g, "c", w, nullptr, EstimateOptions{});
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_TRUE(e->bins[0].interpolated);
  EXPECT_EQ(e->bins[0].batch, 1u);
  EXPECT_NEAR(e->paper.value_j, 3.0 * 30.0, 1e-9);
  EXPECT_EQ(e->bins[0].from.size(), 4u);

  EstimateOptions refuse;
  refuse.missing = MissingBins::kRefuse;
  auto r = estimate_config(g, "c", w, nullptr, refuse);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("I*=64 O*=16"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("refuse"), std::string::npos);

  WorkloadBins outside;
  outside.bins = {{256, 16, 128, 8, 1}};
  auto o = estimate_config(g, "c", outside, nullptr, EstimateOptions{});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("outside the measured grid"), std::string::npos) << o.error().message;
  EXPECT_NE(o.error().message.find("I=128 O=32 B=1"), std::string::npos) << o.error().message;
}

TEST(Estimate, CorrectedEqualsPaperOnCeilingsAndIsLowerBelowThem) {
  const std::vector<study::CellResult> cells = {cell("c", 32, 8, 2, {10}), cell("c", 128, 8, 2, {30})};
  const CellGrid g = CellGrid::of_config(cells, "c");
  workload::BinningOptions bo;
  bo.input_edges = {32, 128};
  bo.output_edges = {8};

  RequestLengths on{{32, 32, 128, 128}, {8, 8, 8, 8}};
  auto w_on = bin_lengths(on, bo, "on", "test");
  ASSERT_TRUE(w_on.ok());
  auto e_on = estimate_config(g, "c", *w_on, &on, EstimateOptions{});
  ASSERT_TRUE(e_on.ok()) << e_on.error().to_string();
  // Paper: 2/2 * 10 + 2/2 * 30 = 40; every request on its ceiling: the same.
  EXPECT_DOUBLE_EQ(e_on->paper.value_j, 40.0);
  ASSERT_TRUE(e_on->corrected);
  EXPECT_NEAR(e_on->corrected->value_j, 40.0, 1e-12);

  RequestLengths below{{32, 32, 64, 64}, {8, 8, 8, 8}};
  auto w_below = bin_lengths(below, bo, "below", "test");
  ASSERT_TRUE(w_below.ok());
  auto e_below = estimate_config(g, "c", *w_below, &below, EstimateOptions{});
  ASSERT_TRUE(e_below.ok());
  EXPECT_DOUBLE_EQ(e_below->paper.value_j, 40.0);  // both 64s round up to I* = 128
  // Corrected, linear in I between the measured 32 and 128: E(64) = 10 + (64 - 32) / (128 - 32) * 20
  // = 16.667; 2 * 10/2 + 2 * 16.667/2 = 26.667. (In log space it would be 10 + 0.5 * 20 = 20.)
  EXPECT_NEAR(e_below->corrected->value_j, 10.0 + 10.0 + 20.0 / 3.0, 1e-9);
  EXPECT_LT(e_below->corrected->value_j, e_below->paper.value_j);
  EXPECT_EQ(*e_below->real_output_tokens, 32u);

  // Below the smallest measured length the corrected estimate keeps the ceiling (counted).
  RequestLengths tiny{{5}, {3}};
  auto w_tiny = bin_lengths(tiny, bo, "tiny", "test");
  ASSERT_TRUE(w_tiny.ok());
  auto e_tiny = estimate_config(g, "c", *w_tiny, &tiny, EstimateOptions{});
  ASSERT_TRUE(e_tiny.ok());
  EXPECT_NEAR(e_tiny->corrected->value_j, 5.0, 1e-12);
  EXPECT_EQ(e_tiny->corrected_clamped, 1u);
}

TEST(Estimate, IntervalWidensWithTheRepetitionsSpread) {
  WorkloadBins w;
  w.bins = {{32, 8, 0, 0, 8}};
  const std::vector<study::CellResult> tight = {cell("c", 32, 8, 2, {10, 10, 10})};
  const std::vector<study::CellResult> loose = {cell("c", 32, 8, 2, {5, 10, 15})};
  auto a = estimate_config(CellGrid::of_config(tight, "c"), "c", w, nullptr, EstimateOptions{});
  auto b = estimate_config(CellGrid::of_config(loose, "c"), "c", w, nullptr, EstimateOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(a->paper.value_j, 40.0);
  EXPECT_DOUBLE_EQ(b->paper.value_j, 40.0);
  EXPECT_DOUBLE_EQ(a->paper.hi_j - a->paper.lo_j, 0.0);
  // stddev 5, se 5/sqrt(3), times N/B = 4, +- 2 sigma: width 4 * 4 * 5 / sqrt(3).
  EXPECT_NEAR(b->paper.hi_j - b->paper.lo_j, 16.0 * 5.0 / std::sqrt(3.0), 1e-9);
}

TEST(Ideal, FlopsBaselineOnATinyArchitectureByHand) {
  ModelInfo m;
  m.arch.vocab = 10;
  m.arch.dim = 4;
  m.arch.layers = 1;
  m.arch.heads = 1;
  m.arch.kv_heads = 1;
  m.arch.head_dim = 2;
  m.params_active = 100;
  WorkloadBins w;
  w.bins = {{2, 3, 0, 0, 5}, {4, 1, 2, 0, 2}};
  // Per token: matmul 2 * 100 = 200, logits 2 * 10 * 4 = 80; per (query, key) pair 4 * 1 * 1 * 2 = 8.
  // (I=2, O=3): prefill 2*200 + 8*(1+2) + 80 = 504; decode 2 forwards: 2*200 + 8*(3+4) + 2*80 = 616;
  //   1120 per request, 5600 for N = 5.
  // (I=4, O=1): prefill 4*200 + 8*(1+2+3+4) + 80 = 960; no decode forward; 1920 for N = 2.
  // Sum 7520 FLOPs; TDP / peak = 300 W / 1000 FLOP/s = 0.3 J/FLOP: 2256 J.
  auto r = ideal_energy(m, DeviceRating{300.0, 1000.0, "test"}, w, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->flops_binned, 7520.0);
  EXPECT_DOUBLE_EQ(r->energy_j, 2256.0);
  EXPECT_FALSE(r->real_energy_j);

  // On real lengths: one request (1, 3) in the (2, 3) bin: prefill 200 + 8 + 80 = 288,
  // decode 2*200 + 8*(2+3) + 160 = 600: 888 FLOPs, 266.4 J.
  w.input_edges = {2, 4};
  w.output_edges = {1, 3};
  RequestLengths one{{1}, {3}};
  auto real = ideal_energy(m, DeviceRating{300.0, 1000.0, "test"}, w, &one);
  ASSERT_TRUE(real.ok());
  EXPECT_DOUBLE_EQ(*real->flops_real, 888.0);
  EXPECT_NEAR(*real->real_energy_j, 266.4, 1e-9);

  EXPECT_FALSE(ideal_energy(m, DeviceRating{0.0, 1000.0, ""}, w, nullptr).ok());
  EXPECT_FALSE(ideal_energy(m, DeviceRating{300.0, NAN, ""}, w, nullptr).ok());
}

TEST(Ideal, PrecisionFollowsTheWeightType) {
  EXPECT_EQ(*precision_for_weight_type("f32"), hardware::Precision::kFp32);
  EXPECT_EQ(*precision_for_weight_type("f16"), hardware::Precision::kBf16);
  EXPECT_EQ(*precision_for_weight_type(""), hardware::Precision::kBf16);
  EXPECT_EQ(*precision_for_weight_type("q8_0"), hardware::Precision::kInt8);
  EXPECT_EQ(*precision_for_weight_type("q4_0"), hardware::Precision::kInt8);
  EXPECT_FALSE(precision_for_weight_type("nonsense").ok());
}

TEST(Carbon, KilowattHourTimesPueTimesIntensity) {
  CarbonOptions c;
  c.intensity_g_per_kwh = 400.0;
  c.pue = 1.5;
  EXPECT_DOUBLE_EQ(gco2e(3.6e6, c), 600.0);  // 1 kWh * 1.5 * 400 g/kWh
  EXPECT_DOUBLE_EQ(to_wh(7200.0), 2.0);
  EXPECT_TRUE(validate(c).ok());
  c.pue = 0.9;
  EXPECT_FALSE(validate(c).ok());
  c.pue = 1.2;
  c.intensity_g_per_kwh = -1.0;
  EXPECT_FALSE(validate(c).ok());
}

TEST(Report, SavingsAgainstTheBaselineAndTheArtifactFields) {
  std::vector<study::CellResult> cells = {cell("slow", 32, 8, 2, {100, 100}, 1.0), cell("fast", 32, 8, 2, {27, 27})};
  study::Config slow;
  slow.name = "slow";
  slow.baseline = true;
  study::Config fast;
  fast.name = "fast";
  std::vector<ConfigInputs> inputs(2);
  inputs[0].config = slow;
  inputs[1].config = fast;
  ModelInfo m;
  m.arch.vocab = 10;
  m.arch.dim = 4;
  m.arch.layers = 1;
  m.arch.heads = 1;
  m.arch.kv_heads = 1;
  m.arch.head_dim = 2;
  m.params_active = 100;
  inputs[1].model = m;
  inputs[1].device = DeviceRating{1.0, 1.0, "unit"};
  inputs[0].ideal_note = "no device";
  RequestLengths lengths{{32, 20}, {8, 8}};
  workload::BinningOptions bo;
  bo.input_edges = {32};
  bo.output_edges = {8};
  auto w = bin_lengths(lengths, bo, "two", "test.csv");
  ASSERT_TRUE(w.ok());
  CarbonOptions carbon;
  auto r = estimate_workload(*w, &lengths, inputs, cells, EstimateOptions{}, carbon);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->configs.size(), 2u);
  ASSERT_TRUE(r->baseline);
  EXPECT_EQ(*r->baseline, "slow");
  // 2/2 * 100 = 100 J against 2/2 * 27 = 27 J: 73% saved.
  EXPECT_NEAR(*r->configs[1].saving_pct, 73.0, 1e-9);
  EXPECT_DOUBLE_EQ(*r->configs[0].saving_pct, 0.0);
  EXPECT_DOUBLE_EQ(r->configs[1].per_request_j, 13.5);
  EXPECT_DOUBLE_EQ(r->configs[1].per_output_token_j, 27.0 / 16.0);
  EXPECT_NEAR(r->configs[1].per_1000_requests_wh, 13.5 * 1000 / 3600, 1e-12);
  // Ideal: 2 * FLOPs(32, 8) at 1 J/FLOP; above ideal = 100 * (27 / ideal - 1).
  ASSERT_TRUE(r->configs[1].ideal);
  const double ideal = 2.0 * request_flops(m, 32, 8).total();
  EXPECT_DOUBLE_EQ(r->configs[1].ideal->energy_j, ideal);
  EXPECT_NEAR(*r->configs[1].above_ideal_pct, 100.0 * (27.0 / ideal - 1.0), 1e-9);
  EXPECT_FALSE(r->configs[0].ideal);

  const auto j = to_json(*r);
  for (const char* k : {"workload", "trace", "requests", "scale", "bins", "baseline", "carbon", "missing_bins",
                        "configs", "estimated", "simulated", "energy_source"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["workload"], "two");
  EXPECT_EQ(j["missing_bins"], "interpolate-log");
  for (const char* k : {"input_tokens", "output_tokens", "requests", "input_lo", "output_lo"})
    EXPECT_TRUE(j["bins"][0].contains(k)) << k;
  for (const char* k : {"input", "output", "note"}) EXPECT_TRUE(j["scale"].contains(k)) << k;
  for (const char* k : {"intensity_g_per_kwh", "pue", "source"}) EXPECT_TRUE(j["carbon"].contains(k)) << k;
  const auto& c = j["configs"][1];
  for (const char* k :
       {"config", "energy_source", "estimated", "simulated", "energy_j", "energy_lo_j", "energy_hi_j",
        "corrected_energy_j", "corrected_lo_j", "corrected_hi_j", "energy_wh", "per_request_j", "per_1000_requests_wh",
        "per_output_token_j", "gco2e", "ideal_energy_j", "above_ideal_pct", "saving_pct", "bins"})
    EXPECT_TRUE(c.contains(k)) << k;
  for (const char* k :
       {"input_tokens", "output_tokens", "requests", "batch", "energy_batch_j", "energy_j", "interpolated"})
    EXPECT_TRUE(c["bins"][0].contains(k)) << k;
  EXPECT_EQ(c["config"], "fast");
  EXPECT_DOUBLE_EQ(c["energy_j"].get<double>(), 27.0);
  EXPECT_DOUBLE_EQ(c["saving_pct"].get<double>(), 73.0);
  EXPECT_TRUE(j["configs"][0]["ideal_energy_j"].is_null());
  EXPECT_EQ(j["configs"][0]["ideal_source"], "no device");
}

TEST(Report, RefusedConfigsAreListedAndTwoBaselinesAreAnError) {
  std::vector<study::CellResult> cells = {cell("a", 32, 8, 1, {1})};
  std::vector<ConfigInputs> inputs(2);
  inputs[0].config.name = "a";
  inputs[1].config.name = "b";  // nothing measured
  WorkloadBins w;
  w.bins = {{32, 8, 0, 0, 1}};
  auto r = estimate_workload(w, nullptr, inputs, cells, EstimateOptions{}, CarbonOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->configs.size(), 1u);
  ASSERT_EQ(r->refused.size(), 1u);
  EXPECT_EQ(r->refused[0].config, "b");
  inputs[0].config.baseline = inputs[1].config.baseline = true;
  EXPECT_FALSE(estimate_workload(w, nullptr, inputs, cells, EstimateOptions{}, CarbonOptions{}).ok());
  EXPECT_TRUE(estimate_workload(w, nullptr, inputs, cells, EstimateOptions{}, CarbonOptions{}, "a").ok());
  EXPECT_FALSE(estimate_workload(w, nullptr, inputs, cells, EstimateOptions{}, CarbonOptions{}, "zzz").ok());
}

TEST(WorkloadBins, EmbeddedLengthsGiveTheEmbeddedCountsBack) {
  for (const auto& d : workload::default_workloads()) {
    const RequestLengths l = lengths_from_default(d);
    workload::BinningOptions bo;
    bo.input_edges.assign(d.input_edges.begin(), d.input_edges.end());
    bo.output_edges.assign(d.output_edges.begin(), d.output_edges.end());
    auto b = workload::bin_requests(l.inputs, l.outputs, bo);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->excluded.requests, 0u) << d.name;
    for (std::size_t i = 0; i < d.input_edges.size(); ++i)
      for (std::size_t o = 0; o < d.output_edges.size(); ++o) EXPECT_EQ(b->counts[i][o], d.count(i, o)) << d.name;
    // Real lengths lie below the ceilings: fewer tokens than the bins count.
    EXPECT_GT(b->token_ratio, 1.0) << d.name;
  }
}

TEST(WorkloadBins, ScalingMultipliesAndRounds) {
  RequestLengths l{{100, 1}, {10, 3}};
  ASSERT_TRUE(scale_lengths(l, LengthScale{0.5, 0.1}).ok());
  EXPECT_EQ(l.inputs, (std::vector<std::uint32_t>{50, 1}));  // 0.5 rounds to 1 at least
  EXPECT_EQ(l.outputs, (std::vector<std::uint32_t>{1, 1}));
  EXPECT_FALSE(scale_lengths(l, LengthScale{0.0, 1.0}).ok());
}

}  // namespace
}  // namespace jouleperf::estimate
