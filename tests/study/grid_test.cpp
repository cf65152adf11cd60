#include "jouleperf/study/grid.hpp"

#include <gtest/gtest.h>

#include <set>

#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

constexpr const char* kGood = R"(name: paper
configs:
  - name: baseline
    engine: sim
    model: Llama-3.1-8B
    baseline: true
    settings:
      stack: hf-eager
      hardware: a100-sxm
  - name: vllm
    engine: sim
    model: Llama-3.1-8B
    weight_type: bf16
    strategy: sample
    threads: 4
    settings: {hardware: a100-sxm, stack: vllm}
inputs: [128, 512]
outputs: "32,128"
batches: 1..16
warmup: {max: 10, budget_tokens: 4096}
repetitions: 5
idle_gap_s: 2.5
seed: 7
)";

TEST(StudyFile, ParsesAFullStudy) {
  auto s = parse_study_yaml(kGood, "good.yaml");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->name, "paper");
  ASSERT_EQ(s->configs.size(), 2u);
  EXPECT_TRUE(s->configs[0].baseline);
  EXPECT_EQ(s->configs[0].settings.front().first, "hardware") << "settings are sorted";
  EXPECT_EQ(s->configs[1].strategy, "sample");
  EXPECT_EQ(s->configs[1].threads, 4);
  EXPECT_EQ(s->configs[1].setting("stack"), "vllm");
  EXPECT_EQ(s->input_tokens, (std::vector<std::uint64_t>{128, 512}));
  EXPECT_EQ(s->output_tokens, (std::vector<std::uint64_t>{32, 128}));
  EXPECT_EQ(s->batch_sizes, (std::vector<std::uint64_t>{1, 2, 4, 8, 16}));
  EXPECT_EQ(s->warmup.max_batches, 10u);
  EXPECT_EQ(s->warmup.budget_tokens, 4096u);
  EXPECT_FALSE(s->warmup.fixed.has_value());
  EXPECT_EQ(s->repetitions, 5u);
  EXPECT_DOUBLE_EQ(s->idle_gap_s, 2.5);
  EXPECT_EQ(s->seed, 7u);
  EXPECT_EQ(expand_grid(*s).size(), 2u * 2 * 2 * 5);
}

TEST(StudyFile, LoadsFromAFileAndNamesIt) {
  testing::TempDir dir;
  const auto p = dir.write("s.yaml", kGood);
  auto s = load_study_file(p.string());
  ASSERT_TRUE(s) << s.error().to_string();
  auto missing = load_study_file((dir.path() / "none.yaml").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

void expect_error(const std::string& text, const std::string& needle, Errc code = Errc::kParse) {
  auto s = parse_study_yaml(text, "bad.yaml");
  ASSERT_FALSE(s) << "accepted:\n" << text;
  EXPECT_EQ(s.error().code, code) << s.error().to_string();
  EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message << "\nexpected: " << needle;
}

TEST(StudyFile, ErrorsNameFileLineAndField) {
  const std::string head = "configs:\n  - name: a\n    engine: sim\n";
  const std::string axes = "inputs: [128]\noutputs: [32]\nbatches: [1]\n";
  expect_error(head + "    colour: blue\n" + axes, "bad.yaml:4: configs[0].colour: unknown key");
  expect_error(head + axes + "repetitions: many\n", "bad.yaml:7: repetitions: \"many\" is not a whole number");
  expect_error(head + axes + "repetitions: 0\n", "bad.yaml:7: repetitions");
  expect_error(head + "inputs: [128, zero]\noutputs: [32]\nbatches: [1]\n", "bad.yaml:4: inputs");
  expect_error(head + "inputs: [128]\noutputs: [32]\n", "batches: missing");
  expect_error(head + "  - name: a\n    engine: sim\n" + axes, "bad.yaml:4: configs[1].name: \"a\" is used twice");
  expect_error(head + axes + "idle_gap_s: -1\n", "bad.yaml:7: idle_gap_s: must be >= 0");
  expect_error(head + axes + "warmup: {maximum: 3}\n", "bad.yaml:7: warmup.maximum: unknown key");
  expect_error(head + axes + "extra: 1\n", "bad.yaml:7: extra: unknown key");
  expect_error("configs: [\n", "bad.yaml:");
  expect_error("configs:\n  - name: a\n    engine: tensorflow\n" + axes, "engine \"tensorflow\"",
               Errc::kInvalidArgument);
  expect_error("configs:\n  - name: a\n    engine: llamacpp\n" + axes, "needs a model", Errc::kInvalidArgument);
  expect_error("configs:\n  - name: a\n    strategy: telepathy\n    model: m.gguf\n" + axes, "strategy",
               Errc::kInvalidArgument);
  // Sections other commands read are accepted when named.
  EXPECT_TRUE(parse_study_yaml(head + axes + "workload: {trace: x.csv}\n", "ok.yaml", {"workload"}));
}

TEST(StudyFile, FixedWarmup) {
  auto s = parse_study_yaml("configs: [{name: a, engine: sim}]\ninputs: [1]\noutputs: [1]\nbatches: [1]\nwarmup: 0\n",
                            "w.yaml");
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE(s->warmup.fixed.has_value());
  EXPECT_EQ(warmup_batches(s->warmup, CellKey{"a", 8192, 512, 64}), 0u);
}

TEST(Grid, WarmupPolicyGivesFewerBatchesToLargeCells) {
  WarmupPolicy p;  // max 20, budget 65536 tokens
  EXPECT_EQ(warmup_batches(p, CellKey{"a", 32, 8, 1}), 20u);
  EXPECT_EQ(warmup_batches(p, CellKey{"a", 512, 128, 16}), 6u);   // 65536 / 10240
  EXPECT_EQ(warmup_batches(p, CellKey{"a", 8192, 512, 64}), 1u);  // never none
  p.fixed = 3;
  EXPECT_EQ(warmup_batches(p, CellKey{"a", 32, 8, 1}), 3u);
}

TEST(Grid, SizeLists) {
  EXPECT_EQ(*parse_size_list("128, 512,2048", "x"), (std::vector<std::uint64_t>{128, 512, 2048}));
  EXPECT_EQ(*parse_size_list("32..256", "x"), (std::vector<std::uint64_t>{32, 64, 128, 256}));
  EXPECT_FALSE(parse_size_list("", "x"));
  EXPECT_FALSE(parse_size_list("1,,2", "x"));
  EXPECT_FALSE(parse_size_list("0", "x"));
  EXPECT_FALSE(parse_size_list("64..32", "x"));
  auto e = parse_size_list("12a", "--input");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("--input"), std::string::npos);
}

TEST(Grid, ShardsAreDisjointAndCoverTheGrid) {
  auto s = parse_study_yaml(kGood, "good.yaml");
  ASSERT_TRUE(s);
  const auto grid = expand_grid(*s);
  EXPECT_EQ(grid.front().key, (CellKey{"baseline", 128, 32, 1}));
  EXPECT_EQ(grid[1].key, (CellKey{"baseline", 128, 32, 2}));
  for (std::uint32_t n : {1u, 3u, 7u, 40u, 100u}) {
    std::set<CellKey> seen;
    std::size_t total = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto part = select_shard(grid, Shard{i, n});
      total += part.size();
      for (const auto& c : part) EXPECT_TRUE(seen.insert(c.key).second) << to_string(c.key) << " in two shards";
      EXPECT_LE(part.size(), grid.size() / n + 1);
    }
    EXPECT_EQ(total, grid.size());
    EXPECT_EQ(seen.size(), grid.size());
  }
  EXPECT_EQ(parse_shard("2/5")->index, 2u);
  EXPECT_EQ(parse_shard("2/5")->count, 5u);
  EXPECT_FALSE(parse_shard("5/5"));
  EXPECT_FALSE(parse_shard("1/0"));
  EXPECT_FALSE(parse_shard("1"));
  EXPECT_FALSE(parse_shard("a/b"));
}

// yaml-cpp keeps the first of two equal keys; the reader refuses the second, naming it.
TEST(HostileGrid, DuplicateKeyIsAnErrorWithFileAndLine) {
  auto s = parse_study_yaml(
      "configs:\n  - {name: a, engine: sim}\ninputs: [32]\noutputs: [8]\nbatches: [1]\ninputs: [64]\n", "dup.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kParse);
  EXPECT_NE(s.error().message.find("dup.yaml:6: inputs: key given twice (first at line 3)"), std::string::npos)
      << s.error().message;
  // Nested mappings too: a config's settings.
  auto nested = parse_study_yaml(
      "configs:\n  - name: a\n    engine: sim\n    settings:\n      stack: vllm\n      stack: hf-eager\n"
      "inputs: [32]\noutputs: [8]\nbatches: [1]\n",
      "nested.yaml");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("nested.yaml:6: configs[0].settings.stack: key given twice"), std::string::npos)
      << nested.error().message;
}

std::string axis_of(int n) {
  std::string out = "[";
  for (int i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    out += std::to_string(i);
  }
  return out + "]";
}

TEST(HostileGrid, ABillionCellsAreRefusedBeforeExpanding) {
  const std::string yaml =
      "configs: [{name: a, engine: sim}, {name: b, engine: sim, settings: {batches: \"1,2\"}}]\n"
      "inputs: " +
      axis_of(1000) + "\noutputs: " + axis_of(1000) + "\nbatches: " + axis_of(1000) + "\n";
  auto s = parse_study_yaml(yaml, "huge.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_NE(s.error().message.find("huge.yaml: the grid has 1002000000 cells"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("--max-cells"), std::string::npos) << s.error().message;
  // An explicit limit: 10 x 10 x 1 cells pass a limit of 100 and fail one of 99.
  const std::string small =
      "configs: [{name: a, engine: sim}]\ninputs: " + axis_of(10) + "\noutputs: " + axis_of(10) + "\nbatches: [1]\n";
  auto ok = parse_study_yaml(small, "s.yaml", {}, 100);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(grid_cell_count(*ok), 100u);
  EXPECT_EQ(expand_grid(*ok).size(), 100u);
  EXPECT_FALSE(parse_study_yaml(small, "s.yaml", {}, 99).ok());
}

TEST(HostileGrid, CellCountSaturatesAndDefaultLimitIsBounded) {
  Study s;
  s.configs.resize(3);
  s.configs[1].settings = {{"batches", "1..8"}};  // 4 batch sizes
  s.input_tokens = {1, 2};
  s.output_tokens = {1, 2, 3};
  s.batch_sizes = {1};
  EXPECT_EQ(grid_cell_count(s), 6u * 1 + 6u * 4 + 6u * 1);
  EXPECT_GE(default_max_cells(), 100'000u);
  EXPECT_LE(default_max_cells(), 100'000'000u);
}

TEST(HostileGrid, ARangeToTheTopStopsAt2To63) {
  auto all = parse_size_list("1..18446744073709551615", "inputs");
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_EQ(all->size(), 64u);
  EXPECT_EQ(all->back(), std::uint64_t{1} << 63);
  auto top = parse_size_list("9223372036854775808..18446744073709551615", "inputs");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 1u);
}

}  // namespace
}  // namespace jouleperf::study
