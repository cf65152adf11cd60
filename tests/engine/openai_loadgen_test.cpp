#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>

#include "jouleperf/engine/loadgen.hpp"
#include "support/http_server_openai.hpp"
#include "support/wait.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

// The default no-data timeout only bounds a hang: the fake server answers at once.
std::unique_ptr<OpenAiClient> client_for(const std::string& url, double timeout_s = 30.0) {
  OpenAiConfig c;
  c.url = url;
  c.timeout_s = timeout_s;
  auto cl = OpenAiClient::open(c);
  EXPECT_TRUE(cl.ok());
  return std::move(*cl);
}

// The steady clock, counting how often it is read: a loop that spins reads it without
// pause, one that sleeps reads it a few times per wake-up. A count, not a duration, so
// it holds however loaded the machine is.
class CountingClock final : public Clock {
 public:
  Seconds now() const override {
    reads_.fetch_add(1);
    return inner_.now();
  }
  void sleep_until(Seconds t) const override { inner_.sleep_until(t); }
  std::uint64_t reads() const { return reads_.load(); }

 private:
  SteadyClock inner_;
  mutable std::atomic<std::uint64_t> reads_{0};
};

std::vector<ScheduledRequest> evenly(std::size_t n, double gap_s, std::uint64_t i, std::uint64_t o) {
  std::vector<ScheduledRequest> s;
  for (std::size_t k = 0; k < n; ++k) s.push_back({gap_s * static_cast<double>(k), i, o});
  return s;
}

// Order and counts only: how late sends are under load is a speed figure, measured by
// bench/loadgen_bench.cpp (docs/performance.md, "Open-loop load generator").
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
    EXPECT_EQ(q.result.token_s.size(), 5u);
    EXPECT_NEAR(q.scheduled_s - run->start_s, 0.005 * static_cast<double>(k), 1e-9);
    EXPECT_LE(q.scheduled_s, q.result.send_s) << k;  // never sent before it was due
    EXPECT_GE(q.lateness_s, 0.0);
    EXPECT_LE(q.result.end_s, run->end_s);
  }
  const auto s = summarize_load(*run, {});
  EXPECT_EQ(s.requests, 30u);
  EXPECT_EQ(s.ok, 30u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.output_tokens, 150u);
  EXPECT_EQ(s.ttft_s.n, 30u);
  EXPECT_EQ(s.itl_s.n, 120u);
  EXPECT_EQ(s.lateness_s.n, 30u);
  EXPECT_EQ(server.server().requests(), 30u);
  EXPECT_LE(run->requests.back().scheduled_s, run->end_s);  // the run lasts past its last due send
}

TEST(Loadgen, AStalledRequestDoesNotDelayLaterSends) {
  // The first request to reach the server is held (no answer at all) until every one of
  // the ten requests has reached it, then cut off with a reset. A loadgen that waited on
  // it would never send the others: the held request would end only at the client's
  // no-data timeout (the hang bound here), after which the others go out, failing the
  // order checks below. Nothing depends on how fast the machine is.
  FakeOpenAiServer* srv = nullptr;
  std::atomic<bool> all_arrived{true};
  FakeOpenAiOptions o;
  o.fault = [&](std::uint64_t i) {
    if (i != 1) return FakeFault::kNone;
    all_arrived = testing::wait_until([&] { return srv->server().requests() >= 10; });
    return FakeFault::kResetMidStream;
  };
  FakeOpenAiServer server(o);
  srv = &server;
  auto c = client_for(server.base_url(), testing::kHangBoundS);
  SteadyClock clock;
  auto run = run_open_loop(*c, evenly(10, 0.02, 4, 3), {}, clock, nullptr);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(all_arrived.load()) << "the other requests never reached the server";
  const auto s = summarize_load(*run, {});
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.ok, 9u);
  const auto held =
      std::find_if(run->requests.begin(), run->requests.end(), [](const auto& q) { return !q.result.ok; });
  ASSERT_NE(held, run->requests.end());
  EXPECT_EQ(held->result.error.find("stalled"), std::string::npos) << held->result.error;  // cut off, not timed out
  for (const auto& q : run->requests) {
    if (&q == &*held) continue;
    EXPECT_TRUE(q.result.ok) << q.result.error;
    EXPECT_LT(q.result.send_s, held->result.end_s) << q.result.tag;  // sent while the held one was in flight
  }
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

// Every request of a fast schedule is sent and answered. How closely it holds the
// schedule is a speed figure: bench/loadgen_bench.cpp measures it (docs/performance.md).
TEST(Loadgen, SendsEveryRequestOfAFastPoissonSchedule) {
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
  EXPECT_EQ(s.lateness_s.n, 1000u);
  EXPECT_EQ(server.server().requests(), 1000u);
  for (std::size_t k = 0; k < run->requests.size(); ++k) {
    EXPECT_EQ(run->requests[k].result.tag, k);
    EXPECT_LE(run->requests[k].scheduled_s, run->requests[k].result.send_s) << k;
  }
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
  CountingClock clock;
  LoadgenOptions lo;
  lo.spin_s = 0;  // no polled stretch before each send: every wait is a sleep
  auto run = run_open_loop(*c, evenly(3, 0.15, 4, 2), lo, clock, nullptr);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(summarize_load(*run, {}).ok, 3u);
  EXPECT_LE(run->requests.back().scheduled_s, run->end_s);
  // Sleeping, the loop wakes a few times per send and per answer; spinning through the
  // 0.3 s it would read the clock once per pass, tens of thousands of times.
  EXPECT_LT(clock.reads(), 1000u);
  RecordProperty("clock_reads", static_cast<int>(clock.reads()));
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
