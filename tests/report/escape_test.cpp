#include "jouleperf/report/escape.hpp"

#include <gtest/gtest.h>

namespace jouleperf::report {
namespace {

TEST(Escape, HtmlEscapesEveryMetacharacter) {
  EXPECT_EQ(html_escape("<script>alert('x\"y')</script>&"),
            "&lt;script&gt;alert(&#39;x&quot;y&#39;)&lt;/script&gt;&amp;");
  EXPECT_EQ(html_escape("plain text"), "plain text");
}

TEST(Escape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(valid_utf8("a\xff"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x8B"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x8B");
  EXPECT_EQ(html_escape("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
}

TEST(Escape, JsonForScriptCannotCloseTheElementAndRoundTrips) {
  const nlohmann::json j = {
      {"model", "</script><script>alert(1)</script>"}, {"amp", "a&b"}, {"sep", "x\xE2\x80\xA8y"}, {"bad", "\xff"}};
  const std::string s = json_for_script(j);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_NE(s.find("\\u2028"), std::string::npos);
  const auto back = nlohmann::json::parse(s);
  EXPECT_EQ(back["model"], "</script><script>alert(1)</script>");
  EXPECT_EQ(back["amp"], "a&b");
  EXPECT_EQ(back["sep"], "x\xE2\x80\xA8y");
  EXPECT_EQ(back["bad"], "\xEF\xBF\xBD");
}

TEST(Escape, CsvFieldFollowsRfc4180) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
}

TEST(Escape, MarkdownCellKeepsTheTableShape) {
  EXPECT_EQ(markdown_cell("a|b\nc"), "a\\|b c");
  EXPECT_EQ(markdown_cell("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
}

TEST(Escape, ConsoleTextShowsControlCharacters) {
  EXPECT_EQ(console_text("red\x1b[31m!\n"), "red\\x1b[31m!\\x0a");
  EXPECT_EQ(console_text("csi\xC2\x9B"
                         "2J"),
            "csi\\u009b2J");
  EXPECT_EQ(console_text("caf\xC3\xA9"), "caf\xC3\xA9");
}

}  // namespace
}  // namespace jouleperf::report
