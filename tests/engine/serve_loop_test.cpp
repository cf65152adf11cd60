// The online scheduler (run_serve_loop) on a fake backend and a manual clock: every
// forward costs a fixed time, so continuous and static batching can be compared exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>

#include "jouleperf/engine/serve.hpp"

namespace jouleperf {
namespace {

// One forward per step costing base_s + per_prompt_token_s per prefill token; checks
// that slots are never shared and records the most sequences held at once.
class FakeBackend final : public ServeBackend {
 public:
  FakeBackend(ManualClock& clock, const std::vector<ServeRequest>& requests, double base_s = 0.01)
      : clock_(clock), requests_(requests), base_s_(base_s) {}

  Result<std::uint64_t> forward(std::span<const StepSequence> step,
                                const std::function<void(std::size_t)>& token_ready) override {
    double cost = base_s_;
    for (const auto& q : step) {
      if (q.prefill) {
        if (!held_.insert(q.slot).second) return make_error(Errc::kInternal, "slot admitted twice");
        cost += 1e-4 * static_cast<double>(requests_[q.request].input_tokens);
      } else if (held_.count(q.slot) == 0) {
        return make_error(Errc::kInternal, "decode on a free slot");
      }
    }
    most_held = std::max(most_held, held_.size());
    clock_.advance(Seconds(cost));
    for (std::size_t k = 0; k < step.size(); ++k) token_ready(k);
    return std::uint64_t{1};
  }
  Status release(std::uint32_t slot) override {
    if (held_.erase(slot) != 1) return make_error(Errc::kInternal, "released a free slot");
    ++releases;
    return {};
  }

  std::size_t most_held = 0;
  std::size_t releases = 0;

 private:
  ManualClock& clock_;
  const std::vector<ServeRequest>& requests_;
  double base_s_;
  std::set<std::uint32_t> held_;
};

ServeOptions opts(BatchingMode m, std::uint32_t max_batch, double wait_s = 0.0) {
  ServeOptions o;
  o.batching = m;
  o.max_batch = max_batch;
  o.static_wait_s = wait_s;
  return o;
}

double mean_e2e(const ServeResult& r) {
  double sum = 0;
  for (const auto& q : r.requests) sum += q.e2e_s();
  return sum / static_cast<double>(r.requests.size());
}

void expect_consistent(const ServeResult& r, const std::vector<ServeRequest>& reqs, std::uint32_t max_batch) {
  ASSERT_EQ(r.requests.size(), reqs.size());
  EXPECT_LE(r.peak_batch, max_batch);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = r.requests[i];
    EXPECT_EQ(q.output_tokens, reqs[i].output_tokens) << i;
    EXPECT_EQ(q.input_tokens, reqs[i].input_tokens) << i;
    EXPECT_DOUBLE_EQ(q.arrival_s, r.start_s + reqs[i].arrival_s);
    EXPECT_LE(q.arrival_s, q.admitted_s) << i;
    EXPECT_LT(q.admitted_s, q.first_token_s) << i;
    EXPECT_LE(q.first_token_s, q.end_s) << i;
    EXPECT_LE(q.end_s, r.end_s);
    EXPECT_TRUE(std::is_sorted(q.token_s.begin(), q.token_s.end())) << i;
  }
}

// A long request and several short ones, arriving 5 ms apart.
std::vector<ServeRequest> mixed() {
  std::vector<ServeRequest> v;
  v.push_back({0.0, 8, 40, 1});
  for (int i = 1; i <= 6; ++i)
    v.push_back({0.005 * i, 8, static_cast<std::uint64_t>(2 + i % 3), static_cast<std::uint64_t>(i + 1)});
  return v;
}

TEST(ServeLoop, ContinuousAdmitsIntoFreeSlotsAndKeepsExactCounts) {
  const auto reqs = mixed();
  ManualClock clock(Seconds(100.0));
  FakeBackend b(clock, reqs);
  auto r = run_serve_loop(b, reqs, opts(BatchingMode::kContinuous, 3), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_consistent(*r, reqs, 3);
  EXPECT_EQ(b.most_held, 3u);
  EXPECT_EQ(r->peak_batch, 3u);
  EXPECT_EQ(b.releases, reqs.size());
  // The long request decodes throughout: one step per token, the short ones riding along.
  EXPECT_EQ(r->forwards, 40u);
  EXPECT_GT(r->mean_batch, 1.0);
  // Short requests end while the long one is still running.
  for (std::size_t i = 1; i < reqs.size(); ++i) EXPECT_LT(r->requests[i].end_s, r->requests[0].end_s) << i;
}

TEST(ServeLoop, StaticRunsBatchesToCompletion) {
  const auto reqs = mixed();
  ManualClock clock;
  FakeBackend b(clock, reqs);
  auto r = run_serve_loop(b, reqs, opts(BatchingMode::kStatic, 3), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_consistent(*r, reqs, 3);
  // Request 0 arrives alone at 0 and runs alone (wait 0); everything else waits for it.
  EXPECT_DOUBLE_EQ(r->requests[0].admitted_s, r->requests[0].arrival_s);
  for (std::size_t i = 1; i < reqs.size(); ++i) EXPECT_GE(r->requests[i].admitted_s, r->requests[0].end_s) << i;
}

TEST(ServeLoop, StaticWaitsForTheBatchToFill) {
  const std::vector<ServeRequest> reqs = {{0.0, 4, 2, 1}, {0.1, 4, 2, 2}, {0.2, 4, 2, 3}, {5.0, 4, 2, 4}};
  ManualClock clock;
  FakeBackend b(clock, reqs);
  auto r = run_serve_loop(b, reqs, opts(BatchingMode::kStatic, 4, 1.0), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_consistent(*r, reqs, 4);
  // The first three run together once the first has waited 1 s; the fourth alone later.
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(r->requests[i].admitted_s - r->start_s, 1.0, 1e-9) << i;
  EXPECT_EQ(r->peak_batch, 3u);
  EXPECT_NEAR(r->requests[3].admitted_s - r->start_s, 5.0, 1e-9);
  // Filled early: with max_batch 2 the second arrival completes the batch at 0.1 s.
  ManualClock clock2;
  FakeBackend b2(clock2, reqs);
  auto r2 = run_serve_loop(b2, reqs, opts(BatchingMode::kStatic, 2, 1.0), clock2, nullptr);
  ASSERT_TRUE(r2.ok());
  EXPECT_NEAR(r2->requests[1].admitted_s - r2->start_s, 0.1, 1e-9);
}

TEST(ServeLoop, ContinuousBeatsStaticOnMeanLatencyForMixedLengths) {
  const auto reqs = mixed();
  ManualClock c1, c2;
  FakeBackend b1(c1, reqs), b2(c2, reqs);
  auto cont = run_serve_loop(b1, reqs, opts(BatchingMode::kContinuous, 4), c1, nullptr);
  auto stat = run_serve_loop(b2, reqs, opts(BatchingMode::kStatic, 4), c2, nullptr);
  ASSERT_TRUE(cont.ok() && stat.ok());
  EXPECT_LT(mean_e2e(*cont), 0.5 * mean_e2e(*stat));
  EXPECT_LT(cont->forwards, stat->forwards);
}

TEST(ServeLoop, IdlesUntilTheNextArrival) {
  const std::vector<ServeRequest> reqs = {{2.0, 4, 3, 1}, {0.5, 4, 1, 2}};  // unsorted on purpose
  ManualClock clock;
  FakeBackend b(clock, reqs);
  auto r = run_serve_loop(b, reqs, opts(BatchingMode::kContinuous, 8), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_consistent(*r, reqs, 8);
  EXPECT_DOUBLE_EQ(r->requests[1].admitted_s, 0.5);
  EXPECT_DOUBLE_EQ(r->requests[0].admitted_s, 2.0);
  EXPECT_EQ(r->peak_batch, 1u);
  EXPECT_NEAR(r->busy_s, 4 * (0.01 + 4e-4) - 2 * 4e-4, 1e-9);  // 4 forwards, 2 with a 4-token prefill
}

TEST(ServeLoop, RejectsBadRequestsAndOptions) {
  ManualClock clock;
  std::vector<ServeRequest> none;
  FakeBackend b(clock, none);
  EXPECT_EQ(run_serve_loop(b, none, ServeOptions{}, clock, nullptr).error().code, Errc::kInvalidArgument);
  for (const ServeRequest& bad : {ServeRequest{-1.0, 1, 1, 1}, ServeRequest{0.0, 0, 1, 1}, ServeRequest{0.0, 1, 0, 1},
                                  ServeRequest{std::numeric_limits<double>::infinity(), 1, 1, 1}})
    EXPECT_EQ(validate_serve({bad}, ServeOptions{}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(validate_serve({ServeRequest{}}, opts(BatchingMode::kContinuous, 0)).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(validate_serve({ServeRequest{}}, opts(BatchingMode::kStatic, 2, -1)).error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(validate_serve({ServeRequest{}}, ServeOptions{}).ok());
}

class NoServeEngine final : public Engine {
 public:
  NoServeEngine() { info_.engine = "nothing"; }
  const EngineInfo& info() const override { return info_; }
  Result<BatchResult> run_batch(const BatchRequest&, const Clock&, Meter*) override { return BatchResult{}; }

 private:
  EngineInfo info_;
};

TEST(ServeLoop, DefaultEngineServeIsUnsupported) {
  NoServeEngine e;
  ManualClock clock;
  auto r = e.serve({ServeRequest{}}, ServeOptions{}, clock, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_NE(r.error().message.find("nothing"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
