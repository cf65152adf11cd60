// A sweep config with strategy speculative and setting draft_model runs the llamacpp
// engine's real speculative decoding: with the target itself as the draft and no forced
// rate, every draft token is accepted, and the cell records that.
#include <gtest/gtest.h>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/sweep.hpp"
#include "llama/tiny_model.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

TEST(SweepSpeculative, DraftEqualToTargetAcceptsEveryToken) {
  const std::string model = jouleperf::testing::tiny_model();
  Study s;
  Config c;
  c.name = "spec-self";
  c.engine = "llamacpp";
  c.model = model;
  c.threads = 1;
  c.strategy = "speculative";
  c.settings = {{"draft_model", model}, {"draft_tokens", "3"}};
  s.configs.push_back(c);
  s.input_tokens = {8};
  s.output_tokens = {8};
  s.batch_sizes = {1};
  s.repetitions = 1;
  s.warmup.fixed = 0;
  ASSERT_TRUE(validate_study(s));

  jouleperf::testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  SteadyClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  SensorInfo info{"fake", "fake:0", "constant 50 W", {}};
  sensors.push_back(std::make_unique<FakePowerSensor>(info, PowerProfile().point(Seconds(0), Watts(50)), clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  SweepEnv env;
  env.clock = &clock;
  env.sampler = &sampler;
  auto sum = run_sweep(s, expand_grid(s), *store, env, nullptr);
  sampler.stop();
  ASSERT_TRUE(sum) << sum.error().to_string();
  ASSERT_EQ(sum->measured, 1u);

  auto cell = store->cell(CellKey{"spec-self", 8, 8, 1});
  ASSERT_TRUE(cell && cell->has_value());
  const CellResult& r = **cell;
  EXPECT_EQ(r.status, CellStatus::kDone);
  EXPECT_EQ(r.conditions["strategy"], "speculative");
  EXPECT_EQ(r.conditions["draft_model"], model);
  EXPECT_EQ(r.conditions["draft_tokens"], 3);
  EXPECT_TRUE(r.conditions["accept_rate"].is_null()) << "real verification, no forced rate";
  ASSERT_TRUE(r.conditions["draft_acceptance"].is_number()) << r.conditions.dump();
  EXPECT_DOUBLE_EQ(r.conditions["draft_acceptance"].get<double>(), 1.0);
  EXPECT_GT(r.conditions["draft_forwards"].get<double>(), 0.0);
  EXPECT_EQ(r.conditions["engine_settings"]["draft_model_path"], model);
}

}  // namespace
}  // namespace jouleperf::study
