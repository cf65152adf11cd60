// Real prompt text: files of plain lines or JSON Lines (blank lines skipped, a bad line
// named FILE:LINE), and fit_prompt's rule (cut to I, extend with the following prompts,
// wrap, sequence s takes prompt offset + s).
#include <gtest/gtest.h>

#include "jouleperf/engine/prompt.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

TEST(PromptFile, PlainLinesSkipBlankOnesAndKeepTheirLineNumbers) {
  testing::TempDir dir;
  const auto path = dir.write("p.txt", "first prompt\r\n\n   \nsecond one\nthird").string();
  auto p = load_prompt_file(path);
  ASSERT_TRUE(p) << p.error().to_string();
  ASSERT_EQ(p->texts.size(), 3u);
  EXPECT_EQ(p->texts[0], "first prompt");
  EXPECT_EQ(p->texts[1], "second one");
  EXPECT_EQ(p->texts[2], "third");
  EXPECT_EQ(p->lines, (std::vector<std::uint64_t>{1, 4, 5}));
  EXPECT_EQ(p->file_lines, 5u);
  EXPECT_EQ(p->source, path);
  EXPECT_TRUE(p->field.empty());
}

TEST(PromptFile, JsonLinesReadTheNamedField) {
  testing::TempDir dir;
  const auto path =
      dir.write("p.jsonl", "{\"prompt\": \"a b\", \"text\": \"x\"}\n\n{\"text\": \"y\", \"prompt\": \"c\"}\n").string();
  auto p = load_prompt_file(path);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->texts, (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(p->field, "prompt");
  auto t = load_prompt_file(path, "text");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->texts, (std::vector<std::string>{"x", "y"}));
}

TEST(PromptFile, AMalformedLineIsNamedByFileAndLine) {
  testing::TempDir dir;
  struct Case {
    const char* body;
    const char* line;
    const char* why;
  };
  for (const Case& c :
       {Case{"{\"prompt\": \"ok\"}\n\n{\"prompt\": 3}\n", ":3:", "not a string"},
        Case{"{\"prompt\": \"ok\"}\n{\"other\": \"x\"}\n", ":2:", "no field \"prompt\""},
        Case{"{\"prompt\": \"ok\"}\nplain text\n", ":2:", "not a JSON object"},
        Case{"{\"prompt\": \"ok\"}\n[1, 2]\n", ":2:", "not a JSON object"},
        Case{"{\"prompt\": \"  \"}\n", ":1:", "is empty"}, Case{"fine\nbad \xff byte\n", ":2:", "UTF-8"}}) {
    const auto path = dir.write("bad.txt", c.body).string();
    auto p = load_prompt_file(path);
    ASSERT_FALSE(p) << c.body;
    EXPECT_EQ(p.error().code, Errc::kParse);
    EXPECT_NE(p.error().message.find(path + c.line), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find(c.why), std::string::npos) << p.error().message;
  }
  const auto blank = dir.write("blank.txt", "\n  \n").string();
  auto b = load_prompt_file(blank);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("no prompt"), std::string::npos);
  auto missing = load_prompt_file((dir.path() / "none.txt").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

TEST(PromptFile, TextPromptAndSourceSettings) {
  EXPECT_FALSE(prompt_from_text("   "));
  auto p = prompt_from_text("Once upon a time");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->source, "text");
  const auto s = prompt_source_settings(&*p);
  EXPECT_EQ(s.front(), (std::pair<std::string, std::string>{"prompt_source", "text"}));
  EXPECT_EQ(prompt_source_settings(nullptr).front().second, "random-ids");
}

TEST(FitPrompt, CutsExtendsWrapsAndOffsetsBySequence) {
  const std::vector<std::vector<std::int32_t>> p = {{10, 11, 12}, {20}, {30, 31}};
  const std::vector<std::int32_t> sep = {5};
  // Cut: the first I tokens.
  EXPECT_EQ(fit_prompt(p, sep, 0, 0, 2, std::nullopt), (std::vector<std::int32_t>{10, 11}));
  // BOS counts in I.
  EXPECT_EQ(fit_prompt(p, sep, 0, 0, 3, 1), (std::vector<std::int32_t>{1, 10, 11}));
  // Extend: the following prompts, separated, then from the start again.
  EXPECT_EQ(fit_prompt(p, sep, 0, 0, 12, 1), (std::vector<std::int32_t>{1, 10, 11, 12, 5, 20, 5, 30, 31, 5, 10, 11}));
  // Sequence s takes prompt (offset + s) mod n.
  EXPECT_EQ(fit_prompt(p, sep, 0, 1, 4, std::nullopt), (std::vector<std::int32_t>{20, 5, 30, 31}));
  EXPECT_EQ(fit_prompt(p, sep, 1, 1, 2, std::nullopt), (std::vector<std::int32_t>{30, 31}));
  EXPECT_EQ(fit_prompt(p, sep, 0, 5, 1, std::nullopt), (std::vector<std::int32_t>{30}));
  // Exactly I, whatever I.
  for (std::uint64_t n = 1; n < 40; ++n) EXPECT_EQ(fit_prompt(p, {}, 2, 7, n, 1).size(), n);
  EXPECT_TRUE(fit_prompt(p, sep, 0, 0, 0, 1).empty());
  EXPECT_TRUE(fit_prompt({}, sep, 0, 0, 4, 1).empty());
}

}  // namespace
}  // namespace jouleperf
