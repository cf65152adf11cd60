// The openai engine over HTTP/2 (cleartext, prior knowledge) against a real HTTP/2
// server: Node.js's own http2 module (tests/server/h2_sse_server.js), which speaks
// nothing but HTTP/2 — a request that reaches it went over HTTP/2. A concurrent batch
// gets exact lengths and its streams share connections; an HTTP/1.1 client gets counted
// failures with reasons, and no hang. Skips when `node` is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/engine/openai.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace jouleperf {
namespace {

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const auto p = std::filesystem::path(dir) / "node";
    if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// The Node.js HTTP/2 server as a child; its first stdout line is "port N".
class H2Server {
 public:
  H2Server(const std::string& node, const std::string& log) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    const std::string script = std::string(JP_SOURCE_DIR) + "/tests/server/h2_sse_server.js";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::execl(node.c_str(), node.c_str(), script.c_str(), log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    if (out == nullptr) return;
    int port = 0;
    if (std::fscanf(out, "port %d", &port) == 1) port_ = port;  // blocks until listening (or exit: EOF)
    std::fclose(out);
  }
  ~H2Server() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct LoggedRequest {
  int session = 0;
  std::uint64_t max_tokens = 0, prompt_tokens = 0;
};

std::vector<LoggedRequest> read_log(const std::filesystem::path& p) {
  std::vector<LoggedRequest> out;
  std::ifstream in(p);
  std::string tag;
  LoggedRequest r;
  while (in >> tag >> r.session >> r.max_tokens >> r.prompt_tokens) out.push_back(r);
  return out;
}

class Http2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = find_node();
    if (node_.empty()) GTEST_SKIP() << "node (Node.js) is not installed; scripts/bootstrap.sh installs it";
    log_ = dir_.path() / "requests.log";
    server_ = std::make_unique<H2Server>(node_, log_.string());
    ASSERT_GT(server_->port(), 0) << "the HTTP/2 test server did not start";
  }
  testing::TempDir dir_;
  std::string node_;
  std::filesystem::path log_;
  std::unique_ptr<H2Server> server_;
};

TEST_F(Http2Test, ConcurrentBatchGetsExactLengthsOverSharedConnections) {
  OpenAiConfig c;
  c.url = server_->url();
  c.http2 = true;
  c.timeout_s = 20;
  auto e = OpenAiEngine::open(c);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  BatchRequest b;
  b.batch = 8;
  b.input_tokens = 16;
  b.output_tokens = 12;
  SteadyClock clock;
  for (int round = 0; round < 2; ++round) {
    auto r = (*e)->run_batch(b, clock, nullptr);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ((*e)->last_results().size(), 8u);
    for (const auto& q : (*e)->last_results()) {
      EXPECT_TRUE(q.ok) << q.error;
      EXPECT_EQ(q.output_tokens, 12u);
      EXPECT_EQ(q.usage_completion_tokens, 12u);
      EXPECT_EQ(q.usage_prompt_tokens, 16u);
      EXPECT_EQ(q.mismatch, "");
      EXPECT_GT(q.ttft_s(), 0.0);
      EXPECT_LT(q.ttft_s(), q.e2e_s());
    }
  }
  // Every request reached the HTTP/2-only server with the asked lengths.
  const auto log = read_log(log_);
  ASSERT_EQ(log.size(), 16u);
  std::set<int> first, second;
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].max_tokens, 12u);
    EXPECT_EQ(log[i].prompt_tokens, 16u);
    (i < 8 ? first : second).insert(log[i].session);
  }
  const std::string mode = http_mode_description(c);
  if (h2c_connection_reuse_works()) {
    // The 16 streams shared connections (multiplexing and keep-alive); the second batch
    // opened none.
    EXPECT_LT(first.size(), 8u) << "each stream of the batch opened its own connection";
    for (int s : second) EXPECT_TRUE(first.count(s) == 1) << "the second batch opened connection " << s;
    EXPECT_NE(mode.find("multiplexed"), std::string::npos) << mode;
  } else {
    // libcurl < 8.0.0: one connection per request, and the engine says why.
    EXPECT_EQ(first.size() + second.size(), 16u);
    EXPECT_NE(mode.find("one connection per request"), std::string::npos) << mode;
    EXPECT_NE(mode.find("10634"), std::string::npos) << mode;
  }
}

TEST(HttpMode, DescribesTheProtocolPerUrlScheme) {
  OpenAiConfig c;
  c.url = "http://127.0.0.1:1";
  EXPECT_EQ(http_mode_description(c), "1.1 (keep-alive)");
  c.http2 = true;
  EXPECT_EQ(http_mode_description(c).rfind("2 cleartext (prior knowledge)", 0), 0u);
  c.url = "https://example.invalid";
  EXPECT_EQ(http_mode_description(c).rfind("2 over TLS (ALPN", 0), 0u);
}

TEST_F(Http2Test, Http11ClientFailsEachRequestWithAReasonAndNoHang) {
  OpenAiConfig c;
  c.url = server_->url();
  c.http2 = false;  // HTTP/1.1, which this server does not speak
  c.timeout_s = 5;
  auto e = OpenAiEngine::open(c);
  ASSERT_TRUE(e.ok());
  BatchRequest b;
  b.batch = 3;
  b.input_tokens = 4;
  b.output_tokens = 4;
  SteadyClock clock;
  const double t0 = clock.now().value();
  auto r = (*e)->run_batch(b, clock, nullptr);
  // A hang bound only (far above the 5 s no-data timeout), not a claim about speed.
  EXPECT_LT(clock.now().value() - t0, testing::kHangBoundS);
  ASSERT_EQ((*e)->last_results().size(), 3u);
  for (const auto& q : (*e)->last_results()) {
    EXPECT_FALSE(q.ok);
    EXPECT_FALSE(q.error.empty());
  }
  EXPECT_TRUE(read_log(log_).empty());
}

}  // namespace
}  // namespace jouleperf
