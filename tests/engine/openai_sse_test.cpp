#include <gtest/gtest.h>

#include "jouleperf/engine/sse.hpp"

namespace jouleperf {
namespace {

std::vector<SseEvent> parse_all(std::string_view s, std::size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < s.size(); i += piece) EXPECT_TRUE(p.feed(s.substr(i, piece), out).ok());
  return out;
}

TEST(Sse, DataLinesEventsAndComments) {
  const std::string s = ": keep-alive\nevent: add\nid: 7\ndata: a\ndata:b\n\ndata:  two spaces\n\n";
  auto ev = parse_all(s, s.size());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event, "add");
  EXPECT_EQ(ev[0].id, "7");
  EXPECT_EQ(ev[0].data, "a\nb");
  EXPECT_EQ(ev[1].data, " two spaces");  // only one leading space is dropped
  EXPECT_EQ(ev[1].event, "");
}

TEST(Sse, AnySplitGivesTheSameEvents) {
  const std::string s = "data: {\"x\":1}\r\n\r\ndata: y\r\rdata: z\n\ndata: [DONE]\r\n\r\n";
  const auto whole = parse_all(s, s.size());
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0].data, "{\"x\":1}");
  EXPECT_EQ(whole[1].data, "y");
  EXPECT_EQ(whole[3].data, "[DONE]");
  for (std::size_t piece = 1; piece < s.size(); ++piece) {
    const auto split = parse_all(s, piece);
    ASSERT_EQ(split.size(), whole.size()) << piece;
    for (std::size_t i = 0; i < split.size(); ++i) EXPECT_EQ(split[i].data, whole[i].data) << piece;
  }
}

TEST(Sse, CrLfSplitAcrossPiecesIsOneLineEnd) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: a\r", out).ok());
  ASSERT_TRUE(p.feed("\n\r", out).ok());  // LF belongs to the CR; the next CR is a blank line
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a");
}

TEST(Sse, EventWithoutDataIsNotDispatchedAndUnknownFieldsIgnored) {
  auto ev = parse_all("event: ping\n\nretry: 10\nfoo: bar\ndata\n\n", 3);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");  // "data" with no colon is a data line with an empty value
}

TEST(Sse, MidEventAtEndIsReported) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: partial", out).ok());
  EXPECT_TRUE(p.mid_event());
  ASSERT_TRUE(p.feed("\n\n", out).ok());
  EXPECT_FALSE(p.mid_event());
  EXPECT_EQ(out.size(), 1u);
}

TEST(Sse, RunawayEventFailsWithParse) {
  SseParser p(64);
  std::vector<SseEvent> out;
  auto st = p.feed(std::string(100, 'x'), out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kParse);
  EXPECT_FALSE(p.feed("\n\n", out).ok());  // unusable after failing
}

}  // namespace
}  // namespace jouleperf
