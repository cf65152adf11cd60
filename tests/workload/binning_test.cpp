#include "jouleperf/workload/binning.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "jouleperf/workload/batching.hpp"
#include "jouleperf/workload/json.hpp"
#include "jouleperf/workload/trace_binning.hpp"
#include "workload/trace_test_util.hpp"

namespace jouleperf::workload {
namespace {

using testing::fixture;

TEST(Binning, CeilingRuleAndExclusion) {
  // Lengths on, just above and beyond the edges.
  const std::vector<std::uint32_t> in = {1, 32, 33, 128, 8192, 8193, 500};
  const std::vector<std::uint32_t> out = {8, 9, 1, 512, 7, 3, 513};
  auto r = bin_requests(in, out, {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->input_edges, default_input_edges());
  EXPECT_EQ(r->counts[0][0], 1u);  // (1, 8)   -> (32, 8)
  EXPECT_EQ(r->counts[0][1], 1u);  // (32, 9)  -> (32, 16)
  EXPECT_EQ(r->counts[1][0], 1u);  // (33, 1)  -> (128, 8)
  EXPECT_EQ(r->counts[1][6], 1u);  // (128, 512) -> (128, 512)
  EXPECT_EQ(r->counts[7][0], 1u);  // (8192, 7) -> (8192, 8)
  EXPECT_EQ(r->binned, 5u);
  EXPECT_EQ(r->excluded.requests, 2u);
  EXPECT_EQ(r->excluded.by_input, 1u);
  EXPECT_EQ(r->excluded.by_output, 1u);
  EXPECT_EQ(r->excluded.tokens, 8193u + 3 + 500 + 513);
  EXPECT_DOUBLE_EQ(r->excluded.request_share, 2.0 / 7.0);
  const double all = 1 + 32 + 33 + 128 + 8192 + 8193 + 500 + 8 + 9 + 1 + 512 + 7 + 3 + 513;
  EXPECT_DOUBLE_EQ(r->excluded.token_share, (8193.0 + 3 + 500 + 513) / all);
  EXPECT_EQ(r->real_input_tokens, 1u + 32 + 33 + 128 + 8192);
  EXPECT_EQ(r->binned_input_tokens, 32u + 32 + 128 + 128 + 8192);
  EXPECT_EQ(r->binned_output_tokens, 8u + 16 + 8 + 512 + 8);
  EXPECT_DOUBLE_EQ(r->request_share(0, 0), 0.2);
  EXPECT_DOUBLE_EQ(r->token_share(7, 0), (8192.0 + 7) / (1 + 32 + 33 + 128 + 8192 + 8 + 9 + 1 + 512 + 7));
}

TEST(Binning, ClampAndOverflowPolicies) {
  const std::vector<std::uint32_t> in = {10, 100, 300};
  const std::vector<std::uint32_t> out = {5, 50, 7};
  BinningOptions o;
  o.input_edges = {16, 128};
  o.output_edges = {8, 16};
  o.policy = OutOfRange::kClamp;
  auto c = bin_requests(in, out, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->binned, 3u);
  EXPECT_EQ(c->clamped, 2u);
  EXPECT_EQ(c->counts[1][1], 1u);  // (100, 50) -> (128, 16)
  EXPECT_EQ(c->counts[1][0], 1u);  // (300, 7)  -> (128, 8)
  o.policy = OutOfRange::kOverflow;
  auto v = bin_requests(in, out, o);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->input_overflow_bin);
  EXPECT_TRUE(v->output_overflow_bin);
  EXPECT_EQ(v->input_edges, (std::vector<std::uint64_t>{16, 128, 300}));
  EXPECT_EQ(v->output_edges, (std::vector<std::uint64_t>{8, 16, 50}));
  EXPECT_EQ(v->counts[1][2], 1u);
  EXPECT_EQ(v->counts[2][0], 1u);
  EXPECT_EQ(v->excluded.requests, 0u);
  EXPECT_FALSE(bin_requests(in, out, BinningOptions{{16, 16}, {8}, OutOfRange::kExclude}).ok());
}

TEST(Binning, KsDistance) {
  const std::vector<std::uint64_t> a = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(ks_distance(a, a), 0.0);
  const std::vector<std::uint64_t> b = {5, 6, 7, 8};
  EXPECT_DOUBLE_EQ(ks_distance(a, b), 1.0);
  const std::vector<std::uint64_t> c = {2, 2, 4, 4};  // a binned with edges {2, 4}
  EXPECT_DOUBLE_EQ(ks_distance(a, c), 0.25);
  // The binned result of the same lengths agrees.
  const std::vector<std::uint32_t> in = {1, 2, 3, 4}, out = {1, 1, 1, 1};
  auto r = bin_requests(in, out, BinningOptions{{2, 4}, {1}, OutOfRange::kExclude});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->ks_input, 0.25);
  EXPECT_DOUBLE_EQ(r->ks_output, 0.0);
  EXPECT_DOUBLE_EQ(r->input_token_ratio, 12.0 / 10.0);
}

TEST(Binning, EdgeSpecs) {
  auto list = parse_edge_spec("32, 128,512");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*resolve_edges(*list, {}), (std::vector<std::uint64_t>{32, 128, 512}));
  EXPECT_FALSE(parse_edge_spec("32,32").ok());
  EXPECT_FALSE(parse_edge_spec("64,32").ok());
  EXPECT_FALSE(parse_edge_spec("32,x").ok());
  EXPECT_FALSE(parse_edge_spec("-1,5").ok());
  auto p2 = parse_edge_spec("pow2:20:300");
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*resolve_edges(*p2, {}), (std::vector<std::uint64_t>{32, 64, 128, 256}));
  EXPECT_FALSE(resolve_edges(*parse_edge_spec("pow2:5:7"), {}).ok());
  EXPECT_FALSE(parse_edge_spec("pow2:0:8").ok());
  auto q = parse_edge_spec("quantiles:4");
  ASSERT_TRUE(q.ok());
  const std::vector<std::uint32_t> sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  // numpy quantiles 0.25, 0.5, 0.75, 1 of 1..9: 3, 5, 7, 9.
  EXPECT_EQ(*resolve_edges(*q, sorted), (std::vector<std::uint64_t>{3, 5, 7, 9}));
  const std::vector<std::uint32_t> flat = {4, 4, 4, 4};
  EXPECT_EQ(*resolve_edges(*q, flat), (std::vector<std::uint64_t>{4}));
  EXPECT_FALSE(resolve_edges(*q, {}).ok());
  EXPECT_FALSE(parse_edge_spec("deciles:3").ok());
  EXPECT_EQ(*parse_out_of_range("overflow"), OutOfRange::kOverflow);
  EXPECT_FALSE(parse_out_of_range("drop").ok());
}

TEST(Batching, LargestBatchWithinMemory) {
  MemoryModel m;
  m.budget_bytes = 1000.0;
  m.weights_bytes = 200.0;
  m.kv_bytes_per_token = 2.0;
  m.max_batch = 64;
  // (1000 - 200) / (2 * (30 + 10)) = 10
  EXPECT_EQ(*max_batch_size(m, 30, 10), 10u);
  EXPECT_EQ(*max_batch_size(m, 1, 1), 64u);     // capped
  EXPECT_EQ(*max_batch_size(m, 300, 200), 0u);  // not even one fits
  m.weights_bytes = 1000.0;
  EXPECT_EQ(*max_batch_size(m, 1, 1), 0u);
  m.kv_bytes_per_token = 0;
  EXPECT_FALSE(max_batch_size(m, 1, 1).ok());
  EXPECT_EQ(*parse_bytes("80GiB"), 80.0 * 1073741824.0);
  EXPECT_EQ(*parse_bytes("16 GB"), 16e9);
  EXPECT_EQ(*parse_bytes("1.5e9"), 1.5e9);
  EXPECT_EQ(*parse_bytes("512"), 512.0);
  EXPECT_FALSE(parse_bytes("12 parsecs").ok());
  EXPECT_FALSE(parse_bytes("-1GB").ok());
}

TEST(Batching, ConcurrencyOfOverlappingRequests) {
  // Service time = 1 s per output token. Jobs: [0,2), [1,2), [1.5,4.5), [10,11).
  std::vector<TimedRequest> jobs = {{10.0, 0, 1}, {0.0, 0, 2}, {1.0, 0, 1}, {1.5, 0, 3}};
  auto c = concurrency_distribution(jobs, ServiceModel{1.0, 0.0});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_DOUBLE_EQ(c->span_s, 11.0);
  // Levels: 1 on [0,1), 2 on [1,1.5), 3 on [1.5,2), 1 on [2,4.5), 0 on [4.5,10), 1 on [10,11).
  ASSERT_EQ(c->time_share.size(), 4u);
  EXPECT_EQ(c->max, 3u);
  EXPECT_NEAR(c->time_share[0] * 11, 5.5, 1e-12);
  EXPECT_NEAR(c->time_share[1] * 11, 1.0 + 2.5 + 1.0, 1e-12);
  EXPECT_NEAR(c->time_share[2] * 11, 0.5, 1e-12);
  EXPECT_NEAR(c->time_share[3] * 11, 0.5, 1e-12);
  EXPECT_NEAR(c->mean, (4.5 + 2 * 0.5 + 3 * 0.5) / 11, 1e-12);
  EXPECT_EQ(c->p50, 0u);  // idle exactly half the time
  EXPECT_EQ(c->p90, 1u);  // 10/11 of the time at most one request
  EXPECT_EQ(c->p99, 3u);
  EXPECT_NEAR(c->busy_share, 5.5 / 11, 1e-12);
  auto capped = concurrency_distribution(jobs, ServiceModel{1.0, 0.0}, 2);
  EXPECT_NEAR(capped->above_cap_share, 0.5 / 11, 1e-12);
  std::vector<TimedRequest> none;
  EXPECT_FALSE(concurrency_distribution(none, ServiceModel{1.0, 0.0}).ok());
  EXPECT_FALSE(concurrency_distribution(jobs, ServiceModel{0.0, 0.0}).ok());
}

TEST(TraceBinning, FixtureWithBatchesAndOccupancy) {
  TraceBinningOptions o;
  o.memory = MemoryModel{1e6, 0.0, 100.0, 8};
  o.service = ServiceModel{0.01, 0.0};
  auto r = bin_trace(fixture("azure_2023.csv"), {}, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->bins.binned, 3u);  // 9000 > 8192 and 600 > 512 are excluded
  EXPECT_EQ(r->bins.excluded.requests, 2u);
  EXPECT_EQ(r->bins.counts[3][3], 1u);  // (374, 44) -> (512, 64)
  EXPECT_EQ(r->bins.counts[3][4], 1u);  // (396, 109) -> (512, 128)
  EXPECT_EQ(r->bins.counts[5][0], 1u);  // (2048, 8) -> (2048, 8)
  ASSERT_EQ(r->batch_sizes.size(), 8u);
  EXPECT_EQ(r->batch_sizes[7][6], 1u);  // 1e6 / (100 * 8704) = 1.1
  ASSERT_TRUE(r->concurrency);
  EXPECT_EQ(r->concurrency->max, 2u);  // requests at 4.31 s and 4.32 s overlap
  const auto j = to_json(*r);
  for (const char* k : {"input_edges", "output_edges", "counts", "excluded", "fidelity", "batch_sizes", "concurrency"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["counts"].size(), 8u);
  EXPECT_EQ(j["counts"][0].size(), 7u);
  EXPECT_EQ(j["excluded"]["requests"], 2);
  // No arrival times: no occupancy estimate.
  LoadOptions g;
  g.input_col = "prompt_len";
  g.output_col = "completion_len";
  auto nt = bin_trace(fixture("generic.csv"), g, o);
  ASSERT_FALSE(nt.ok());
  EXPECT_EQ(nt.error().code, Errc::kInvalidArgument);
}

std::string azure(const char* name) {
  return std::string(JP_SHARED_DATA_DIR) + "/AzureLLMInferenceTrace_" + name + ".csv";
}

TEST(AzureTraces, DefaultEdgesExcludeAsInThePaper) {
  if (!std::filesystem::exists(azure("code")) || !std::filesystem::exists(azure("conv")))
    GTEST_SKIP() << "no Azure traces under " << JP_SHARED_DATA_DIR;
  auto code = bin_trace(azure("code"), {}, {});
  ASSERT_TRUE(code.ok()) << code.error().to_string();
  EXPECT_EQ(code->bins.excluded.requests, 27u);
  EXPECT_EQ(code->bins.binned, 8819u - 27u);
  auto conv = bin_trace(azure("conv"), {}, {});
  ASSERT_TRUE(conv.ok()) << conv.error().to_string();
  EXPECT_EQ(conv->bins.excluded.requests, 563u);
  EXPECT_EQ(conv->bins.excluded.by_input, 1u);
  EXPECT_EQ(conv->bins.excluded.by_output, 562u);
  // Ceiling bins over-count tokens (checked against an independent numpy computation).
  EXPECT_NEAR(conv->bins.token_ratio, 1.4115219669235342, 1e-12);
  EXPECT_NEAR(conv->bins.ks_input, 0.3395734723182471, 1e-12);
  EXPECT_NEAR(code->bins.ks_output, 0.385122838944495, 1e-12);
}

}  // namespace
}  // namespace jouleperf::workload
