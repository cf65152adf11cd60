// The main job's validation (study/validate.hpp): a subset drawn in whole batches per
// bin, warmed up unmeasured, measured over several passes; and, on an engine whose cost
// is exactly linear in tokens, a corrected estimate that matches the measured run.
#include "jouleperf/study/validate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "jouleperf/engine/serve.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/full_validation.hpp"

namespace jouleperf::study {
namespace {

// Lengths spread over two input bins (<= 8, <= 32) and one output bin (<= 4).
estimate::RequestLengths spread_lengths(std::size_t n) {
  estimate::RequestLengths l;
  for (std::size_t k = 0; k < n; ++k) {
    l.inputs.push_back(static_cast<std::uint32_t>(k % 2 == 0 ? 1 + k % 8 : 9 + k % 24));
    l.outputs.push_back(static_cast<std::uint32_t>(1 + k % 4));
  }
  return l;
}

estimate::WorkloadBins bins_of(const estimate::RequestLengths& l) {
  workload::BinningOptions bo;
  bo.input_edges = {8, 32};
  bo.output_edges = {4};
  auto b = estimate::bin_lengths(l, bo, "w", "trace");
  EXPECT_TRUE(b);
  return *b;
}

TEST(ValidationPick, EachBinIsRoundedUpToWholeBatchesAndKeepsWhatWasPicked) {
  const auto lengths = spread_lengths(400);
  const auto bins = bins_of(lengths);
  const auto plain = pick_validation_requests(bins, lengths, 10, 7);
  auto whole = pick_validation_requests(bins, lengths, 10, 7, 4);
  ASSERT_EQ(plain.size(), 10u);
  const auto bin_of = estimate::bin_index_of_requests(bins, lengths);
  std::map<std::size_t, std::size_t> per_bin;
  for (auto k : whole) ++per_bin[bin_of[k]];
  for (auto [bin, n] : per_bin) EXPECT_EQ(n % 4, 0u) << "bin " << bin << " holds " << n;
  for (auto k : plain) EXPECT_NE(std::find(whole.begin(), whole.end(), k), whole.end()) << k;
  std::sort(whole.begin(), whole.end());
  auto copy = pick_validation_requests(bins, lengths, 10, 7, 4);
  std::sort(copy.begin(), copy.end());
  EXPECT_EQ(copy, whole);                                                  // deterministic for a seed
  EXPECT_EQ(std::adjacent_find(whole.begin(), whole.end()), whole.end());  // no request twice
}

TEST(ValidationPick, ABinSmallerThanABatchGivesWhatItHas) {
  estimate::RequestLengths l;
  l.inputs = {2, 3, 20};
  l.outputs = {1, 2, 3};
  const auto bins = bins_of(l);
  const auto whole = pick_validation_requests(bins, l, 3, 1, 8);
  EXPECT_EQ(whole.size(), 3u);
}

// serve(): each request costs 1 ms per input token and 10 ms per output token on the
// manual clock; a static batch (max_batch requests in order) whose prompts hold more tokens than any batch before costs
// 50 ms more (llama.cpp growing its buffers). run_batch is not used by the validation.
class LinearEngine final : public Engine {
 public:
  explicit LinearEngine(ManualClock& clock) : clock_(clock) { info_.engine = "fake"; }
  const EngineInfo& info() const override { return info_; }
  Result<BatchResult> run_batch(const BatchRequest&, const Clock&, Meter*) override {
    return make_error(Errc::kUnsupported, "not used");
  }
  Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options, const Clock&,
                            Meter* meter) override {
    if (meter != nullptr) {
      ++measured_calls;
      if (auto st = meter->start(); !st) return st.error();
    } else {
      ++unmeasured_calls;
      largest_unmeasured = std::max(largest_unmeasured, requests.size());
    }
    ServeResult out;
    out.start_s = clock_.now().value();
    for (std::size_t lo = 0; lo < requests.size(); lo += options.max_batch) {
      const std::size_t hi = std::min<std::size_t>(requests.size(), lo + options.max_batch);
      std::uint64_t prompt_tokens = 0;
      for (std::size_t k = lo; k < hi; ++k) prompt_tokens += requests[k].input_tokens;
      if (prompt_tokens > most_prompt_tokens_) {
        most_prompt_tokens_ = prompt_tokens;
        clock_.advance(Seconds(0.05));
      }
      for (std::size_t k = lo; k < hi; ++k)
        clock_.advance(Seconds(0.001 * static_cast<double>(requests[k].input_tokens) +
                               0.010 * static_cast<double>(requests[k].output_tokens) / options.max_batch));
    }
    out.end_s = clock_.now().value();
    return out;
  }
  int measured_calls = 0, unmeasured_calls = 0;
  std::size_t largest_unmeasured = 0;

 private:
  ManualClock& clock_;
  EngineInfo info_;
  std::uint64_t most_prompt_tokens_ = 0;
};

// A started sampler (polled by the test) over one fake sensor reading `watts` always.
std::unique_ptr<Sampler> flat_sampler(ManualClock& clock, double watts) {
  SensorInfo info{"fake", "fake:0", "constant", {}};
  info.caps.power = true;
  std::vector<std::unique_ptr<Sensor>> sensors;
  PowerProfile flat;
  flat.point(Seconds(0), Watts(watts)).point(Seconds(100000), Watts(watts));
  sensors.push_back(std::make_unique<FakePowerSensor>(info, flat, clock));
  auto sampler = std::make_unique<Sampler>(std::move(sensors), SamplerConfig{}, clock);
  EXPECT_TRUE(sampler->start(false));
  return sampler;
}

// A cell of `config` at (I, O, B) priced as LinearEngine runs it warm, at 100 W.
CellResult linear_cell(const std::string& config, std::uint64_t input, std::uint64_t output, std::uint64_t batch) {
  CellResult c;
  c.key = CellKey{config, input, output, batch};
  c.status = CellStatus::kDone;
  Repetition r;
  r.duration_s = static_cast<double>(batch) * (0.001 * static_cast<double>(input) +
                                               0.010 * static_cast<double>(output) / static_cast<double>(batch));
  r.energy_j = 100.0 * r.duration_s;
  c.reps = {r, r};
  return c;
}

// The cells of config "c" at batch 4 on the grid I in {1, 8, 32} x O in {1, 4}.
std::vector<CellResult> linear_cells() {
  std::vector<CellResult> cells;
  for (std::uint64_t in : {1, 8, 32})
    for (std::uint64_t out : {1, 4}) cells.push_back(linear_cell("c", in, out, 4));
  return cells;
}

TEST(Validation, WarmsUpUnmeasuredMeasuresEveryPassAndMatchesALinearEngine) {
  ManualClock clock;
  auto owned = flat_sampler(clock, 100.0);
  Sampler& sampler = *owned;

  const auto lengths = spread_lengths(400);
  const auto bins = bins_of(lengths);
  const auto cells = linear_cells();

  LinearEngine engine(clock);
  ValidationOptions o;
  o.config = "c";
  o.batch = 4;
  o.requests = 10;
  o.seed = 7;
  o.repetitions = 3;
  o.warmup_batches = 1;
  // The engine prices each request alone (no batch runs until its longest member), so the
  // per-request estimate is the corrected one: no composition.
  o.composition = estimate::BatchComposition::kNone;
  auto v = validate_estimate(engine, sampler, clock, bins, lengths, cells, o);
  ASSERT_TRUE(v) << v.error().message;
  const auto n_bins = (*v)["bins"].size();
  EXPECT_EQ(engine.unmeasured_calls, static_cast<int>(n_bins));  // one warm-up batch per bin
  EXPECT_EQ(engine.largest_unmeasured, 4u);
  // Per pass and bin: the bin's requests, then its reference batch (the cell's own work).
  EXPECT_EQ(engine.measured_calls, static_cast<int>(2 * 3 * n_bins));
  // The reference batches cost now what their cells stored: no drift.
  EXPECT_NEAR((*v)["reference_drift_pct"].get<double>(), 0.0, 1e-6);
  EXPECT_NEAR((*v)["corrected_error_drift_adjusted_pct"].get<double>(), (*v)["corrected_error_pct"].get<double>(),
              1e-6);
  EXPECT_EQ((*v)["measured_pass_energy_j"].size(), 3u);
  EXPECT_EQ((*v)["requests"].get<std::size_t>() % 4, 0u);
  // The cold-start cost was paid in the warm-up: every pass costs the same, and the
  // corrected estimate (linear in lengths between the cells) is the measured energy.
  const auto passes = (*v)["measured_pass_energy_j"];
  EXPECT_NEAR(passes[0].get<double>(), passes[2].get<double>(), 1e-9);
  EXPECT_NEAR((*v)["corrected_error_pct"].get<double>(), 0.0, 0.5);
  EXPECT_EQ((*v)["corrected_estimate_j"].get<double>(), (*v)["per_request_estimate_j"].get<double>());
  EXPECT_GT((*v)["paper_error_pct"].get<double>(), 5.0);  // ceilings over-count

  // Without the warm-up, the first pass pays the cold starts.
  LinearEngine cold(clock);
  o.warmup_batches = 0;
  o.reference = false;
  auto w = validate_estimate(cold, sampler, clock, bins, lengths, cells, o);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_GT((*w)["measured_pass_energy_j"][0].get<double>(), (*w)["measured_pass_energy_j"][1].get<double>() + 1.0);

  o.repetitions = 0;
  EXPECT_FALSE(validate_estimate(engine, sampler, clock, bins, lengths, cells, o));
}

// A sensor that reads 0 W: the validation has nothing to compare with, and says so
// instead of reporting a 0 % error.
TEST(Validation, NoMeasuredEnergyIsAnErrorNotAZeroError) {
  ManualClock clock;
  auto owned = flat_sampler(clock, 0.0);  // a sensor that reads 0 W
  Sampler& sampler = *owned;
  const auto lengths = spread_lengths(100);
  const auto bins = bins_of(lengths);
  const auto cells = linear_cells();
  LinearEngine engine(clock);
  ValidationOptions o;
  o.config = "c";
  o.batch = 4;
  o.requests = 8;
  auto v = validate_estimate(engine, sampler, clock, bins, lengths, cells, o);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("measured 0 J"), std::string::npos) << v.error().message;
}

class ZeroRunner final : public StaticBatchRunner {
 public:
  Result<double> run(std::span<const std::uint32_t>, std::span<const std::uint32_t>) override { return 0.0; }
  std::string energy_source() const override { return "fake"; }
};

TEST(FullValidationRun, ARunWithoutEnergyIsAnError) {
  const auto lengths = spread_lengths(100);
  const auto bins = bins_of(lengths);
  const auto cells = linear_cells();
  ZeroRunner runner;
  FullValidationOptions o;
  o.config = "c";
  o.estimate.max_batch = 4;
  auto v = validate_full_run(runner, bins, lengths, cells, o);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("measured 0 J"), std::string::npos) << v.error().message;
}

}  // namespace
}  // namespace jouleperf::study
