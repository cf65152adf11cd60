#include "jouleperf/workload/bin_draw.hpp"

#include <gtest/gtest.h>

#include "jouleperf/workload/binning.hpp"

namespace jouleperf::workload {
namespace {

TEST(BinDraw, ReproducesEveryEmbeddedWorkloadsBinCounts) {
  for (const auto& w : default_workloads()) {
    std::mt19937_64 rng(7);
    auto reqs = draw_requests_in_bins(w, rng);
    ASSERT_TRUE(reqs.ok()) << reqs.error().message;
    std::vector<std::uint32_t> in, out;
    for (const auto& r : *reqs) {
      in.push_back(r.input_tokens);
      out.push_back(r.output_tokens);
    }
    BinningOptions opt;
    opt.input_edges.assign(w.input_edges.begin(), w.input_edges.end());
    opt.output_edges.assign(w.output_edges.begin(), w.output_edges.end());
    auto bins = bin_requests(in, out, opt);
    ASSERT_TRUE(bins.ok());
    EXPECT_EQ(bins->excluded.requests, 0u) << w.name;
    for (std::size_t i = 0; i < w.input_edges.size(); ++i) {
      for (std::size_t o = 0; o < w.output_edges.size(); ++o) {
        EXPECT_EQ(bins->counts[i][o], w.count(i, o)) << w.name << " bin " << i << "," << o;
      }
    }
    // Lengths inside bins are spread below the ceilings, as in the real trace: the
    // binned workload over-counts tokens.
    EXPECT_GT(bins->token_ratio, 1.05) << w.name;
  }
}

TEST(BinDraw, InsideABinFollowsTheMarginal) {
  // Drawn inputs of the (512, 1024] bin cover the bin, not one point of it.
  auto w = find_default_workload("azure-conv-2023");
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(1);
  auto reqs = draw_requests_in_bins(**w, rng);
  ASSERT_TRUE(reqs.ok());
  std::uint32_t lo = 0xFFFFFFFFu, hi = 0;
  for (const auto& r : *reqs) {
    if (r.input_tokens > 512 && r.input_tokens <= 1024) {
      lo = std::min(lo, r.input_tokens);
      hi = std::max(hi, r.input_tokens);
    }
  }
  EXPECT_LT(lo, 600u);
  EXPECT_GT(hi, 950u);
}

TEST(BinDraw, SameSeedSameRequests) {
  auto w = find_default_workload("azure-code-2023");
  ASSERT_TRUE(w.ok());
  std::mt19937_64 a(3), b(3);
  auto ra = draw_requests_in_bins(**w, a);
  auto rb = draw_requests_in_bins(**w, b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_EQ(ra->size(), rb->size());
  for (std::size_t k = 0; k < ra->size(); ++k) {
    EXPECT_EQ((*ra)[k].input_tokens, (*rb)[k].input_tokens);
    EXPECT_EQ((*ra)[k].output_tokens, (*rb)[k].output_tokens);
  }
}

TEST(BinDraw, ScaleLengthDownKeepsBins) {
  EXPECT_EQ(scale_length_down(1, 16), 1u);
  EXPECT_EQ(scale_length_down(16, 16), 1u);
  EXPECT_EQ(scale_length_down(17, 16), 2u);
  EXPECT_EQ(scale_length_down(128, 16), 8u);
  EXPECT_EQ(scale_length_down(129, 16), 9u);
  EXPECT_EQ(scale_length_down(0, 16), 1u);
  EXPECT_EQ(scale_length_down(5, 1), 5u);
  // (lo, hi] with edges divisible by d maps into (lo/d, hi/d].
  for (std::uint32_t x = 129; x <= 512; ++x) {
    const auto s = scale_length_down(x, 16);
    EXPECT_GT(s, 8u);
    EXPECT_LE(s, 32u);
  }
}

}  // namespace
}  // namespace jouleperf::workload
