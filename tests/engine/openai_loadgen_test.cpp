#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <random>

#include "jouleperf/engine/loadgen.hpp"
#include "support/http_server_openai.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

std::unique_ptr<OpenAiClient> client_for(const std::string& url, double timeout_s = 5.0) {
  OpenAiConfig c;
  c.url = url;
  c.timeout_s = timeout_s;
  auto cl = OpenAiClient::open(c);
  EXPECT_TRUE(cl.ok());
  return std::move(*cl);
}

std::vector<ScheduledRequest> evenly(std::size_t n, double gap_s, std::uint64_t i, std::uint64_t o) {
  std::vector<ScheduledRequest> s;
  for (std::size_t k = 0; k < n; ++k) s.push_back({gap_s * static_cast<double>(k), i, o});
  return s;
}

TEST(Loadgen, SendsOnScheduleAndCountsEverything) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  const auto sched = evenly(30, 0.005, 6, 5);
  auto run = run_open_loop(*c, sched, {}, clock, nullptr);
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_EQ(run->requests.size(), 30u);
  for (std::size_t k = 0; k < 30; ++k) {
    const auto& q = run->requests[k];
    EXPECT_TRUE(q.result.ok) << q.result.error;
    EXPECT_EQ(q.result.tag, k);
    EXPECT_EQ(q.result.output_tokens, 5u);
    EXPECT_NEAR(q.scheduled_s - run->start_s, 0.005 * static_cast<double>(k), 1e-9);
    EXPECT_GE(q.lateness_s, 0.0);
  }
  const auto s = summarize_load(*run, {});
  EXPECT_EQ(s.ok, 30u);
  EXPECT_EQ(s.output_tokens, 150u);
  EXPECT_EQ(s.ttft_s.n, 30u);
  EXPECT_EQ(s.itl_s.n, 120u);
  EXPECT_LT(s.lateness_s.p50, 0.02);  // loose: a shared 2-core machine
  EXPECT_GE(s.duration_s, 0.145);
}

TEST(Loadgen, AStalledRequestDoesNotDelayLaterSends) {
  std::atomic<bool> release{false};
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t i) { return i == 1 ? FakeFault::kStall : FakeFault::kNone; };
  o.release = &release;
  FakeOpenAiServer server(o);
  auto c = client_for(server.base_url(), 0.5);
  SteadyClock clock;
  auto run = run_open_loop(*c, evenly(10, 0.02, 4, 3), {}, clock, nullptr);
  release = true;
  ASSERT_TRUE(run.ok());
  const auto s = summarize_load(*run, {});
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.ok, 9u);
  EXPECT_NE(run->requests[0].result.error.find("stalled"), std::string::npos);
  // Request 9 was due at 0.18 s, long before the stall (0.5 s) ended: sent on time.
  EXPECT_LT(run->requests[9].result.send_s - run->start_s, 0.4);
}

TEST(Loadgen, ConcurrencyCapMakesSendsWaitAndShowsAsLateness) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  LoadgenOptions lo;
  lo.max_concurrency = 1;
  auto run = run_open_loop(*c, evenly(5, 0.0, 4, 20), lo, clock, nullptr);
  ASSERT_TRUE(run.ok());
  for (std::size_t k = 1; k < 5; ++k) {
    EXPECT_GE(run->requests[k].result.send_s, run->requests[k - 1].result.end_s);
    EXPECT_GT(run->requests[k].lateness_s, 0.0);
  }
}

TEST(Loadgen, HoldsAFastPoissonSchedule) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  std::vector<ScheduledRequest> sched;
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> gap(1000.0);  // 1000 requests/s
  double t = 0;
  for (int k = 0; k < 1000; ++k) sched.push_back({t += gap(rng), 4, 2});
  auto run = run_open_loop(*c, sched, {}, clock, nullptr);
  ASSERT_TRUE(run.ok());
  const auto s = summarize_load(*run, {});
  EXPECT_EQ(s.ok, 1000u);
  EXPECT_EQ(s.output_tokens, 2000u);
  // A figure, not a tight bound (a shared 2-core machine also runs the server here).
  RecordProperty("lateness_p50_us", static_cast<int>(s.lateness_s.p50 * 1e6));
  RecordProperty("lateness_p99_us", static_cast<int>(s.lateness_s.p99 * 1e6));
  std::printf("1000 req/s Poisson, 1000 requests: send lateness p50 %.0f us, p99 %.0f us, max %.0f us\n",
              s.lateness_s.p50 * 1e6, s.lateness_s.p99 * 1e6, s.lateness_s.max * 1e6);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(s.lateness_s.p50, 0.02);  // optimized builds only: a sanitizer build is many times slower
#endif
}

TEST(Loadgen, ReusesOneKeepAliveConnectionForSequentialRequests) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  LoadgenOptions lo;
  lo.max_concurrency = 1;  // one at a time: every request can take the pooled handle's connection
  auto run = run_open_loop(*c, evenly(20, 0.0, 4, 2), lo, clock, nullptr);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(summarize_load(*run, {}).ok, 20u);
  EXPECT_EQ(server.server().connections(), 1u);
  EXPECT_EQ(server.server().requests(), 20u);
}

TEST(Loadgen, SendTimeIsWhenTheHeadWasWrittenAndNeverBeforeTheSchedule) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  auto run = run_open_loop(*c, evenly(10, 0.003, 4, 3), {}, clock, nullptr);
  ASSERT_TRUE(run.ok());
  for (const auto& q : run->requests) {
    ASSERT_TRUE(q.result.ok) << q.result.error;
    EXPECT_GE(q.result.send_s, q.scheduled_s);
    EXPECT_DOUBLE_EQ(q.lateness_s, q.result.send_s - q.scheduled_s);
    EXPECT_LE(q.result.send_s, q.result.token_s.front());
  }
  // A refused connection never writes a head: its send time is when it was submitted.
  auto refused = client_for("http://127.0.0.1:" + std::to_string(testing::HttpServer::closed_port()));
  auto r2 = run_open_loop(*refused, evenly(1, 0.0, 4, 3), {}, clock, nullptr);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->requests[0].result.ok);
  EXPECT_GE(r2->requests[0].result.send_s, r2->start_s);
  EXPECT_LE(r2->requests[0].result.send_s, r2->requests[0].result.end_s);
}

TEST(Loadgen, SleepsRatherThanSpinsBetweenDistantSends) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  auto cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const double cpu0 = cpu();
  auto run = run_open_loop(*c, evenly(3, 0.15, 4, 2), {}, clock, nullptr);
  const double used = cpu() - cpu0;
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(summarize_load(*run, {}).ok, 3u);
  EXPECT_GE(run->end_s - run->start_s, 0.3);
  EXPECT_LT(used, 0.1);  // a busy loop would burn most of the 0.3 s
}

TEST(Loadgen, RejectsABadSpinWindow) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  LoadgenOptions lo;
  lo.spin_s = -1e-6;
  EXPECT_EQ(run_open_loop(*c, evenly(1, 0.0, 1, 1), lo, clock, nullptr).error().code, Errc::kInvalidArgument);
}

TEST(Loadgen, RejectsBadSchedules) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto c = client_for(server.base_url());
  SteadyClock clock;
  std::vector<ScheduledRequest> unsorted = {{0.2, 1, 1}, {0.1, 1, 1}};
  EXPECT_EQ(run_open_loop(*c, unsorted, {}, clock, nullptr).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(run_open_loop(*c, {}, {}, clock, nullptr).error().code, Errc::kInvalidArgument);
}

TEST(Loadgen, SloParsingAndGoodput) {
  auto slo = parse_slo("ttft=0.5, tpot=0.05");
  ASSERT_TRUE(slo.ok());
  EXPECT_EQ(slo->ttft_s, 0.5);
  EXPECT_EQ(slo->tpot_s, 0.05);
  EXPECT_FALSE(slo->e2e_s);
  EXPECT_FALSE(parse_slo("ttft=-1").ok());
  EXPECT_FALSE(parse_slo("latency=1").ok());
  EXPECT_FALSE(parse_slo("ttft").ok());
  LoadgenRun run;
  run.start_s = 10.0;
  run.end_s = 12.0;
  auto add = [&](bool ok, double send, std::vector<double> tokens) {
    LoadgenRequest q;
    q.result.ok = ok;
    q.result.send_s = send;
    q.result.token_s = tokens;
    q.result.output_tokens = tokens.size();
    q.result.end_s = tokens.empty() ? send : tokens.back();
    run.requests.push_back(q);
  };
  add(true, 10.0, {10.1, 10.14, 10.18});  // ttft 0.1, tpot 0.04: meets
  add(true, 10.5, {11.2, 11.22});         // ttft 0.7: misses
  add(true, 11.0, {11.1, 11.3});          // tpot 0.2: misses
  add(false, 11.5, {});
  const auto s = summarize_load(run, *slo);
  EXPECT_EQ(s.ok, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.slo_met, 1u);
  EXPECT_DOUBLE_EQ(s.goodput_rps, 0.5);
  EXPECT_DOUBLE_EQ(s.throughput_rps, 1.5);
  EXPECT_EQ(s.ttft_s.n, 3u);  // failures are not in the percentiles
  EXPECT_NEAR(s.ttft_s.p50, 0.1, 1e-12);
  EXPECT_NEAR(s.ttft_s.max, 0.7, 1e-12);
}

TEST(Loadgen, PercentilesMatchNumpyLinear) {
  auto p = percentiles({4, 1, 3, 2, 5, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(p.p50, 5.5);
  EXPECT_NEAR(p.p90, 9.1, 1e-12);
  EXPECT_NEAR(p.p99, 9.91, 1e-12);
  EXPECT_DOUBLE_EQ(p.mean, 5.5);
}

}  // namespace
}  // namespace jouleperf
