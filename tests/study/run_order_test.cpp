// The sweep's run order against a machine that drifts: a fake sensor whose power rises
// linearly in time. Two identical configurations measured cell-major differ by the drift;
// rep-major (serpentine rounds) spreads it so they agree. Also: the order is recorded,
// resume never repeats a stored repetition, --until-ci adds repetitions until the interval
// is narrow or the cap is reached, and savings get a paired interval.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/sweep.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

// Every batch takes `seconds_per_token` per generated token on the manual clock (half
// prefill, half decode at O = 2), whatever the configuration: identical work.
class ClockEngine final : public Engine {
 public:
  ClockEngine(ManualClock& clock, std::string name, double batch_s) : clock_(clock), batch_s_(batch_s) {
    info_.engine = "fake";
    info_.model = std::move(name);
  }
  const EngineInfo& info() const override { return info_; }
  Result<BatchResult> run_batch(const BatchRequest& r, const Clock&, Meter* meter) override {
    ++batches;
    BatchResult out;
    out.start_s = clock_.now().value();
    if (meter) {
      if (auto st = meter->start("prefill"); !st) return st.error();
    }
    clock_.advance(Seconds(batch_s_ / 2));
    out.prefill_end_s = clock_.now().value();
    if (meter) {
      if (auto st = meter->mark("decode"); !st) return st.error();
    }
    clock_.advance(Seconds(batch_s_ / 2));
    out.end_s = clock_.now().value();
    out.input_tokens = r.batch * r.input_tokens;
    out.output_tokens = r.batch * r.output_tokens;
    return out;
  }
  int batches = 0;

 private:
  ManualClock& clock_;
  EngineInfo info_;
  double batch_s_;
};

struct Rig {
  ManualClock clock;
  std::unique_ptr<Sampler> sampler;
  SweepEnv env;
  int engines_opened = 0;
  // Power rises by `slope_w_per_s` every second from 100 W; `wobble_w` adds a square wave of
  // that amplitude with a 1 s period (repetition-to-repetition noise).
  explicit Rig(double slope_w_per_s, double wobble_w = 0.0) {
    PowerProfile p;
    if (wobble_w == 0.0) {
      p.point(Seconds(0), Watts(100)).point(Seconds(100000), Watts(100 + slope_w_per_s * 100000));
    } else {
      for (int k = 0; k < 20000; ++k) {
        const double base = 100 + slope_w_per_s * k;
        const double w = k % 2 == 0 ? wobble_w : -wobble_w;
        p.point(Seconds(k), Watts(base + w)).point(Seconds(k + 1), Watts(base + w + slope_w_per_s));
        p.step(Seconds(k + 1), Watts(base + slope_w_per_s));
      }
    }
    SensorInfo info{"fake", "fake:0", "scripted drift", {}};
    info.caps.power = true;
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(std::make_unique<FakePowerSensor>(info, p, clock));
    sampler = std::make_unique<Sampler>(std::move(sensors), SamplerConfig{}, clock);
    EXPECT_TRUE(sampler->start(false));
    env.clock = &clock;
    env.sampler = sampler.get();
    env.open_engine = [this](const Config& c) -> Result<std::unique_ptr<Engine>> {
      ++engines_opened;
      return std::unique_ptr<Engine>(std::make_unique<ClockEngine>(clock, c.name, 1.0));
    };
  }
};

Study twin_study(RunOrder order, std::uint32_t reps) {
  Study s;
  for (const char* name : {"a", "b"}) {
    Config c;
    c.name = name;
    c.engine = "llamacpp";  // measured (not simulated): the engine factory is the fake above
    c.model = "same.gguf";
    s.configs.push_back(c);
  }
  s.configs[0].baseline = true;
  s.input_tokens = {8};
  s.output_tokens = {2};
  s.batch_sizes = {1};
  s.repetitions = reps;
  s.warmup.fixed = 0;
  s.order = order;
  EXPECT_TRUE(validate_study(s));
  return s;
}

double mean_energy(Store& store, const std::string& config) {
  auto c = store.cell(CellKey{config, 8, 2, 1});
  EXPECT_TRUE(c && c->has_value());
  return (*c)->energy_per_batch_j().mean;
}

TEST(RunOrder, CellMajorShowsTheDriftAsADifferenceBetweenIdenticalConfigsRepMajorDoesNot) {
  testing::TempDir dir;
  // Cell-major: a's four repetitions, then b's: b reads 4 s of drift higher.
  Rig cell(10.0);
  auto s1 = Store::open((dir.path() / "cell.db").string());
  ASSERT_TRUE(s1);
  ASSERT_TRUE(
      run_sweep(twin_study(RunOrder::kCellMajor, 4), expand_grid(twin_study(RunOrder::kCellMajor, 4)), *s1, cell.env));
  const double cell_gap = mean_energy(*s1, "b") - mean_energy(*s1, "a");
  EXPECT_NEAR(cell_gap, 40.0, 1e-6);  // 4 batches x 1 s x 10 W/s

  // Rep-major: a b | b a | a b | b a: the linear drift cancels.
  Rig rep(10.0);
  auto s2 = Store::open((dir.path() / "rep.db").string());
  ASSERT_TRUE(s2);
  const Study st = twin_study(RunOrder::kRepMajor, 4);
  ASSERT_TRUE(run_sweep(st, expand_grid(st), *s2, rep.env));
  EXPECT_NEAR(mean_energy(*s2, "b") - mean_energy(*s2, "a"), 0.0, 1e-6);

  // The order is in the store: rounds 0..3, starting times increasing within a cell.
  auto a = s2->cell(CellKey{"a", 8, 2, 1});
  ASSERT_TRUE(a && a->has_value());
  EXPECT_EQ((*a)->conditions["order"], "rep-major");
  ASSERT_EQ((*a)->reps.size(), 4u);
  for (std::uint32_t k = 0; k < 4; ++k) EXPECT_EQ((*a)->reps[k].round, k);
  // Both engines stay open: two opened for eight batches.
  EXPECT_EQ(rep.engines_opened, 2);
}

TEST(RunOrder, ResumeNeverRepeatsAStoredRepetition) {
  testing::TempDir dir;
  Rig rig(0.0);
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  const Study s = twin_study(RunOrder::kRepMajor, 3);
  // The engine of b breaks in its second batch. Round 0 runs a then b, round 1 runs b
  // first (serpentine): it stops with one repetition of each stored.
  int b_batches = 0;
  auto good = rig.env.open_engine;
  rig.env.open_engine = [&](const Config& c) -> Result<std::unique_ptr<Engine>> {
    struct Breaks final : Engine {
      std::unique_ptr<Engine> inner;
      int* count;
      const EngineInfo& info() const override { return inner->info(); }
      Result<BatchResult> run_batch(const BatchRequest& r, const Clock& c, Meter* m) override {
        if (++*count == 2) return make_error(Errc::kIo, "device lost");
        return inner->run_batch(r, c, m);
      }
    };
    auto e = good(c);
    if (!e || c.name != "b") return e;
    auto w = std::make_unique<Breaks>();
    w->inner = std::move(*e);
    w->count = &b_batches;
    return std::unique_ptr<Engine>(std::move(w));
  };
  auto first = run_sweep(s, expand_grid(s), *store, rig.env);
  ASSERT_FALSE(first);
  EXPECT_EQ(store->cells()->size(), 0u);
  auto pa = store->progress(CellKey{"a", 8, 2, 1});
  auto pb = store->progress(CellKey{"b", 8, 2, 1});
  ASSERT_TRUE(pa && pa->has_value() && pb && pb->has_value());
  EXPECT_EQ((*pa)->reps.size(), 1u);
  EXPECT_EQ((*pb)->reps.size(), 1u);

  // Resume with a working engine: only the missing repetitions run (two of each).
  int batches = 0;
  rig.env.open_engine = [&](const Config& c) -> Result<std::unique_ptr<Engine>> {
    auto e = good(c);
    if (!e) return e;
    struct Count final : Engine {
      std::unique_ptr<Engine> inner;
      int* n;
      const EngineInfo& info() const override { return inner->info(); }
      Result<BatchResult> run_batch(const BatchRequest& r, const Clock& c, Meter* m) override {
        ++*n;
        return inner->run_batch(r, c, m);
      }
    };
    auto w = std::make_unique<Count>();
    w->inner = std::move(*e);
    w->n = &batches;
    return std::unique_ptr<Engine>(std::move(w));
  };
  auto second = run_sweep(s, expand_grid(s), *store, rig.env);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(batches, 4);
  EXPECT_EQ(second->measured, 2u);
  auto a = store->cell(CellKey{"a", 8, 2, 1});
  ASSERT_TRUE(a && a->has_value());
  ASSERT_EQ((*a)->reps.size(), 3u);
  for (std::uint32_t k = 0; k < 3; ++k) EXPECT_EQ((*a)->reps[k].round, k);
  auto gone = store->progress(CellKey{"a", 8, 2, 1});
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());  // the finished cell's progress row is removed with it
}

TEST(RunOrder, UntilCiAddsRepetitionsUntilTheIntervalIsNarrowOrTheCapIsReached) {
  testing::TempDir dir;
  // Power alternates 100 +- 5 W from one second to the next: repetitions differ by 10 %,
  // so 3 repetitions give a wide interval and more narrow it.
  Rig rig(0.0, 5.0);
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  Study s = twin_study(RunOrder::kRepMajor, 3);
  s.configs.pop_back();
  s.configs[0].baseline = false;
  s.until_ci_pct = 2.0;
  s.max_reps = 40;
  ASSERT_TRUE(validate_study(s));
  auto sum = run_sweep(s, expand_grid(s), *store, rig.env);
  ASSERT_TRUE(sum) << sum.error().to_string();
  auto a = store->cell(CellKey{"a", 8, 2, 1});
  ASSERT_TRUE(a && a->has_value());
  const auto& c = **a;
  EXPECT_GT(c.reps.size(), 3u);
  EXPECT_LT(c.reps.size(), 40u);
  EXPECT_TRUE(c.conditions["until_ci"]["met"].get<bool>());
  EXPECT_LE(c.conditions["ci95_half_width_pct"].get<double>(), 2.0);
  EXPECT_TRUE(sum->ci_not_met.empty());

  // A cap too low to reach 0.1 %: stops at max_reps and says so.
  Rig rig2(0.0, 5.0);
  auto store2 = Store::open((dir.path() / "s2.db").string());
  ASSERT_TRUE(store2);
  s.until_ci_pct = 0.1;
  s.max_reps = 5;
  auto sum2 = run_sweep(s, expand_grid(s), *store2, rig2.env);
  ASSERT_TRUE(sum2);
  auto a2 = store2->cell(CellKey{"a", 8, 2, 1});
  ASSERT_TRUE(a2 && a2->has_value());
  EXPECT_EQ((*a2)->reps.size(), 5u);
  EXPECT_FALSE((*a2)->conditions["until_ci"]["met"].get<bool>());
  ASSERT_EQ(sum2->ci_not_met.size(), 1u);
  EXPECT_EQ(sum2->ci_not_met[0].config, "a");
}

TEST(RunOrder, SavingsCarryAPairedIntervalOnlyForRepMajorCells) {
  testing::TempDir dir;
  // A drift that would make an unpaired interval wide; b does the same work as a.
  Rig rig(10.0, 2.0);
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  const Study s = twin_study(RunOrder::kRepMajor, 4);
  ASSERT_TRUE(run_sweep(s, expand_grid(s), *store, rig.env));
  auto cells = store->cells();
  ASSERT_TRUE(cells);
  estimate::WorkloadBins bins;
  bins.name = "one-bin";
  bins.requests = 10;
  bins.input_edges = {8};
  bins.output_edges = {2};
  bins.bins.push_back(estimate::EstimateBin{8, 2, 0, 0, 10});
  std::vector<estimate::ConfigInputs> configs;
  for (const auto& c : s.configs) configs.push_back(estimate::ConfigInputs{c, std::nullopt, std::nullopt, ""});
  auto w = estimate::estimate_workload(bins, nullptr, configs, *cells, estimate::EstimateOptions{},
                                       estimate::CarbonOptions{});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->configs.size(), 2u);
  const auto& b = w->configs[1];
  ASSERT_TRUE(b.saving_pct && b.saving_lo_pct && b.saving_hi_pct) << b.saving_interval_note;
  EXPECT_EQ(b.saving_pairs, 4u);
  EXPECT_LE(*b.saving_lo_pct, *b.saving_pct);
  EXPECT_GE(*b.saving_hi_pct, *b.saving_pct);
  EXPECT_LT(*b.saving_lo_pct, 0.0 + 5.0);
  EXPECT_GT(*b.saving_hi_pct, 0.0 - 5.0);

  // The same cells marked cell-major: no paired interval, and the note says why.
  for (auto& c : *cells) c.conditions["order"] = "cell-major";
  auto w2 = estimate::estimate_workload(bins, nullptr, configs, *cells, estimate::EstimateOptions{},
                                        estimate::CarbonOptions{});
  ASSERT_TRUE(w2);
  EXPECT_FALSE(w2->configs[1].saving_lo_pct);
  EXPECT_NE(w2->configs[1].saving_interval_note.find("rep-major"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::study
