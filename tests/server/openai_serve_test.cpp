// The openai engine serves through the same Engine::serve contract as llama.cpp: requests
// sent at their arrival times, at most max_batch in flight, results in the order given.
#include <gtest/gtest.h>

#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/serve.hpp"
#include "support/http_server_openai.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

std::unique_ptr<OpenAiEngine> engine_for(const FakeOpenAiServer& server) {
  OpenAiConfig c;
  c.url = server.base_url();
  c.timeout_s = 5.0;
  auto e = OpenAiEngine::open(c);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? std::move(*e) : nullptr;
}

TEST(OpenAiServe, ServesOnScheduleInTheOrderGiven) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto e = engine_for(server);
  ASSERT_NE(e, nullptr);
  // Not sorted by arrival: the result keeps the order given.
  const std::vector<ServeRequest> reqs = {{0.04, 4, 3, 1}, {0.0, 4, 2, 1}, {0.02, 6, 4, 1}};
  ServeOptions o;
  o.max_batch = 2;
  SteadyClock clock;
  auto r = e->serve(reqs, o, clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->requests.size(), 3u);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = r->requests[i];
    EXPECT_EQ(q.output_tokens, reqs[i].output_tokens) << i;
    EXPECT_EQ(q.token_s.size(), reqs[i].output_tokens) << i;
    EXPECT_NEAR(q.arrival_s - r->start_s, reqs[i].arrival_s, 1e-9) << i;
    EXPECT_GE(q.admitted_s, q.arrival_s - 1e-6) << i;
    EXPECT_GE(q.first_token_s, q.admitted_s) << i;
    EXPECT_GE(q.end_s, q.first_token_s) << i;
  }
  EXPECT_GE(r->peak_batch, 1u);
  EXPECT_LE(r->peak_batch, 2u);
  EXPECT_TRUE(e->last_failures().empty());
}

TEST(OpenAiServe, StaticBatchingAndFailures) {
  FakeOpenAiOptions fo;
  fo.fault = [](std::uint64_t i) { return i == 2 ? FakeFault::kHttp500 : FakeFault::kNone; };
  FakeOpenAiServer server(fo);
  auto e = engine_for(server);
  ASSERT_NE(e, nullptr);
  const std::vector<ServeRequest> reqs = {{0.0, 4, 2, 1}, {0.01, 4, 2, 1}};
  SteadyClock clock;
  ServeOptions st;
  st.batching = BatchingMode::kStatic;
  EXPECT_EQ(e->serve(reqs, st, clock, nullptr).error().code, Errc::kUnsupported);
  auto r = e->serve(reqs, ServeOptions{}, clock, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("1 of 2 requests failed"), std::string::npos) << r.error().message;
  ASSERT_EQ(e->last_failures().size(), 1u);
  EXPECT_EQ(e->last_failures()[0].request, 1u);
}

// With fail_on_request_failure off, a failed request is a record of the run (the one
// record type every engine's serve() returns): status, reason and HTTP status per request.
TEST(OpenAiServe, FailedRequestsAreResultsWhenAsked) {
  FakeOpenAiOptions fo;
  fo.fault = [](std::uint64_t i) { return i == 2 ? FakeFault::kHttp500 : FakeFault::kNone; };
  FakeOpenAiServer server(fo);
  auto e = engine_for(server);
  ASSERT_NE(e, nullptr);
  const std::vector<ServeRequest> reqs = {{0.0, 4, 2, 1}, {0.01, 4, 2, 1}};
  ServeOptions o;
  o.fail_on_request_failure = false;
  SteadyClock clock;
  auto r = e->serve(reqs, o, clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->requests.size(), 2u);
  EXPECT_EQ(r->failed(), 1u);
  EXPECT_TRUE(r->requests[0].ok);
  EXPECT_TRUE(r->requests[0].error.empty());
  EXPECT_EQ(r->requests[0].http_status, 200);
  EXPECT_FALSE(r->requests[1].ok);
  EXPECT_EQ(r->requests[1].http_status, 500);
  EXPECT_NE(r->requests[1].error.find("500"), std::string::npos) << r->requests[1].error;
  EXPECT_GE(r->requests[1].lateness_s, 0.0);
  EXPECT_FALSE(r->simulated);
  // The load generator's shape of the same record keeps the status.
  const LoadgenRun run = served_as_loadgen_run(*r, reqs);
  ASSERT_EQ(run.requests.size(), 2u);
  EXPECT_TRUE(run.requests[0].result.ok);
  EXPECT_FALSE(run.requests[1].result.ok);
  EXPECT_EQ(run.requests[1].result.error, r->requests[1].error);
  EXPECT_EQ(run.requests[1].result.tag, 1u);
}

}  // namespace
}  // namespace jouleperf
