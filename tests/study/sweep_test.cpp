#include "jouleperf/study/sweep.hpp"

#include <gtest/gtest.h>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/engine/sim_engine.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

Study sim_study() {
  Study s;
  Config c;
  c.name = "a100-vllm";
  c.engine = "sim";
  c.model = "Llama-3.1-8B";
  c.settings = {{"hardware", "a100-sxm"}, {"stack", "vllm"}};
  s.configs.push_back(c);
  s.input_tokens = {128, 512};
  s.output_tokens = {32};
  s.batch_sizes = {1, 8, 4096};  // 4096 does not fit an A100's KV cache
  s.repetitions = 2;
  s.warmup.fixed = 1;
  s.idle_gap_s = 5.0;
  s.order = RunOrder::kCellMajor;  // the tests below count cells stored in grid order
  EXPECT_TRUE(validate_study(s));
  return s;
}

struct Recorder final : SweepProgress {
  int starts = 0, cells = 0;
  std::vector<SweepState> states;
  void on_start(const SweepState&) override { ++starts; }
  void on_cell_stored(const CellResult&, const SweepState& s) override {
    ++cells;
    states.push_back(s);
  }
};

TEST(Sweep, RunsSimulatedCellsStoresThemAndSkipsWhatDoesNotFit) {
  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  const Study s = sim_study();
  ManualClock clock;
  SweepEnv env;
  env.clock = &clock;
  env.conditions = {{"hostname", "test"}};
  Recorder rec;
  auto sum = run_sweep(s, expand_grid(s), *store, env, &rec);
  ASSERT_TRUE(sum) << sum.error().to_string();
  EXPECT_EQ(sum->total, 6u);
  EXPECT_EQ(sum->measured, 4u);
  EXPECT_EQ(sum->skipped, 2u);
  EXPECT_EQ(rec.cells, 6);
  EXPECT_EQ(rec.states.back().done, 6u);
  ASSERT_TRUE(rec.states.back().eta_s.has_value());
  EXPECT_DOUBLE_EQ(*rec.states.back().eta_s, 0.0);
  // The idle gap is waited on the clock between cells (5 gaps), nothing else takes time.
  EXPECT_DOUBLE_EQ(clock.now().value(), 25.0);

  auto cells = store->cells();
  ASSERT_TRUE(cells);
  ASSERT_EQ(cells->size(), 6u);
  for (const auto& c : *cells) {
    if (c.key.batch == 4096) {
      EXPECT_EQ(c.status, CellStatus::kSkipped);
      EXPECT_NE(c.reason.find("does not fit"), std::string::npos) << c.reason;
      EXPECT_TRUE(c.reps.empty());
      continue;
    }
    EXPECT_EQ(c.status, CellStatus::kDone);
    ASSERT_EQ(c.reps.size(), 2u);
    EXPECT_EQ(c.warmup, 1u);
    EXPECT_EQ(c.energy_source, "simulated");
    EXPECT_TRUE(c.simulated);
    EXPECT_TRUE(c.estimated);
    EXPECT_GT(c.reps[0].energy_j, 0.0);
    ASSERT_TRUE(c.reps[0].prefill_energy_j && c.reps[0].decode_energy_j);
    EXPECT_NEAR(*c.reps[0].prefill_energy_j + *c.reps[0].decode_energy_j, c.reps[0].energy_j, 1e-6);
    EXPECT_GT(c.output_tokens_per_s(), 0.0);
    EXPECT_EQ(c.conditions["engine"], "sim");
    EXPECT_EQ(c.conditions["hostname"], "test");
    EXPECT_EQ(c.config_key, s.configs[0].key());
  }
  // Per-request energy falls with batch size (the paper's batching effect).
  auto b1 = store->cell(CellKey{"a100-vllm", 512, 32, 1});
  auto b8 = store->cell(CellKey{"a100-vllm", 512, 32, 8});
  ASSERT_TRUE(b1 && b8 && b1->has_value() && b8->has_value());
  EXPECT_LT((*b8)->energy_per_request_j().mean, (*b1)->energy_per_request_j().mean);

  // Run again: everything is resumed, nothing runs.
  Recorder again;
  auto sum2 = run_sweep(s, expand_grid(s), *store, env, &again);
  ASSERT_TRUE(sum2);
  EXPECT_EQ(sum2->resumed, 6u);
  EXPECT_EQ(sum2->measured + sum2->skipped, 0u);
  EXPECT_EQ(again.cells, 0);
}

TEST(Sweep, RefusesAStoreMadeUnderAnotherConfig) {
  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  Study s = sim_study();
  ManualClock clock;
  SweepEnv env;
  env.clock = &clock;
  ASSERT_TRUE(run_sweep(s, select_shard(expand_grid(s), Shard{0, 3}), *store, env));
  s.configs[0].settings = {{"hardware", "h100-sxm"}, {"stack", "vllm"}};
  auto r = run_sweep(s, expand_grid(s), *store, env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

// Delegates to a sim engine but fails the cell with batch 8 with a chosen error.
class FailingEngine final : public Engine {
 public:
  FailingEngine(std::unique_ptr<Engine> inner, Errc code) : inner_(std::move(inner)), code_(code) {}
  const EngineInfo& info() const override { return inner_->info(); }
  Result<BatchResult> run_batch(const BatchRequest& r, const Clock& c, Meter* m) override {
    if (r.batch == 8) return make_error(code_, "injected failure");
    return inner_->run_batch(r, c, m);
  }

 private:
  std::unique_ptr<Engine> inner_;
  Errc code_;
};

TEST(Sweep, AnEngineFailureThatIsNotAboutTheCellStopsTheSweepAndKeepsStoredCells) {
  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  const Study s = sim_study();
  ManualClock clock;
  SweepEnv env;
  env.clock = &clock;
  env.open_engine = [](const Config& c) -> Result<std::unique_ptr<Engine>> {
    auto e = open_engine(c);
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::make_unique<FailingEngine>(std::move(*e), Errc::kIo));
  };
  auto r = run_sweep(s, expand_grid(s), *store, env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_NE(r.error().message.find("I=128 O=32 B=8"), std::string::npos) << r.error().message;
  EXPECT_EQ(store->cells()->size(), 1u);  // B=1 was stored before the failure

  // kUnsupported / kInvalidArgument from the engine: the cell is skipped, the sweep goes on.
  env.open_engine = [](const Config& c) -> Result<std::unique_ptr<Engine>> {
    auto e = open_engine(c);
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::make_unique<FailingEngine>(std::move(*e), Errc::kInvalidArgument));
  };
  auto r2 = run_sweep(s, expand_grid(s), *store, env);
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_EQ(r2->resumed, 1u);
  EXPECT_EQ(r2->skipped, 4u);  // both B=8 and both B=4096
  EXPECT_EQ(store->cells()->size(), 6u);
}

TEST(Sweep, EngineFactoryRejectsBadSettings) {
  Config c;
  c.name = "x";
  c.engine = "sim";
  c.settings = {{"hardwar", "h100-sxm"}};
  auto e = open_engine(c);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("hardwar"), std::string::npos);
  c.engine = "openai";
  c.settings.clear();
  auto o = open_engine(c);
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("url"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::study
