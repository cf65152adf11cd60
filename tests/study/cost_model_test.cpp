// The per-token cost models of energy per request: from a model's FLOPs, and fitted from
// measured cells (prefill and decode energies per repetition).
#include "jouleperf/study/cost_model.hpp"

#include <gtest/gtest.h>

#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/flops.hpp"

namespace jouleperf::study {
namespace {

// A done cell whose phases cost exactly what `truth` says, per request, times the batch.
CellResult cell(std::uint64_t in, std::uint64_t out, std::uint64_t batch, const TokenCostModel& truth) {
  CellResult c;
  c.key = {"c", in, out, batch};
  Repetition r;
  r.prefill_energy_j = static_cast<double>(batch) * truth.prefill_cost(in);
  double dec = 0;
  for (std::uint64_t k = 1; k < out; ++k) dec += truth.decode_cost(in + k);
  r.decode_energy_j = static_cast<double>(batch) * dec;
  r.energy_j = *r.prefill_energy_j + *r.decode_energy_j;
  c.reps = {r, r};
  return c;
}

TEST(CostModel, TheFitRecoversTheCostsTheCellsWereMadeWith) {
  TokenCostModel truth{0.02, 1e-5, 0.3, 2e-4, "truth"};
  std::vector<CellResult> cells;
  for (std::uint64_t in : {32, 256, 1024})
    for (std::uint64_t out : {8, 64, 256})
      for (std::uint64_t b : {1, 8}) cells.push_back(cell(in, out, b, truth));
  cells.push_back(cell(64, 1, 4, truth));  // O = 1: no decode phase, not used
  auto m = fit_cost_model(cells, "s.db");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_NEAR(m->prefill_token, truth.prefill_token, 1e-9);
  EXPECT_NEAR(m->prefill_context, truth.prefill_context, 1e-12);
  EXPECT_NEAR(m->decode_token, truth.decode_token, 1e-9);
  EXPECT_NEAR(m->decode_context, truth.decode_context, 1e-12);
  EXPECT_NE(m->basis.find("fitted from 18 cells of s.db"), std::string::npos) << m->basis;
}

TEST(CostModel, ANegativeContextTermIsDroppedAndTheRestRefitted) {
  // Prefill cost per token falling with length (batching gains) would fit a negative
  // context term: the fit keeps costs >= 0 instead.
  std::vector<CellResult> cells;
  for (std::uint64_t in : {32, 256, 1024}) {
    TokenCostModel t{0.05 / (1.0 + in / 512.0), 0, 0.3, 0, ""};
    cells.push_back(cell(in, 16, 1, t));
  }
  auto m = fit_cost_model(cells, "s.db");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_GE(m->prefill_context, 0.0);
  EXPECT_GT(m->prefill_token, 0.0);
  EXPECT_TRUE(validate(*m));
}

TEST(CostModel, CellsOfSeveralConfigurationsAreRefusedNamingThem) {
  std::vector<CellResult> cells{cell(64, 16, 4, TokenCostModel{}), cell(128, 16, 4, TokenCostModel{})};
  cells[1].key.config = "other";
  auto m = fit_cost_model(cells, "s.db");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kInvalidArgument);
  EXPECT_NE(m.error().message.find("(c, other)"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("STORE.db:CONFIG"), std::string::npos);
}

TEST(CostModel, NoCellWithBothPhasesIsAnError) {
  std::vector<CellResult> cells{cell(64, 1, 4, TokenCostModel{})};
  auto m = fit_cost_model(cells, "s.db");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kInvalidArgument);
  EXPECT_NE(m.error().message.find("s.db"), std::string::npos);
}

TEST(CostModel, FlopsPerTokenAddUpToTheRequestsFlops) {
  const ModelInfo info = info_from_arch(*find_builtin_arch("Llama-3.1-8B"));
  const TokenCostModel m = flops_cost_model(info);
  ASSERT_TRUE(validate(m));
  // A request's FLOPs, prefill by its prompt tokens' costs and decode by its generated
  // tokens' (the prompt's one row of logits aside).
  const RequestFlops f = request_flops(info, 500, 100, LogitsMode::kLast);
  EXPECT_NEAR(m.prefill_cost(500), f.prefill.matmul + f.prefill.attention, 1e-9 * f.prefill.total());
  double dec = 0;
  for (std::uint64_t k = 1; k < 100; ++k) dec += m.decode_cost(500 + k);
  EXPECT_NEAR(dec, f.decode.total(), 1e-6 * f.decode.total());
}

TEST(CostModel, TheChoiceNamesWhatItNeeds) {
  EXPECT_EQ(choose_cost_model("", std::nullopt)->basis, TokenCostModel{}.basis);
  EXPECT_EQ(choose_cost_model("equal", std::nullopt)->basis, TokenCostModel{}.basis);
  auto f = choose_cost_model("flops", std::nullopt);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Errc::kInvalidArgument);
  const ModelInfo info = info_from_arch(*find_builtin_arch("Llama-3.1-8B"));
  EXPECT_NE(choose_cost_model("", info)->basis.find("FLOPs"), std::string::npos);
  auto s = choose_cost_model("/nonexistent/dir/s.db", std::nullopt);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not equal, flops or a results store"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::study
