// Real prompt text on the in-process llamacpp engine (`run --prompt / --prompts`, replay,
// sweep settings): the prompt is tokenized by the model and fed as exactly I tokens, the
// generation continues it, a bad prompts file is named FILE:LINE, other engines refuse.
// Expected tokens are computed here straight from llama.cpp's tokenizer, not by jouleperf.
#include <gtest/gtest.h>
#include <llama.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/sweep.hpp"
#include "llama/tiny_model.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
};

// Runs jouleperf with `args` (shell words); stdout, and stderr too when `with_stderr`.
CliRun cli(const std::string& args, bool with_stderr = false) {
  CliRun r;
  const std::string cmd = std::string(JP_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The tiny model's vocabulary, loaded by llama.cpp itself.
class Vocab {
 public:
  Vocab() {
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    model_ = llama_model_load_from_file(testing::tiny_model().c_str(), mp);
    if (model_ != nullptr) vocab_ = llama_model_get_vocab(model_);
  }
  ~Vocab() {
    if (model_ != nullptr) llama_model_free(model_);
  }
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;
  bool ok() const { return vocab_ != nullptr; }
  std::vector<std::int32_t> tokenize(const std::string& text, bool add_special) const {
    std::vector<std::int32_t> out(text.size() + 8);
    const int n = llama_tokenize(vocab_, text.data(), static_cast<int>(text.size()), out.data(),
                                 static_cast<int>(out.size()), add_special, false);
    out.resize(static_cast<std::size_t>(std::max(0, n)));
    return out;
  }
  std::string detokenize(const std::vector<std::int32_t>& t) const {
    std::string s(t.size() * 32 + 32, '\0');
    const int n = llama_detokenize(vocab_, t.data(), static_cast<int>(t.size()), s.data(), static_cast<int>(s.size()),
                                   false, false);
    s.resize(static_cast<std::size_t>(std::max(0, n)));
    return s;
  }
  bool add_bos() const { return llama_vocab_get_add_bos(vocab_); }
  std::int32_t bos() const { return llama_vocab_bos(vocab_); }

 private:
  llama_model* model_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
};

std::vector<std::int32_t> ids(const nlohmann::json& j) { return j.get<std::vector<std::int32_t>>(); }

TEST(LlamaPromptText, RunContinuesThePrompt) {
  Vocab v;
  ASSERT_TRUE(v.ok());
  const std::string args = "run --engine llamacpp --model " + testing::tiny_model() +
                           " --prompt \"Once upon a time\" --output 24 --strategy greedy --print-output"
                           " --threads 1 --warmup 0";
  const CliRun r = cli(args + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  // Without --input, I is the prompt's own token count, BOS as the model wants it.
  const auto want = v.tokenize("Once upon a time", true);
  ASSERT_GT(want.size(), 3u);
  if (v.add_bos()) {
    EXPECT_EQ(want.front(), v.bos());
  }
  EXPECT_EQ(j["input_tokens"], want.size());
  EXPECT_EQ(j["output_tokens"], 24);
  ASSERT_EQ(j["requests"].size(), 1u);
  const auto& q = j["requests"][0];
  EXPECT_EQ(ids(q["prompt_token_ids"]), want);
  const auto generated = ids(q["token_ids"]);
  ASSERT_EQ(generated.size(), 24u);
  EXPECT_EQ(q["output_tokens"], 24);
  // The printed text: the detokenized prompt tokens, then the 24 generated ones.
  std::vector<std::int32_t> both = want;
  both.insert(both.end(), generated.begin(), generated.end());
  const std::string prompt_text = v.detokenize(want);
  EXPECT_NE(prompt_text.find("Once upon a time"), std::string::npos) << prompt_text;
  EXPECT_EQ(q["prompt_text"], prompt_text);
  EXPECT_EQ(q["text_with_prompt"], v.detokenize(both));
  EXPECT_EQ(q["text_with_prompt"].get<std::string>().rfind(prompt_text, 0), 0u);
  EXPECT_EQ(q["text"], v.detokenize(generated));
  EXPECT_EQ(j["settings"]["prompt_source"], "text");
  // The text report prints the same continuation (greedy: the same tokens).
  const CliRun text = cli(args);
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find(nlohmann::json(v.detokenize(both)).dump()), std::string::npos) << text.out;
}

TEST(LlamaPromptText, PromptsFileGivesExactlyITokensPerSequence) {
  Vocab v;
  ASSERT_TRUE(v.ok());
  testing::TempDir dir;
  const std::vector<std::string> lines = {
      "Hi.",  // shorter than I: extended with the following prompts
      "The library closed at six, but the caretaker let us stay if we were quiet, and we read until the lamps "
      "went out one by one.",  // longer than I: cut
      "Rain."};
  const auto path = dir.write("p.txt", lines[0] + "\n\n" + lines[1] + "\n" + lines[2] + "\n").string();
  const std::uint64_t I = 16;
  const CliRun r = cli("run --model " + testing::tiny_model() + " --prompts " + path +
                       " -I 16 -O 3 -B 4 --threads 1 --warmup 0 --print-output --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input_tokens"], 4 * I);
  EXPECT_EQ(j["settings"]["prompt_source"], path);
  EXPECT_EQ(j["settings"]["prompts"], "3");
  ASSERT_EQ(j["requests"].size(), 4u);
  // The documented rule, from llama.cpp's tokenizer: BOS, prompt s mod 3, then "\n" and
  // the following prompts, cut to I.
  const auto sep = v.tokenize("\n", false);
  for (std::size_t s = 0; s < 4; ++s) {
    std::vector<std::int32_t> want;
    if (v.add_bos()) want.push_back(v.bos());
    for (std::size_t k = s; want.size() < I; ++k) {
      if (k != s) want.insert(want.end(), sep.begin(), sep.end());
      const auto t = v.tokenize(lines[k % 3], false);
      want.insert(want.end(), t.begin(), t.end());
    }
    want.resize(I);
    const auto got = ids(j["requests"][s]["prompt_token_ids"]);
    EXPECT_EQ(got.size(), I) << s;
    EXPECT_EQ(got, want) << s;
    EXPECT_EQ(j["requests"][s]["output_tokens"], 3);
  }
  // Sequence 0 was extended past "Hi."; sequence 1 was cut inside its sentence.
  EXPECT_GT(v.tokenize(lines[1], true).size(), I);
  EXPECT_LT(v.tokenize(lines[0], true).size(), I);
}

TEST(LlamaPromptText, BadPromptsFileNamesFileAndLine) {
  testing::TempDir dir;
  const auto path = dir.write("p.jsonl", "{\"prompt\": \"fine\"}\n\n{\"prompt\": 42}\n").string();
  const std::string m = " --model " + testing::tiny_model() + " --threads 1 --warmup 0 -O 2";
  const CliRun r = cli("run --prompts " + path + m, true);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(path + ":3:"), std::string::npos) << r.out;
  const CliRun field = cli("run --prompts " + path + " --prompts-field text" + m, true);
  EXPECT_EQ(field.exit_code, 2);
  EXPECT_NE(field.out.find(path + ":1: no field \"text\""), std::string::npos) << field.out;
  const CliRun replay =
      cli("replay --engine llamacpp --poisson 10 -n 2 -I 4" + m + " --prompts " + path + " --json", true);
  EXPECT_NE(replay.exit_code, 0);
  EXPECT_NE(replay.out.find(path + ":3:"), std::string::npos) << replay.out;
  EXPECT_EQ(cli("run --prompt \"  \"" + m).exit_code, 2);
  EXPECT_EQ(cli("run --prompt a --prompts " + path + m).exit_code, 2);  // exclusive
  // Other engines refuse the flags, saying why.
  const CliRun openai = cli("run --engine openai --url http://127.0.0.1:9 --prompt hello -O 2 --warmup 0", true);
  EXPECT_EQ(openai.exit_code, 2);
  EXPECT_NE(openai.out.find("llamacpp engine only"), std::string::npos) << openai.out;
  const CliRun ropenai = cli("replay --engine openai --url http://127.0.0.1:9 --poisson 10 -n 2 --prompt hi", true);
  EXPECT_EQ(ropenai.exit_code, 2);
  EXPECT_NE(ropenai.out.find("llamacpp engine only"), std::string::npos) << ropenai.out;
  const CliRun sim = cli("sweep --engine sim --model Llama-3.1-8B --setting hardware=h100-sxm --prompt hi --store " +
                             (dir.path() / "s.db").string() + " -I 8 -O 4",
                         true);
  EXPECT_NE(sim.exit_code, 0);
  EXPECT_NE(sim.out.find("setting \"prompt\" is not one the sim engine takes"), std::string::npos) << sim.out;
}

TEST(LlamaPromptText, ReplayFeedsThePromptsFile) {
  const std::string path = std::string(JP_SOURCE_DIR) + "/tests/data/prose.txt";
  const CliRun r = cli("replay --engine llamacpp --model " + testing::tiny_model() + " --prompts " + path +
                       " --poisson 200 --requests 4 --input 12 --output 3 --max-batch 2 --threads 1 --warmup 0"
                       " --idle-power 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], 4);
  EXPECT_EQ(j["input_tokens"], 48);
  EXPECT_EQ(j["settings"]["prompt_source"], path);
}

TEST(LlamaPromptText, StudyPromptsSettingIsRelativeToTheStudyFile) {
  testing::TempDir dir;
  dir.write("data/prose.txt", "A short line of prose.\nAnother one, a little longer than the first.\n");
  const auto study_path = dir.write("sub/study.yaml",
                                    "configs:\n"
                                    "  - name: spec\n"
                                    "    engine: llamacpp\n"
                                    "    model: " +
                                        testing::tiny_model() +
                                        "\n"
                                        "    strategy: speculative\n"
                                        "    threads: 1\n"
                                        "    settings: {draft_model: " +
                                        testing::tiny_model() +
                                        ", draft_tokens: 3, prompts: ../data/prose.txt}\n"
                                        "inputs: [12]\noutputs: [8]\nbatches: [2]\nrepetitions: 1\nwarmup: 0\n");
  auto s = study::load_study_file(study_path.string());
  ASSERT_TRUE(s) << s.error().to_string();
  const std::string prose = (dir.path() / "data" / "prose.txt").lexically_normal().string();
  EXPECT_EQ(s->configs[0].setting("prompts"), prose);

  auto store = study::Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store);
  SteadyClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  SensorInfo info{"fake", "fake:0", "constant 50 W", {}};
  sensors.push_back(std::make_unique<FakePowerSensor>(info, PowerProfile().point(Seconds(0), Watts(50)), clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  study::SweepEnv env;
  env.clock = &clock;
  env.sampler = &sampler;
  auto sum = study::run_sweep(*s, study::expand_grid(*s), *store, env, nullptr);
  sampler.stop();
  ASSERT_TRUE(sum) << sum.error().to_string();
  ASSERT_EQ(sum->measured, 1u);
  auto cell = store->cell(study::CellKey{"spec", 12, 8, 2});
  ASSERT_TRUE(cell && cell->has_value());
  const auto& c = (**cell).conditions;
  EXPECT_EQ(c["engine_settings"]["prompt_source"], prose) << c.dump();
  EXPECT_EQ(c["engine_settings"]["prompts"], "2");
  ASSERT_TRUE(c["draft_acceptance"].is_number()) << c.dump();
  EXPECT_DOUBLE_EQ(c["draft_acceptance"].get<double>(), 1.0);  // the draft is the target itself
}

}  // namespace
}  // namespace jouleperf
