#include "jouleperf/workload/synthetic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/lengths.hpp"
#include "jouleperf/workload/random.hpp"
#include "jouleperf/workload/stats.hpp"
#include "jouleperf/workload/trace_binning.hpp"
#include "workload/trace_test_util.hpp"

namespace jouleperf::workload {
namespace {

using testing::fixture;

struct Moments {
  double mean = 0, cv = 0;
};
Moments gap_moments(const std::vector<double>& t) {
  std::vector<double> g;
  double prev = 0;
  for (double x : t) {
    g.push_back(x - prev);
    prev = x;
  }
  Moments m;
  m.mean = std::accumulate(g.begin(), g.end(), 0.0) / static_cast<double>(g.size());
  double v = 0;
  for (double x : g) v += (x - m.mean) * (x - m.mean);
  m.cv = std::sqrt(v / static_cast<double>(g.size())) / m.mean;
  return m;
}

TEST(Random, GeneratorIsTheStandardOne) {
  std::mt19937_64 rng;  // default seed 5489
  rng.discard(9999);
  EXPECT_EQ(rng(), 9981545732273789042ull);  // required by the C++ standard
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(uniform01(a), uniform01(b));
  std::mt19937_64 c(1);
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform01(c);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Random, GammaMoments) {
  std::mt19937_64 rng(3);
  for (double shape : {0.1, 0.5, 1.0, 4.0}) {
    double sum = 0, sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double x = gamma_variate(rng, shape, 2.0);
      ASSERT_GE(x, 0.0);
      sum += x;
      sq += x * x;
    }
    const double mean = sum / n, var = sq / n - mean * mean;
    EXPECT_NEAR(mean, shape * 2.0, 0.03 * shape * 2.0) << shape;
    EXPECT_NEAR(var, shape * 4.0, 0.06 * shape * 4.0) << shape;
  }
}

TEST(Arrivals, PoissonRateAndCv) {
  std::mt19937_64 rng(42);
  auto t = poisson_arrivals(5.0, 200000, rng);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(std::is_sorted(t->begin(), t->end()));
  const auto m = gap_moments(*t);
  EXPECT_NEAR(m.mean, 0.2, 0.002);
  EXPECT_NEAR(m.cv, 1.0, 0.01);
  EXPECT_FALSE(poisson_arrivals(0.0, 3, rng).ok());
  EXPECT_FALSE(poisson_arrivals(NAN, 3, rng).ok());
}

TEST(Arrivals, GammaRateAndCv) {
  for (double cv : {0.5, 1.0, 3.0}) {
    std::mt19937_64 rng(11);
    auto t = gamma_arrivals(2.0, cv, 200000, rng);
    ASSERT_TRUE(t.ok());
    const auto m = gap_moments(*t);
    EXPECT_NEAR(m.mean, 0.5, 0.5 * 0.03) << cv;
    EXPECT_NEAR(m.cv, cv, cv * 0.04) << cv;
  }
  std::mt19937_64 rng(1);
  EXPECT_FALSE(gamma_arrivals(1.0, 0.0, 3, rng).ok());
}

TEST(Arrivals, SeededAndDeterministic) {
  std::mt19937_64 a(99), b(99), c(100);
  auto x = gamma_arrivals(3.0, 2.0, 1000, a);
  auto y = gamma_arrivals(3.0, 2.0, 1000, b);
  auto z = gamma_arrivals(3.0, 2.0, 1000, c);
  EXPECT_EQ(*x, *y);
  EXPECT_NE(*x, *z);
}

TEST(Arrivals, ReplayWindowAndSpeed) {
  const std::vector<TimedRequest> trace = {{5.0, 1, 1}, {1.0, 2, 2}, {3.0, 3, 3}, {9.0, 4, 4}};
  ReplayOptions o;
  o.speed = 2.0;
  auto all = replay(trace, o);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_DOUBLE_EQ((*all)[0].arrival_s, 0.0);
  EXPECT_EQ((*all)[0].input_tokens, 2u);
  EXPECT_DOUBLE_EQ((*all)[3].arrival_s, 4.0);
  o.from_s = 2.0;
  o.to_s = 9.0;
  auto w = replay(trace, o);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 2u);
  EXPECT_DOUBLE_EQ((*w)[0].arrival_s, 0.5);  // (3 - 2) / 2
  EXPECT_DOUBLE_EQ((*w)[1].arrival_s, 1.5);
  o.speed = 0;
  EXPECT_FALSE(replay(trace, o).ok());
}

TEST(Lengths, EmpiricalResamplesObservedValues) {
  auto e = EmpiricalLengths::from_values({10, 20, 20, 30});
  ASSERT_TRUE(e.ok());
  std::mt19937_64 rng(5);
  std::map<std::uint32_t, int> seen;
  for (int i = 0; i < 40000; ++i) ++seen[e->sample(rng)];
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NEAR(seen[20] / 40000.0, 0.5, 0.01);
  EXPECT_NEAR(seen[10] / 40000.0, 0.25, 0.01);
  EXPECT_FALSE(EmpiricalLengths::from_values({}).ok());
}

TEST(Lengths, QuantileTableInterpolates) {
  auto e = EmpiricalLengths::from_quantiles({100, 200, 1000});
  ASSERT_TRUE(e.ok());
  std::mt19937_64 rng(5);
  int below_200 = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto v = e->sample(rng);
    ASSERT_GE(v, 100u);
    ASSERT_LE(v, 1000u);
    below_200 += v < 200;
  }
  EXPECT_NEAR(below_200 / 20000.0, 0.5, 0.015);
  EXPECT_FALSE(EmpiricalLengths::from_quantiles({3, 2}).ok());
  EXPECT_EQ(EmpiricalLengths::quantile_table({1, 2, 3, 4, 5}, 3), (std::vector<double>{1, 3, 5}));
}

TEST(Lengths, LogNormalFitAndSample) {
  const std::vector<std::uint32_t> v = {1, 10, 100, 1000};
  auto ln = LogNormal::fit(v);
  ASSERT_TRUE(ln.ok());
  EXPECT_NEAR(ln->mu, 1.5 * std::log(10.0), 1e-12);
  EXPECT_NEAR(ln->sigma, std::sqrt(1.25) * std::log(10.0), 1e-12);
  std::mt19937_64 rng(8);
  std::vector<std::uint32_t> s;
  for (int i = 0; i < 50001; ++i) s.push_back(ln->sample(rng));
  std::nth_element(s.begin(), s.begin() + 25000, s.end());
  EXPECT_NEAR(std::log(s[25000]), ln->mu, 0.03);  // median = exp(mu)
  const std::vector<std::uint32_t> zero = {0, 5};
  EXPECT_FALSE(LogNormal::fit(zero).ok());
}

TEST(DefaultWorkloads, EmbeddedFiguresAreConsistent) {
  ASSERT_EQ(default_workloads().size(), 2u);
  for (const auto& w : default_workloads()) {
    std::uint64_t sum = 0;
    for (auto c : w.counts) sum += c;
    EXPECT_EQ(sum + w.excluded, w.requests) << w.name;
    EXPECT_EQ(w.counts.size(), w.input_edges.size() * w.output_edges.size());
    EXPECT_EQ(w.input_quantiles.size(), 101u);
    EXPECT_NE(w.attribution.find("CC-BY 4.0"), std::string_view::npos);
    EXPECT_TRUE(std::is_sorted(w.input_quantiles.begin(), w.input_quantiles.end()));
  }
  auto conv = find_default_workload("azure-conv-2023");
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ((*conv)->requests, 19366u);
  EXPECT_EQ((*conv)->excluded, 563u);
  EXPECT_EQ((*conv)->input_quantiles[50], 1020.0);  // the median
  auto code = find_default_workload("azure-code-2023");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ((*code)->excluded, 27u);
  auto none = find_default_workload("sharegpt");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kNotFound);
}

// The embedded figures must be what the library computes from the real traces.
TEST(DefaultWorkloads, MatchTheRealTraces) {
  for (const auto& w : default_workloads()) {
    const std::string path = std::string(JP_SHARED_DATA_DIR) + "/" + std::string(w.source);
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
    auto b = bin_trace(path, {}, {});
    ASSERT_TRUE(b.ok());
    std::vector<std::uint64_t> flat;
    for (const auto& row : b->bins.counts) flat.insert(flat.end(), row.begin(), row.end());
    EXPECT_EQ(flat, std::vector<std::uint64_t>(w.counts.begin(), w.counts.end())) << w.name;
    auto s = compute_trace_stats(path, {});
    ASSERT_TRUE(s.ok());
    EXPECT_NEAR(s->arrivals->rate_rps, w.rate_rps, 1e-9 * w.rate_rps);
    EXPECT_NEAR(*s->arrivals->interarrival_cv, w.interarrival_cv, 1e-9 * w.interarrival_cv);
    auto t = load_timed_requests(path, {});
    ASSERT_TRUE(t.ok());
    std::vector<std::uint32_t> in, out;
    for (const auto& r : t->requests) {
      in.push_back(r.input_tokens);
      out.push_back(r.output_tokens);
    }
    auto fi = LogNormal::fit(in);
    EXPECT_NEAR(fi->mu, w.input_lognormal.mu, 1e-12);
    EXPECT_NEAR(fi->sigma, w.input_lognormal.sigma, 1e-12);
    EXPECT_EQ(EmpiricalLengths::quantile_table(in, 101),
              std::vector<double>(w.input_quantiles.begin(), w.input_quantiles.end()));
    EXPECT_EQ(EmpiricalLengths::quantile_table(out, 101),
              std::vector<double>(w.output_quantiles.begin(), w.output_quantiles.end()));
  }
}

TEST(Synthesize, FromEmbeddedWorkload) {
  const DefaultWorkload& w = **find_default_workload("azure-code-2023");
  SynthesisOptions o;
  o.count = 20000;
  o.lengths = LengthModel::kBins;
  std::mt19937_64 rng(1);
  auto r = synthesize(w, o, rng);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 20000u);
  // Bin (2048, 16) holds 904 of 8792 binned code requests.
  const auto hits = std::count_if(
      r->begin(), r->end(), [](const TimedRequest& q) { return q.input_tokens == 2048 && q.output_tokens == 16; });
  EXPECT_NEAR(hits / 20000.0, 904.0 / 8792.0, 0.01);
  std::vector<double> t;
  for (const auto& q : *r) t.push_back(q.arrival_s);
  EXPECT_NEAR(gap_moments(t).mean, 1.0 / w.rate_rps, 0.02 / w.rate_rps);
  o.lengths = LengthModel::kEmpirical;
  o.arrivals = ArrivalProcess::kGamma;
  std::mt19937_64 a(2), b(2);
  auto x = synthesize(w, o, a), y = synthesize(w, o, b);
  ASSERT_TRUE(x.ok());
  for (std::size_t i = 0; i < x->size(); ++i) {
    ASSERT_EQ((*x)[i].input_tokens, (*y)[i].input_tokens);
    ASSERT_EQ((*x)[i].arrival_s, (*y)[i].arrival_s);
  }
  o.arrivals = ArrivalProcess::kReplay;
  EXPECT_FALSE(synthesize(w, o, rng).ok());
}

// -n 10^12 (or a count wrapped from -1) is refused before anything is allocated.
TEST(HostileSynthesize, CountsOverTheLimitAreRefused) {
  const DefaultWorkload& w = **find_default_workload("azure-code-2023");
  SynthesisOptions o;
  std::mt19937_64 rng(1);
  for (std::size_t n : {kMaxRequests + 1, std::size_t{1'000'000'000'000}, static_cast<std::size_t>(-1)}) {
    o.count = n;
    auto r = synthesize(w, o, rng);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find("more than the limit of 10000000"), std::string::npos) << r.error().message;
    EXPECT_FALSE(poisson_arrivals(1.0, n, rng).ok());
    EXPECT_FALSE(gamma_arrivals(1.0, 2.0, n, rng).ok());
  }
  o.count = 3;
  EXPECT_TRUE(synthesize(w, o, rng).ok());
}

TEST(Synthesize, FromATrace) {
  auto t = load_timed_requests(fixture("burstgpt.csv"), {});
  ASSERT_TRUE(t.ok());
  SynthesisOptions o;
  o.arrivals = ArrivalProcess::kReplay;
  o.replay.speed = 10;
  std::mt19937_64 rng(1);
  auto r = synthesize(*t, o, rng);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_DOUBLE_EQ((*r)[3].arrival_s, 13.5);  // (140 - 5) / 10
  o.arrivals = ArrivalProcess::kPoisson;
  o.count = 500;
  auto p = synthesize(*t, o, rng);
  ASSERT_TRUE(p.ok());
  for (const auto& q : *p) {
    const bool observed =
        (q.input_tokens == 472 && q.output_tokens == 18) || (q.input_tokens == 1087 && q.output_tokens == 230) ||
        (q.input_tokens == 417 && q.output_tokens == 276) || (q.input_tokens == 900 && q.output_tokens == 120);
    ASSERT_TRUE(observed) << q.input_tokens << "," << q.output_tokens;
  }
  LoadOptions g;
  g.input_col = "prompt_len";
  g.output_col = "completion_len";
  auto nt = load_timed_requests(fixture("generic.csv"), g);
  ASSERT_TRUE(nt.ok());
  EXPECT_FALSE(synthesize(*nt, o, rng).ok());  // no rate of its own
  o.rate_rps = 3.0;
  EXPECT_TRUE(synthesize(*nt, o, rng).ok());
}

}  // namespace
}  // namespace jouleperf::workload
