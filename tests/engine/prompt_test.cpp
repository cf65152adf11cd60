// Synthetic prompts: exact length, reproducible from the seed, distinct per sequence,
// drawn only from the allowed tokens.
#include "jouleperf/engine/prompt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace jouleperf {
namespace {

std::vector<std::int32_t> range(std::int32_t a, std::int32_t b) {
  std::vector<std::int32_t> v;
  for (std::int32_t t = a; t < b; ++t) v.push_back(t);
  return v;
}

TEST(Prompt, ExactLengthWithAndWithoutAFirstToken) {
  const auto allowed = range(3, 1000);
  for (std::uint64_t n : {1u, 2u, 17u, 512u}) {
    EXPECT_EQ(random_prompt(allowed, n, 1, 0).size(), n);
    const auto with_bos = random_prompt(allowed, n, 1, 0, 1);
    ASSERT_EQ(with_bos.size(), n);
    EXPECT_EQ(with_bos.front(), 1);
  }
  EXPECT_TRUE(random_prompt(allowed, 0, 1, 0, 1).empty());
  EXPECT_TRUE(random_prompt({}, 5, 1, 0).empty());
}

TEST(Prompt, ReproducibleFromSeedAndDistinctPerSequence) {
  const auto allowed = range(0, 32000);
  EXPECT_EQ(random_prompt(allowed, 64, 42, 3), random_prompt(allowed, 64, 42, 3));
  EXPECT_NE(random_prompt(allowed, 64, 42, 3), random_prompt(allowed, 64, 42, 4));
  EXPECT_NE(random_prompt(allowed, 64, 42, 3), random_prompt(allowed, 64, 43, 3));
}

TEST(Prompt, DrawsOnlyAllowedTokensAndCoversThem) {
  const std::vector<std::int32_t> allowed{5, 9, 11, 200};
  const auto p = random_prompt(allowed, 4000, 7, 0);
  std::set<std::int32_t> seen(p.begin(), p.end());
  EXPECT_EQ(seen, std::set<std::int32_t>(allowed.begin(), allowed.end()));
  // Roughly uniform: each of 4 tokens near 1000 of 4000.
  for (auto t : allowed) EXPECT_NEAR(static_cast<double>(std::count(p.begin(), p.end(), t)), 1000.0, 150.0);
}

}  // namespace
}  // namespace jouleperf
