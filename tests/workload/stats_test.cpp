#include "jouleperf/workload/stats.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "jouleperf/workload/json.hpp"
#include "support/temp_dir.hpp"
#include "workload/trace_test_util.hpp"

namespace jouleperf::workload {
namespace {

using testing::fixture;

// The generator numpy's reference values below were computed from (python3 + numpy 1.24:
// np.quantile(v, q) and np.std(v), printed with float.hex()).
std::vector<std::uint32_t> lcg(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> out;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(static_cast<std::uint32_t>((x >> 33) % 100000));
  }
  return out;
}

struct NumpyCase {
  std::size_t n;
  std::uint64_t seed;
  double q[10];
  double std;
};

TEST(Quantile, MatchesNumpyBitForBit) {
  const double qs[10] = {0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 0.37, 0.123456789, 1.0};
  const NumpyCase cases[] = {
      {2,
       7,
       {0x1.edfe000000000p+15, 0x1.ef97666666666p+15, 0x1.f1fd800000000p+15, 0x1.f5fd000000000p+15,
        0x1.fc6299999999ap+15, 0x1.fdd30f5c28f5cp+15, 0x1.fdf7e7ef9db23p+15, 0x1.f3e8c7ae147aep+15,
        0x1.eff76e9db927cp+15, 0x1.fdfc000000000p+15},
       0x1.ffc0000000000p+9},
      {10,
       3,
       {0x1.0a8c000000000p+14, 0x1.71d999999999ap+14, 0x1.eaca000000000p+14, 0x1.8cbe000000000p+15,
        0x1.56d8800000000p+16, 0x1.5be4733333333p+16, 0x1.5c65a51eb851fp+16, 0x1.4e247ae147ae1p+15,
        0x1.83b9554b9192ap+14, 0x1.5c74000000000p+16},
       0x1.8a81ef323eda2p+14},
      {1001,
       42,
       {0x1.1000000000000p+5, 0x1.25a8000000000p+13, 0x1.7078000000000p+14, 0x1.6cc2000000000p+15,
        0x1.5947000000000p+16, 0x1.817b000000000p+16, 0x1.859a000000000p+16, 0x1.f61c000000000p+14,
        0x1.5edc8ada33bdap+13, 0x1.866a000000000p+16},
       0x1.c0803c2e0df17p+14},
      {8819,
       5,
       {0x1.0000000000000p+1, 0x1.2bd199999999bp+13, 0x1.876c000000000p+14, 0x1.86ca000000000p+15,
        0x1.60dc666666666p+16, 0x1.82ab947ae147ap+16, 0x1.86542e978d4fep+16, 0x1.2217c28f5c28fp+15,
        0x1.7091adb9c88e2p+13, 0x1.869f000000000p+16},
       0x1.c54f5b3053318p+14},
  };
  for (const auto& c : cases) {
    auto v = lcg(c.n, c.seed);
    std::sort(v.begin(), v.end());
    for (int i = 0; i < 10; ++i)
      EXPECT_EQ(quantile_linear(std::span<const std::uint32_t>(v), qs[i]), c.q[i]) << "n=" << c.n << " q=" << qs[i];
    auto s = summarize_lengths(v);
    EXPECT_NEAR(s.std, c.std, c.std * 1e-12) << "n=" << c.n;
  }
  std::vector<std::uint32_t> one = {36268};
  EXPECT_EQ(quantile_linear(std::span<const std::uint32_t>(one), 0.99), 36268.0);
}

TEST(Stats, SummarizesLengths) {
  std::vector<std::uint32_t> v = {5, 1, 3, 2, 4};
  auto s = summarize_lengths(v);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.p90, 4.6);
  EXPECT_EQ(s.min, 1u);
  EXPECT_EQ(s.max, 5u);
  EXPECT_EQ(s.total, 15u);
}

Request at(double t, std::uint64_t in = 10, std::uint64_t out = 5) {
  Request r;
  r.arrival_s = t;
  r.input_tokens = in;
  r.output_tokens = out;
  return r;
}

TEST(Stats, ArrivalsInOrder) {
  StatsAccumulator acc;
  for (double t : {0.0, 1.0, 1.5, 3.5, 4.0}) acc.add(at(t));
  auto s = acc.finish({});
  ASSERT_TRUE(s.arrivals);
  EXPECT_DOUBLE_EQ(s.arrivals->duration_s, 4.0);
  EXPECT_DOUBLE_EQ(s.arrivals->rate_rps, 5.0 / 4.0);
  // gaps 1, 0.5, 2, 0.5: mean 1, population std sqrt(0.375)
  EXPECT_DOUBLE_EQ(*s.arrivals->interarrival_mean_s, 1.0);
  EXPECT_NEAR(*s.arrivals->interarrival_cv, std::sqrt(0.375), 1e-12);
  EXPECT_EQ(s.arrivals->counts, (std::vector<std::uint64_t>{1, 2, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(s.arrivals->peak_rps, 2.0);
}

TEST(Stats, ArrivalsOutOfOrderAreSortedForGaps) {
  StatsAccumulator acc;
  std::vector<double> times = {0.0, 3.5, 1.0, 4.0, 1.5};
  for (double t : times) acc.add(at(t));
  EXPECT_FALSE(acc.arrivals_in_order());
  auto s = acc.finish({}, &times);
  ASSERT_TRUE(s.arrivals);
  EXPECT_FALSE(s.arrivals->in_file_order);
  EXPECT_DOUBLE_EQ(*s.arrivals->interarrival_mean_s, 1.0);
  EXPECT_NEAR(*s.arrivals->interarrival_cv, std::sqrt(0.375), 1e-12);
}

TEST(Stats, UnsortedFileIsReadTwiceForGaps) {
  jouleperf::testing::TempDir dir;
  const auto p = dir.write("u.csv",
                           "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                           "10,ChatGPT,1,1,2,API log\n13.5,ChatGPT,1,1,2,API log\n11,ChatGPT,1,1,2,API log\n"
                           "14,ChatGPT,1,1,2,API log\n11.5,ChatGPT,1,1,2,API log\n");
  auto s = compute_trace_stats(p.string(), {});
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  ASSERT_TRUE(s->arrivals);
  EXPECT_FALSE(s->arrivals->in_file_order);
  EXPECT_DOUBLE_EQ(s->arrivals->duration_s, 4.0);
  ASSERT_TRUE(s->arrivals->interarrival_cv);
  EXPECT_NEAR(*s->arrivals->interarrival_cv, std::sqrt(0.375), 1e-12);
}

TEST(Stats, AutomaticBucketsStayBounded) {
  StatsOptions o;
  o.max_buckets = 100;
  StatsAccumulator acc(o);
  for (int i = 0; i < 1000; ++i) acc.add(at(i * 1.0));
  acc.add(at(-3.0));  // before the first row: still counted
  auto s = acc.finish({});
  ASSERT_TRUE(s.arrivals);
  EXPECT_LE(s.arrivals->counts.size(), 100u);
  EXPECT_DOUBLE_EQ(s.arrivals->bucket_s, 16.0);
  std::uint64_t total = 0;
  for (auto c : s.arrivals->counts) total += c;
  EXPECT_EQ(total, 1001u);
  EXPECT_DOUBLE_EQ(s.arrivals->series_start_s, -16.0);
}

TEST(Stats, BurstGptFixtureWithFilter) {
  LoadOptions o;
  o.where.push_back({"Model", "ChatGPT"});
  auto s = compute_trace_stats(fixture("burstgpt.csv"), o);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->requests, 2u);
  EXPECT_EQ(s->load.failed_excluded, 1u);
  EXPECT_DOUBLE_EQ(s->input->mean, (472.0 + 1087.0) / 2);
  const auto j = to_json(*s);
  for (const char* k : {"requests", "failed_excluded", "input", "output", "duration_s", "rate_rps", "interarrival_cv"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"mean", "std", "median", "p90", "p99", "min", "max"}) EXPECT_TRUE(j["input"].contains(k)) << k;
  EXPECT_EQ(j["requests"], 2);
  EXPECT_EQ(j["failed_excluded"], 1);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 40.0);
}

TEST(Stats, TraceWithoutTimesOrRequests) {
  LoadOptions o;
  o.input_col = "prompt_len";
  o.output_col = "completion_len";
  auto s = compute_trace_stats(fixture("generic.csv"), o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->requests, 3u);
  EXPECT_FALSE(s->arrivals.has_value());
  EXPECT_TRUE(to_json(*s)["duration_s"].is_null());
  auto empty = compute_trace_stats(fixture("header_only.csv"), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no requests"), std::string::npos) << empty.error().message;
  // Rows all filtered out still give empty statistics (the file had requests).
  LoadOptions none;
  none.to_s = -1.0;
  auto filtered = compute_trace_stats(fixture("azure_2023.csv"), none);
  ASSERT_TRUE(filtered.ok()) << filtered.error().to_string();
  EXPECT_EQ(filtered->requests, 0u);
  EXPECT_FALSE(filtered->input.has_value());
  EXPECT_TRUE(to_json(*filtered)["input"].is_null());
}

// The paper's Table 1 figures for the Azure 2023 traces (CC-BY 4.0, Patel et al.,
// "Splitwise", ISCA 2024), recomputed from ../shared/data when it is present.
std::string azure(const char* name) {
  return std::string(JP_SHARED_DATA_DIR) + "/AzureLLMInferenceTrace_" + name + ".csv";
}

TEST(AzureTraces, Code2023Stats) {
  if (!std::filesystem::exists(azure("code"))) GTEST_SKIP() << "no " << azure("code");
  auto s = compute_trace_stats(azure("code"), {});
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->requests, 8819u);
  EXPECT_NEAR(s->input->mean, 2047.85, 0.005);
  EXPECT_EQ(s->input->median, 1469.0);
  EXPECT_EQ(s->input->p99, 7436.0);
  EXPECT_NEAR(s->output->mean, 27.88, 0.005);
  EXPECT_EQ(s->output->median, 13.0);
  ASSERT_TRUE(s->arrivals);
  EXPECT_NEAR(s->arrivals->duration_s, 3435.948, 0.001);
}

TEST(AzureTraces, Conv2023Stats) {
  if (!std::filesystem::exists(azure("conv"))) GTEST_SKIP() << "no " << azure("conv");
  auto s = compute_trace_stats(azure("conv"), {});
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->requests, 19366u);
  EXPECT_NEAR(s->input->mean, 1154.70, 0.005);
  EXPECT_EQ(s->input->median, 1020.0);
  EXPECT_EQ(s->input->p99, 4142.0);
  EXPECT_NEAR(s->output->mean, 211.13, 0.005);
  EXPECT_EQ(s->output->median, 129.0);
  ASSERT_TRUE(s->arrivals);
  EXPECT_NEAR(s->arrivals->rate_rps, 19366 / 3501.722, 1e-3);
}

}  // namespace
}  // namespace jouleperf::workload
