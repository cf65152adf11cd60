// The estimate corrected for static batch composition (docs/estimate.md 4b): the expected
// longest member of a batch, partial batches priced at their own size, and the estimate's
// figures on a hand-computed workload.
#include "jouleperf/estimate/batch_composition.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "jouleperf/estimate/workload_estimate.hpp"
#include "jouleperf/workload/binning.hpp"

namespace jouleperf::estimate {
namespace {

study::CellResult cell(std::uint64_t i, std::uint64_t o, std::uint64_t b, double energy_j) {
  study::CellResult c;
  c.key = {"c", i, o, b};
  c.status = study::CellStatus::kDone;
  study::Repetition r;
  r.energy_j = energy_j;
  r.duration_s = 1.0;
  c.reps.push_back(r);
  c.energy_source = "simulated";
  c.estimated = c.simulated = true;
  return c;
}

TEST(BatchComposition, ExpectedMaxOfDrawsWithoutReplacement) {
  const std::vector<double> v = {1, 2, 3, 4};
  // Pairs of {1,2,3,4}: maxima 2,3,4,3,4,4 -> 20/6.
  EXPECT_NEAR(expected_max_of(v, 2), 20.0 / 6.0, 1e-12);
  EXPECT_NEAR(expected_max_of(v, 1), 2.5, 1e-12);  // one draw: the mean
  EXPECT_NEAR(expected_max_of(v, 4), 4.0, 1e-12);  // every value: the maximum
  EXPECT_NEAR(expected_max_of(v, 9), 4.0, 1e-12);  // clamped to n
  EXPECT_EQ(expected_max_of({}, 3), 0.0);
  // Large n stays finite (logarithms) and between the mean and the maximum.
  std::vector<double> big(50000);
  for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<double>(k);
  const double m = expected_max_of(big, 64);
  EXPECT_GT(m, 49000.0);
  EXPECT_LT(m, 49999.0);
  // The order statistic of a uniform: n * k / (k + 1) - 1 + ... about 49230.
  EXPECT_NEAR(m, (49999.0 + 1.0) * 64.0 / 65.0 - 1.0, 2.0);
}

TEST(BatchComposition, ParsesNames) {
  EXPECT_EQ(*parse_batch_composition("padded"), BatchComposition::kPaddedPrompts);
  EXPECT_EQ(*parse_batch_composition("ragged"), BatchComposition::kRaggedPrompts);
  EXPECT_EQ(*parse_batch_composition("none"), BatchComposition::kNone);
  auto bad = parse_batch_composition("max");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'max'"), std::string::npos);
  EXPECT_EQ(batch_composition_name(BatchComposition::kRaggedPrompts), "ragged");
}

TEST(BatchComposition, PartialBatchPricedAtItsOwnSize) {
  const std::vector<study::CellResult> cells = {cell(32, 8, 2, 10), cell(32, 8, 8, 40)};
  const CellGrid g = CellGrid::of_config(cells, "c");
  auto exact = price_batch(g, 2, 32, 8);
  ASSERT_TRUE(exact.ok());
  EXPECT_DOUBLE_EQ(exact->energy_batch_j(), 10.0);
  EXPECT_FALSE(exact->scaled);
  auto between = price_batch(g, 4, 32, 8);  // linear in B between 2 and 8
  ASSERT_TRUE(between.ok());
  EXPECT_NEAR(between->energy_batch_j(), 20.0, 1e-12);
  auto below = price_batch(g, 1, 32, 8);  // below every measured B: k / B of the nearest
  ASSERT_TRUE(below.ok());
  EXPECT_TRUE(below->scaled);
  EXPECT_NEAR(below->energy_batch_j(), 5.0, 1e-12);
  auto outside = price_batch(g, 4, 64, 8);
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, Errc::kNotFound);
}

TEST(BatchComposition, ComposeBinSplitsIntoFullAndPartialBatches) {
  const std::vector<std::uint32_t> in = {128, 64, 96}, out = {8, 4, 6};
  auto c = compose_bin(in, out, 2, BatchComposition::kPaddedPrompts);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->full_batches, 1u);
  EXPECT_EQ(c->partial_size, 1u);
  EXPECT_NEAR(c->full_input, (96.0 + 128 + 128) / 3, 1e-12);
  EXPECT_NEAR(c->full_output, (6.0 + 8 + 8) / 3, 1e-12);
  EXPECT_NEAR(c->partial_input, 96.0, 1e-12);
  auto r = compose_bin(in, out, 2, BatchComposition::kRaggedPrompts);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->full_input, 96.0, 1e-12);  // the mean prompt: prompts are not padded
  EXPECT_NEAR(r->full_output, (6.0 + 8 + 8) / 3, 1e-12);
  EXPECT_FALSE(compose_bin(in, out, 0, BatchComposition::kPaddedPrompts).ok());
  EXPECT_FALSE(compose_bin(in, out, 2, BatchComposition::kNone).ok());
}

TEST(BatchComposition, EstimateOnAHandWorkload) {
  const std::vector<study::CellResult> cells = {cell(32, 8, 1, 6), cell(128, 8, 1, 16), cell(32, 8, 2, 10),
                                                cell(128, 8, 2, 30)};
  const CellGrid g = CellGrid::of_config(cells, "c");
  workload::BinningOptions bo;
  bo.input_edges = {32, 128};
  bo.output_edges = {8};
  const RequestLengths lengths{{64, 128, 96}, {8, 8, 8}};
  auto w = bin_lengths(lengths, bo, "hand", "test");
  ASSERT_TRUE(w.ok());
  EstimateOptions o;
  o.composition = BatchComposition::kPaddedPrompts;
  auto e = estimate_config(g, "c", *w, &lengths, o);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  // B = 2. Paper: 3/2 * 30. Per request: (E(64) + E(96) + E(128)) / 2 at B = 2, E linear in I.
  EXPECT_NEAR(e->paper.value_j, 45.0, 1e-12);
  const auto e2 = [](double i) { return 10.0 + (i - 32.0) / 96.0 * 20.0; };
  const auto e1 = [](double i) { return 6.0 + (i - 32.0) / 96.0 * 10.0; };
  EXPECT_NEAR(e->corrected->value_j, (e2(64) + e2(96) + e2(128)) / 2.0, 1e-9);
  // Composed: one batch of 2 at the expected longest of two prompts (352/3), and the last
  // request alone at B = 1 (its expected prompt is the mean, 96).
  ASSERT_TRUE(e->composed);
  EXPECT_NEAR(e->composed->value_j, e2(352.0 / 3.0) + e1(96.0), 1e-9);
  EXPECT_NEAR(e->composed_fractional_j, 1.5 * e2(352.0 / 3.0), 1e-9);
  EXPECT_EQ(e->composed_batches, 2u);
  EXPECT_EQ(e->composed_partial_batches, 1u);
  EXPECT_EQ(e->composed_partial_scaled, 0u);
  EXPECT_EQ(e->composed_fallback_bins, 0u);
  // Ragged prompts: both batches at the mean prompt.
  o.composition = BatchComposition::kRaggedPrompts;
  auto r = estimate_config(g, "c", *w, &lengths, o);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->composed->value_j, e2(96.0) + e1(96.0), 1e-9);
  // Without a composition: none computed.
  auto n = estimate_config(g, "c", *w, &lengths, EstimateOptions{});
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->composed);
}

}  // namespace
}  // namespace jouleperf::estimate
