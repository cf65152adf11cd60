// Study configs carry the decoding settings (draft_model, draft_tokens, accept_rate,
// beam_width): checked with the file's line, part of the config's key, passed to the
// engine, and recorded in each cell's conditions.
#include "jouleperf/study/decoding_settings.hpp"

#include <gtest/gtest.h>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/sweep.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

constexpr const char* kSpeculative = R"(name: spec
configs:
  - name: greedy
    engine: sim
    model: Llama-3.1-8B
    baseline: true
  - name: spec-g4
    engine: sim
    model: Llama-3.1-8B
    strategy: speculative
    settings: {draft_model: Llama-3.2-1B, draft_tokens: 4, accept_rate: 0.8}
  - name: spec-g8
    engine: sim
    model: Llama-3.1-8B
    strategy: speculative
    settings:
      draft_model: Llama-3.2-1B
      draft_tokens: 8
      accept_rate: 0.8
  - name: beam4
    engine: sim
    model: Llama-3.1-8B
    strategy: beam
    settings: {beam_width: 4}
inputs: [512]
outputs: [128]
batches: [1, 128]
repetitions: 2
warmup: 0
)";

TEST(DecodingSettings, ASpeculativeStudyExpandsAndItsCellsCarryGammaAndAlpha) {
  auto s = parse_study_yaml(kSpeculative, "spec.yaml");
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_EQ(s->configs.size(), 4u);
  const Config& g4 = s->configs[1];
  EXPECT_EQ(g4.setting("draft_tokens"), "4");
  EXPECT_EQ(g4.setting("accept_rate"), "0.8");
  EXPECT_NE(g4.key(), s->configs[2].key()) << "different gamma, different config";
  auto d = decoding_settings(g4);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->draft_model, "Llama-3.2-1B");
  EXPECT_EQ(d->draft_tokens, 4u);
  ASSERT_TRUE(d->accept_rate);
  EXPECT_DOUBLE_EQ(*d->accept_rate, 0.8);
  const auto cells = expand_grid(*s);
  EXPECT_EQ(cells.size(), 4u * 2);

  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  ManualClock clock;
  SweepEnv env;
  env.clock = &clock;
  auto sum = run_sweep(*s, cells, *store, env, nullptr);
  ASSERT_TRUE(sum) << sum.error().to_string();
  EXPECT_EQ(sum->measured, 8u);

  auto cell = [&](const char* config, std::uint64_t b) {
    auto c = store->cell(CellKey{config, 512, 128, b});
    EXPECT_TRUE(c && c->has_value());
    return c && c->has_value() ? **c : CellResult{};
  };
  for (const char* name : {"spec-g4", "spec-g8"}) {
    const CellResult c = cell(name, 1);
    EXPECT_TRUE(c.simulated);
    EXPECT_EQ(c.conditions["strategy"], "speculative");
    EXPECT_EQ(c.conditions["draft_model"], "Llama-3.2-1B");
    EXPECT_EQ(c.conditions["draft_tokens"], name == std::string("spec-g4") ? 4 : 8);
    EXPECT_DOUBLE_EQ(c.conditions["accept_rate"].get<double>(), 0.8);
    EXPECT_DOUBLE_EQ(c.conditions["draft_acceptance"].get<double>(), 0.8);
    EXPECT_GT(c.conditions["draft_forwards"].get<double>(), 0.0);
    EXPECT_NE(c.conditions["simulated_deployment"].get<std::string>().find("speculative"), std::string::npos);
  }
  EXPECT_EQ(cell("beam4", 1).conditions["beam_width"], 4);
  EXPECT_FALSE(cell("greedy", 1).conditions.contains("draft_tokens"));

  // The paper's effect through the whole sweep: faster at B = 1, more energy at B = 128.
  EXPECT_LT(cell("spec-g4", 1).duration_s().mean, cell("greedy", 1).duration_s().mean);
  EXPECT_GT(cell("spec-g4", 128).energy_per_batch_j().mean, cell("greedy", 128).energy_per_batch_j().mean);
  EXPECT_GT(cell("beam4", 1).energy_per_batch_j().mean, cell("greedy", 1).energy_per_batch_j().mean);
}

std::string with_settings(const std::string& strategy, const std::string& settings) {
  return "configs:\n"
         "  - name: x\n"
         "    engine: sim\n"
         "    strategy: " +
         strategy +
         "\n"
         "    settings:\n" +
         settings + "inputs: [8]\noutputs: [8]\nbatches: [1]\n";
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& what) {
  auto s = parse_study_yaml(yaml, "bad.yaml");
  ASSERT_FALSE(s) << yaml;
  EXPECT_EQ(s.error().code, Errc::kParse);
  EXPECT_NE(s.error().message.find(where), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(what), std::string::npos) << s.error().message;
}

TEST(DecodingSettings, BadValuesNameTheFileLineAndField) {
  const std::string draft = "      draft_model: Llama-3.2-1B\n";
  expect_error(with_settings("speculative", draft + "      accept_rate: 1.5\n"),
               "bad.yaml:7: configs[0].settings.accept_rate", "[0, 1]");
  expect_error(with_settings("speculative", draft + "      accept_rate: 0.5\n      draft_tokens: 0\n"),
               "bad.yaml:8: configs[0].settings.draft_tokens", "whole number from 1");
  expect_error(with_settings("beam", "      beam_width: wide\n"), "bad.yaml:6: configs[0].settings.beam_width",
               "whole number");
  // Against the strategy and engine.
  expect_error(with_settings("greedy", "      draft_tokens: 4\n"), "bad.yaml:6: configs[0]",
               "applies to strategy speculative only");
  expect_error(with_settings("speculative", "      beam_width: 4\n"), "bad.yaml:6: configs[0]",
               "applies to strategy beam only");
  expect_error(with_settings("speculative", "      accept_rate: 0.5\n"), "bad.yaml:6: configs[0]",
               "needs the setting draft_model");
  expect_error(with_settings("speculative", draft), "bad.yaml:6: configs[0]", "needs the setting accept_rate");
}

TEST(DecodingSettings, ValidateStudyChecksConfigsBuiltFromFlags) {
  Study s;
  Config c;
  c.name = "flags";
  c.engine = "sim";
  c.strategy = "speculative";
  c.settings = {{"draft_model", "Llama-3.2-1B"}, {"accept_rate", "0.8"}, {"draft_tokens", "0"}};
  s.configs.push_back(c);
  s.input_tokens = {8};
  s.output_tokens = {8};
  s.batch_sizes = {1};
  auto st = validate_study(s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  EXPECT_NE(st.error().message.find("config \"flags\": setting draft_tokens"), std::string::npos) << st.error().message;
  s.configs[0].settings[2].second = "2";
  EXPECT_TRUE(validate_study(s)) << validate_study(s).error().to_string();
}

TEST(DecodingSettings, TheEngineFactoryPassesTheDraftToTheSimEngine) {
  Config c;
  c.name = "x";
  c.engine = "sim";
  c.strategy = "speculative";
  c.settings = {{"draft_model", "OLMo-1B"}, {"accept_rate", "0.8"}};
  auto e = open_engine(c);
  ASSERT_FALSE(e) << "OLMo-1B does not share Llama-3.1-8B's vocabulary";
  EXPECT_NE(e.error().message.find("share a tokenizer"), std::string::npos) << e.error().message;
  c.settings[0].second = "Llama-3.2-1B";
  e = open_engine(c);
  ASSERT_TRUE(e) << e.error().to_string();
  bool found = false;
  for (const auto& [k, v] : (*e)->info().settings) found = found || (k == "draft_model" && v == "Llama-3.2-1B");
  EXPECT_TRUE(found);
  c.settings.emplace_back("draft_tokens", "17");
  e = open_engine(c);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("at most 16"), std::string::npos) << e.error().message;
  c.settings.pop_back();
  c.engine = "openai";
  c.settings.emplace_back("url", "http://127.0.0.1:1");
  e = open_engine(c);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("draft_model"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace jouleperf::study
