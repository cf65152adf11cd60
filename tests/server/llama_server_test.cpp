// The openai engine against llama.cpp's own llama-server (started here on 127.0.0.1 with
// a synthetic model): exact lengths for a concurrent batch, and a server killed mid-run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "jouleperf/core/http.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/study/store.hpp"
#include "llama/tiny_model.hpp"
#include "support/http_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace jouleperf {
namespace {

std::string server_binary() {
  for (const char* v : {"cpu", "cuda"}) {
    const auto p = std::filesystem::path(JP_SOURCE_DIR) / "third_party/_build" / (std::string("llama-") + v) / "bin" /
                   "llama-server";
    if (std::filesystem::exists(p)) return p.string();
  }
  return "";
}

// llama-server as a child process; killed (SIGKILL) and reaped by the destructor.
class LlamaServer {
 public:
  LlamaServer(const std::string& model, int slots, const std::string& log) {
    port_ = testing::HttpServer::closed_port();
    const std::string port = std::to_string(port_), np = std::to_string(slots), ctx = std::to_string(512 * slots);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      const std::string bin = server_binary();
      ::execl(bin.c_str(), bin.c_str(), "-m", model.c_str(), "--host", "127.0.0.1", "--port", port.c_str(), "-np",
              np.c_str(), "-c", ctx.c_str(), "-t", "2", "--no-webui", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~LlamaServer() { kill(); }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Polls GET /health until 200 (the model is loaded) or `limit_s` passes.
  bool wait_ready(double limit_s) {
    HttpOptions o;
    o.timeout_s = 1.0;
    auto c = HttpClient::open(url() + "/health", o);
    if (!c) return false;
    SteadyClock clock;
    const double end = clock.now().value() + limit_s;
    while (clock.now().value() < end) {
      if (auto r = (*c)->get(); r && r->status == 200) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      clock.sleep_until(Seconds(clock.now().value() + 0.1));
    }
    return false;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class LlamaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (server_binary().empty()) GTEST_SKIP() << "llama-server is not built (scripts/build_llama.sh)";
    model_ = testing::tiny_model();
  }
  std::unique_ptr<LlamaServer> start(int slots) {
    auto s = std::make_unique<LlamaServer>(model_, slots, (dir_.path() / "server.log").string());
    if (!s->wait_ready(120.0)) {
      ADD_FAILURE() << "llama-server did not become ready; log: " << (dir_.path() / "server.log").string();
      return nullptr;
    }
    return s;
  }
  testing::TempDir dir_;
  std::string model_;
};

TEST_F(LlamaServerTest, BatchOfFourGetsExactOutputTokens) {
  auto server = start(4);
  ASSERT_NE(server, nullptr);
  OpenAiConfig c;
  c.url = server->url();
  c.timeout_s = 60;
  auto e = OpenAiEngine::open(c);
  ASSERT_TRUE(e.ok());
  BatchRequest b;
  b.batch = 4;
  b.input_tokens = 24;
  b.output_tokens = 20;
  SteadyClock clock;
  auto r = (*e)->run_batch(b, clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->sequences.size(), 4u);
  for (const auto& q : (*e)->last_results()) {
    EXPECT_TRUE(q.ok) << q.error;
    EXPECT_EQ(q.output_tokens, 20u);
    EXPECT_EQ(q.usage_completion_tokens, 20u);
    EXPECT_EQ(q.usage_prompt_tokens, 24u);
    EXPECT_EQ(q.mismatch, "");
    EXPECT_EQ(q.finish_reason, "length");
    EXPECT_GT(q.ttft_s(), 0.0);
    EXPECT_LT(q.ttft_s(), q.e2e_s());
  }
  // The same prompts again are not served from the prompt cache (cache_prompt: false):
  // the server still reports the whole prompt.
  auto again = (*e)->run_batch(b, clock, nullptr);
  ASSERT_TRUE(again.ok());
  for (const auto& q : (*e)->last_results()) EXPECT_EQ(q.usage_prompt_tokens, 24u);
}

TEST_F(LlamaServerTest, KilledServerGivesCountedFailuresAndKeepsFinishedResults) {
  auto server = start(4);
  ASSERT_NE(server, nullptr);
  OpenAiConfig c;
  c.url = server->url();
  c.timeout_s = 30;
  auto client = OpenAiClient::open(c);
  ASSERT_TRUE(client.ok());
  SteadyClock clock;
  BatchRequest b;
  b.input_tokens = 8;
  std::vector<OpenAiResult> done;
  for (std::uint64_t s = 0; s < 4; ++s) {
    b.output_tokens = s < 2 ? 4 : 480;  // two short requests finish; two long ones are cut off
    ASSERT_TRUE((*client)->submit(make_openai_request(c, b, s), clock).ok());
  }
  const double deadline = clock.now().value() + testing::kHangBoundS;  // bounds a hang only
  bool killed = false;
  while ((*client)->in_flight() > 0) {
    ASSERT_LT(clock.now().value(), deadline) << "hung";
    (*client)->step(0.02, clock, done);
    if (!killed && done.size() >= 2) {
      server->kill();
      killed = true;
    }
  }
  ASSERT_TRUE(killed);
  ASSERT_EQ(done.size(), 4u);
  int ok = 0, failed = 0;
  for (const auto& q : done) {
    if (q.ok) {
      ++ok;
      EXPECT_EQ(q.output_tokens, 4u);
      EXPECT_EQ(q.output_tokens_asked, 4u);
    } else {
      ++failed;
      EXPECT_FALSE(q.error.empty());
      EXPECT_LT(q.output_tokens, 480u);
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(failed, 2);
}

TEST_F(LlamaServerTest, CliRunWithOpenAiEngine) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  auto server = start(2);
  ASSERT_NE(server, nullptr);
  const std::string out = (dir_.path() / "run.json").string();
  const std::string cmd = cli + " run --engine openai --url " + server->url() +
                          " -I 16 -O 6 -B 2 --warmup 0 --sensor cpu-model --json > " + out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["engine"], "openai");
  ASSERT_EQ(j["requests"].size(), 2u);
  for (const auto& q : j["requests"]) EXPECT_EQ(q["output_tokens"], 6);
  EXPECT_EQ(j["openai"]["requests_failed"], 0);
  EXPECT_EQ(j["openai"]["mismatches"].size(), 0u);
  // Usage errors: no URL; an unknown API; a refused connection is a failure, not a hang.
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " run --engine openai -O 2 --warmup 0 2>/dev/null >/dev/null").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system(
                (cli + " run --engine openai --api x --url " + server->url() + " 2>/dev/null >/dev/null").c_str())),
            2);
  server->kill();
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " run --engine openai --warmup 0 --sensor cpu-model --url " + server->url() +
                                     " 2>/dev/null >/dev/null")
                                        .c_str())),
            1);
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

TEST_F(LlamaServerTest, PoissonReplayOfFiftyRequestsCompletes) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  auto server = start(4);
  ASSERT_NE(server, nullptr);
  const std::string out = (dir_.path() / "replay.json").string();
  const std::string cmd =
      cli + " replay --url " + server->url() +
      " --poisson 20 --requests 50 -I 8 -O 4 --slo ttft=30 --timeout 240 --sensor cpu-model --json > " + out +
      " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["requests"], 50);
  EXPECT_EQ(j["ok"], 50);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["mismatched"], 0);
  EXPECT_EQ(j["output_tokens"], 200);
  EXPECT_EQ(j["input_tokens"], 400);
  EXPECT_EQ(j["per_request"].size(), 50u);
  EXPECT_EQ(j["ttft_s"]["n"], 50);
  EXPECT_GT(j["energy_j"].get<double>(), 0.0);
  // --timeout (no data for 240 s) only bounds a hang: on a loaded machine the last of the
  // 50 requests waits in llama-server's queue, without a byte, for tens of seconds.
  for (const auto& q : j["per_request"]) {
    EXPECT_EQ(q["output_tokens"], 4) << q.dump();
    EXPECT_LT(q["ttft_s"].get<double>(), q["e2e_s"].get<double>());
  }
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

// --prompt-mode text: synthetic text calibrated through llama-server's /tokenize; the
// server's own usage.prompt_tokens for it is exactly I (its BOS included).
// Energy per request against a real server (issue 17): every request's share stored, the
// shares and the idle adding up to the measured total, and --group-by on a trace with a
// tag column giving per-group sums that add up too.
TEST_F(LlamaServerTest, ReplayChargesEnergyPerRequestAndPerTenant) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  auto server = start(4);
  ASSERT_NE(server, nullptr);
  const std::string trace = (dir_.path() / "tenants.csv").string();
  {
    std::ofstream f(trace);
    f << "TIMESTAMP,ContextTokens,GeneratedTokens,tenant\n";
    for (int i = 0; i < 16; ++i)
      f << "2023-11-16 18:15:" << 10 + i / 10 << "." << i % 10 << "000000," << 8 + i % 4 << "," << 2 + i % 3 << ","
        << (i % 4 == 0 ? "batch" : "chat") << "\n";
  }
  const std::string db = (dir_.path() / "r.db").string(), out = (dir_.path() / "replay.json").string();
  const std::string cmd = cli + " replay --url " + server->url() + " --trace " + trace + " --group-by tenant --store " +
                          db + " --timeout 240 --sensor cpu-model --json > " + out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["ok"], 16);
  const auto& a = j["attribution"];
  ASSERT_TRUE(a.is_object()) << j.dump();
  EXPECT_EQ(a["method"], "black-box");
  const double total = j["energy_j"].get<double>();
  EXPECT_NEAR(a["attributed_j"].get<double>() + a["unattributed_idle_j"].get<double>(), total, 1e-9 * total);
  const auto& c = j["chargeback"];
  ASSERT_EQ(c["groups"].size(), 2u) << c.dump();
  double groups = 0;
  for (const auto& g : c["groups"]) {
    EXPECT_EQ(g["requests"], g["group"] == "batch" ? 4 : 12);
    groups += g["energy_j"].get<double>();
  }
  EXPECT_NEAR(groups + c["unattributed_idle_j"].get<double>(), total, 1e-9 * total);

  auto store = study::Store::open(db, study::StoreMode::kReadOnly);
  ASSERT_TRUE(store) << store.error().to_string();
  auto runs = store->runs();
  ASSERT_TRUE(runs && runs->size() == 1);
  auto reqs = store->requests(runs->front().run_id);
  ASSERT_TRUE(reqs && reqs->size() == 16);
  double stored = 0;
  for (const auto& q : *reqs) {
    ASSERT_TRUE(q.energy_j) << q.index;
    EXPECT_GT(*q.energy_j, 0.0);
    stored += *q.energy_j;
  }
  EXPECT_NEAR(stored, a["attributed_j"].get<double>(), 1e-9 * total);
}

TEST_F(LlamaServerTest, CalibratedTextPromptsHaveExactLengths) {
  auto server = start(2);
  ASSERT_NE(server, nullptr);
  OpenAiConfig c;
  c.url = server->url();
  c.timeout_s = 60;
  c.prompt_mode = PromptMode::kText;
  auto e = OpenAiEngine::open(c);
  ASSERT_TRUE(e.ok());
  SteadyClock clock;
  for (std::uint64_t input : {1u, 7u, 64u, 300u}) {
    BatchRequest b;
    b.batch = 2;
    b.input_tokens = input;
    b.output_tokens = 5;
    auto r = (*e)->run_batch(b, clock, nullptr);
    ASSERT_TRUE(r.ok()) << "I=" << input << ": " << r.error().to_string();
    for (const auto& q : (*e)->last_results()) {
      EXPECT_TRUE(q.ok) << q.error;
      EXPECT_EQ(q.usage_prompt_tokens, input) << "I=" << input;
      EXPECT_EQ(q.output_tokens, 5u);
      EXPECT_EQ(q.usage_completion_tokens, 5u);
      EXPECT_EQ(q.mismatch, "") << "I=" << input;
      const CalibratedText* t = (*e)->client().text_prompt({b.seed, q.tag, input});
      ASSERT_NE(t, nullptr);
      EXPECT_TRUE(t->exact());
      EXPECT_LE(t->round_trips, c.calibrate_round_trips);
    }
    // The two sequences got different text (I = 1 is BOS alone: the empty text for both).
    if (input > 1) {
      EXPECT_NE((*e)->client().text_prompt({b.seed, 0, input})->text,
                (*e)->client().text_prompt({b.seed, 1, input})->text);
    }
    // A second batch of the same shape reuses the calibrated prompts: no tokenize call.
    const std::uint64_t calls = (*e)->client().tokenize_requests();
    ASSERT_TRUE((*e)->run_batch(b, clock, nullptr).ok());
    EXPECT_EQ((*e)->client().tokenize_requests(), calls);
  }
}

// The open-loop generator sends calibrated text without tokenizing while on schedule.
TEST_F(LlamaServerTest, ReplayOfTextPromptsTokenizesOnlyBeforeTheSchedule) {
  auto server = start(2);
  ASSERT_NE(server, nullptr);
  OpenAiConfig c;
  c.url = server->url();
  c.timeout_s = 60;
  c.prompt_mode = PromptMode::kText;
  c.tokenize_api = TokenizeApi::kLlama;
  auto client = OpenAiClient::open(c);
  ASSERT_TRUE(client.ok());
  std::vector<ScheduledRequest> schedule;
  std::vector<TextPromptKey> keys;
  for (std::uint64_t i = 0; i < 6; ++i) {
    schedule.push_back({0.02 * static_cast<double>(i), 10 + 9 * i, 3});
    keys.push_back({7, i, 10 + 9 * i});
  }
  ASSERT_TRUE((*client)->prepare_text_prompts(keys).ok());
  const std::uint64_t calls = (*client)->tokenize_requests();
  EXPECT_GT(calls, 6u);
  LoadgenOptions lo;
  lo.seed = 7;
  SteadyClock clock;
  auto run = run_open_loop(**client, schedule, lo, clock, nullptr);
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  EXPECT_EQ((*client)->tokenize_requests(), calls);
  for (std::size_t i = 0; i < run->requests.size(); ++i) {
    const auto& q = run->requests[i].result;
    EXPECT_TRUE(q.ok) << q.error;
    EXPECT_EQ(q.usage_prompt_tokens, schedule[i].input_tokens);
    EXPECT_EQ(q.mismatch, "");
  }
  // A request whose prompt was not prepared fails at submit, before any HTTP.
  BatchRequest b;
  b.input_tokens = 99;
  b.seed = 7;
  auto st = (*client)->submit(make_openai_request(c, b, 0), clock);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not calibrated"), std::string::npos);
}

TEST_F(LlamaServerTest, CliRunAndReplayWithTextPrompts) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  auto server = start(2);
  ASSERT_NE(server, nullptr);
  const std::string out = (dir_.path() / "run.json").string();
  const std::string cmd = cli + " run --engine openai --url " + server->url() +
                          " --prompt-mode text --tokenize-api auto -I 33 -O 4 -B 2 --warmup 0 --sensor cpu-model "
                          "--json > " +
                          out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["openai"]["mismatches"].size(), 0u);
  for (const auto& q : j["openai"]["requests"]) EXPECT_EQ(q["usage_prompt_tokens"], 33);
  const std::string rout = (dir_.path() / "replay.json").string();
  const std::string rcmd = cli + " replay --url " + server->url() +
                           " --prompt-mode text --poisson 50 --requests 6 -I 20 -O 3 --sensor cpu-model --json > " +
                           rout + " 2>/dev/null";
  ASSERT_EQ(std::system(rcmd.c_str()), 0) << rcmd;
  std::ifstream rin(rout);
  auto rj = nlohmann::json::parse(rin, nullptr, false);
  ASSERT_FALSE(rj.is_discarded());
  EXPECT_EQ(rj["ok"], 6);
  EXPECT_EQ(rj["mismatched"], 0);
  EXPECT_EQ(rj["input_tokens"], 120);
  // Usage errors: unknown prompt mode or tokenize API.
  EXPECT_EQ(WEXITSTATUS(std::system(
                (cli + " run --engine openai --prompt-mode words --url " + server->url() + " 2>/dev/null >/dev/null")
                    .c_str())),
            2);
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " replay --tokenize-api sglang --poisson 1 -n 1 --url " + server->url() +
                                     " 2>/dev/null >/dev/null")
                                        .c_str())),
            2);
}

TEST_F(LlamaServerTest, RateSweepWithIdleGapIntoTheStore) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  auto server = start(4);
  ASSERT_NE(server, nullptr);
  const std::string out = (dir_.path() / "sweep.json").string();
  const std::string db = (dir_.path() / "runs.db").string();
  const std::string cmd = cli + " replay --url " + server->url() +
                          " --rates 10,20 --requests 4 --idle-gap 0.5 -I 8 -O 4 --timeout 60 --sensor cpu-model" +
                          " --store " + db + " --json > " + out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["phases"].size(), 2u);
  EXPECT_EQ(j["phases"][0]["name"], "rate-10");
  EXPECT_EQ(j["phases"][1]["name"], "rate-20");
  for (const auto& p : j["phases"]) {
    EXPECT_EQ(p["requests"], 4);
    EXPECT_EQ(p["ok"], 4);
    EXPECT_EQ(p["output_tokens"], 16);
    EXPECT_EQ(p["mismatched"], 0);
    EXPECT_GE(p["gap_end_s"].get<double>() - p["gap_start_s"].get<double>(), 0.5);
    EXPECT_GT(p["gap_energy_j"].get<double>(), 0.0);
    EXPECT_EQ(p["energy_source"], "cpu-time-model");
  }
  EXPECT_GE(j["phases"][1]["start_s"].get<double>() - j["phases"][0]["end_s"].get<double>(), 0.5);
  auto store = study::Store::open(db);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto runs = store->runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  auto reqs = store->requests((*runs)[0].run_id);
  ASSERT_TRUE(reqs.ok());
  ASSERT_EQ(reqs->size(), 8u);
  for (const auto& q : *reqs) {
    EXPECT_TRUE(q.ok) << q.error;
    EXPECT_EQ(q.token_s.size(), 4u);
    EXPECT_EQ(q.usage_completion_tokens, 4u);
  }
}

}  // namespace
}  // namespace jouleperf
