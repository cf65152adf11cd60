#include "jouleperf/workload/length_scale.hpp"

#include <gtest/gtest.h>

namespace jouleperf::workload {
namespace {

TEST(LengthScale, RoundsUpAndKeepsBins) {
  EXPECT_EQ(scale_length_down(1, 16), 1u);
  EXPECT_EQ(scale_length_down(16, 16), 1u);
  EXPECT_EQ(scale_length_down(17, 16), 2u);
  EXPECT_EQ(scale_length_down(128, 16), 8u);
  EXPECT_EQ(scale_length_down(129, 16), 9u);
  EXPECT_EQ(scale_length_down(0, 16), 1u);
  EXPECT_EQ(scale_length_down(5, 1), 5u);
  EXPECT_EQ(scale_length_down(5, 0), 5u);
  // (128, 512] with both edges divisible by 16 maps into (8, 32].
  for (std::uint32_t x = 129; x <= 512; ++x) {
    const auto s = scale_length_down(x, 16);
    EXPECT_GT(s, 8u);
    EXPECT_LE(s, 32u);
  }
  EXPECT_EQ(scale_length_down(128, 16), 8u);  // the edge itself stays in the lower bin
}

}  // namespace
}  // namespace jouleperf::workload
