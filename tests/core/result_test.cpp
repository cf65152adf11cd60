#include "jouleperf/core/result.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "jouleperf/core/text.hpp"
#include "jouleperf/core/units.hpp"

namespace jouleperf {
namespace {

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 3;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = make_error(Errc::kPermissionDenied, "cannot read x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kPermissionDenied);
  EXPECT_EQ(bad.error().to_string(), "permission-denied: cannot read x");
}

TEST(Units, ArithmeticKeepsUnits) {
  const Joules e = Watts(50.0) * Seconds(2.0);
  EXPECT_DOUBLE_EQ(e.value(), 100.0);
  EXPECT_DOUBLE_EQ((e / Seconds(4.0)).value(), 25.0);
  EXPECT_DOUBLE_EQ((e / Watts(25.0)).value(), 4.0);
}

TEST(Text, ParsesStrictly) {
  EXPECT_EQ(*parse_u64(" 42\n"), 42u);
  EXPECT_FALSE(parse_u64("").ok());
  EXPECT_FALSE(parse_u64("-1").ok());
  EXPECT_FALSE(parse_u64("12x").ok());
  EXPECT_FALSE(parse_u64("99999999999999999999999").ok());
  EXPECT_EQ(*parse_i64("-7"), -7);
  EXPECT_DOUBLE_EQ(*parse_double("1.5e3"), 1500.0);
  EXPECT_TRUE(std::isinf(*parse_double("+Inf")));
  EXPECT_FALSE(parse_double("abc").ok());
}

TEST(Text, ReadFileMapsErrno) {
  auto r = read_text_file("/nonexistent/jouleperf/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace jouleperf
