#include "jouleperf/workload/fields.hpp"

#include <gtest/gtest.h>

#include "jouleperf/workload/request.hpp"
#include "jouleperf/workload/timestamp.hpp"

namespace jouleperf::workload {
namespace {

TEST(SplitCsv, PlainQuotedAndEmptyFields) {
  std::vector<std::string_view> f;
  std::string scratch;
  ASSERT_TRUE(split_csv("a,b,,d", f, scratch).ok());
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[2], "");
  ASSERT_TRUE(split_csv("\"x, y\",\"he said \"\"hi\"\"\",z", f, scratch).ok());
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "x, y");
  EXPECT_EQ(f[1], "he said \"hi\"");
  EXPECT_EQ(f[2], "z");
  ASSERT_TRUE(split_csv("a,", f, scratch).ok());
  EXPECT_EQ(f.size(), 2u);
  EXPECT_FALSE(split_csv("\"open,b", f, scratch).ok());
  EXPECT_FALSE(split_csv("a\"b,c", f, scratch).ok());
  EXPECT_FALSE(split_csv("\"a\"x,c", f, scratch).ok());
}

TEST(TokenCount, StrictAboutSignsFractionsAndGarbage) {
  EXPECT_EQ(*parse_token_count(" 42 ", "n"), 42u);
  EXPECT_EQ(*parse_token_count("42.000", "n"), 42u);
  EXPECT_EQ(*parse_token_count("0", "n"), 0u);
  EXPECT_NE(parse_token_count("-1", "n").error().message.find("negative"), std::string::npos);
  EXPECT_NE(parse_token_count("1.5", "n").error().message.find("whole"), std::string::npos);
  EXPECT_NE(parse_token_count("", "n").error().message.find("empty"), std::string::npos);
  EXPECT_FALSE(parse_token_count("1e3", "n").ok());
  EXPECT_FALSE(parse_token_count("12abc", "n").ok());
  EXPECT_FALSE(parse_token_count("+3", "n").ok());
  EXPECT_FALSE(parse_token_count("NaN", "n").ok());
  EXPECT_FALSE(parse_token_count("4294967296", "n").ok());
  EXPECT_EQ(*parse_token_count("4294967295", "n"), 4294967295u);
  EXPECT_FALSE(parse_token_count("99999999999999999999999", "n").ok());
}

TEST(Timestamp, AzureFormatsAndOffsets) {
  // 2023-11-16 18:17:03 UTC = 1700158623 s since the epoch.
  EXPECT_EQ(*parse_datetime_ns("2023-11-16 18:17:03.9799600"), 1700158623'979960000);
  EXPECT_EQ(*parse_datetime_ns("2024-05-10 00:00:00.009930+00:00"), 1715299200'009930000);
  EXPECT_EQ(*parse_datetime_ns("2024-05-10T02:00:00+02:00"), 1715299200'000000000);
  EXPECT_EQ(*parse_datetime_ns("2024-05-09 19:00:00-0500"), 1715299200'000000000);
  EXPECT_EQ(*parse_datetime_ns("2024-05-10 00:00:00Z"), 1715299200'000000000);
  EXPECT_EQ(*parse_datetime_ns("1970-01-01 00:00:00.123456789123"), 123456789);
  EXPECT_EQ(*parse_datetime_ns("2024-02-29 00:00:00"), 1709164800'000000000);
  EXPECT_FALSE(parse_datetime_ns("2023-02-29 00:00:00").ok());
  EXPECT_FALSE(parse_datetime_ns("2023-04-31 00:00:00").ok());
  EXPECT_FALSE(parse_datetime_ns("2023-11-16 24:00:00").ok());
  EXPECT_FALSE(parse_datetime_ns("2023-11-16").ok());
  EXPECT_FALSE(parse_datetime_ns("2023-11-16 18:17:03.").ok());
  EXPECT_FALSE(parse_datetime_ns("2023-11-16 18:17:03 UTC").ok());
  EXPECT_FALSE(parse_datetime_ns("9999-11-16 18:17:03").ok());
  EXPECT_FALSE(parse_datetime_ns("19440110.0").ok());
}

TEST(Tags, KeysMatchLoosely) {
  EXPECT_EQ(normalize_key("Log Type"), "logtype");
  EXPECT_EQ(normalize_key("log_type"), "logtype");
  Tag tags[] = {{"Log Type", "API log"}, {"Model", "GPT-4"}};
  Request r;
  r.tags = tags;
  EXPECT_EQ(*find_tag(r, "log-type"), "API log");
  EXPECT_EQ(*find_tag(r, "MODEL"), "GPT-4");
  EXPECT_FALSE(find_tag(r, "session").has_value());
}

}  // namespace
}  // namespace jouleperf::workload
