#include "jouleperf/engine/text_prompt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "jouleperf/engine/prompt.hpp"

namespace jouleperf {
namespace {

// Common English words: one or two tokens in every vocabulary seen in practice, and no
// text a server would read as a special token.
constexpr std::array<std::string_view, 64> kWords = {
    "the",   "of",    "and",    "to",      "in",      "is",     "was",    "for",   "on",    "with",  "as",
    "by",    "at",    "from",   "this",    "that",    "time",   "people", "year",  "way",   "day",   "man",
    "thing", "world", "life",   "hand",    "part",    "child",  "eye",    "woman", "place", "work",  "week",
    "case",  "point", "number", "group",   "problem", "fact",   "water",  "house", "city",  "river", "light",
    "table", "music", "paper",  "garden",  "window",  "market", "story",  "road",  "stone", "field", "bird",
    "tree",  "door",  "night",  "morning", "letter",  "friend", "school", "train", "cloud"};

// A single-token piece appended when whole words overshoot: a space and a letter.
constexpr std::string_view kUnit = " a";
// Single characters tried last, appended to the nearest text below the target.
constexpr std::string_view kTail = ".,;:!?-s";

std::uint64_t abs_diff(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : b - a; }

// The calibration's state: the counter, the budget and the best and bracketing texts seen.
class Search {
 public:
  Search(std::uint64_t target, const TokenCounter& count, std::uint32_t budget)
      : target_(target), count_(count), budget_(budget) {
    best_.target = target;
  }
  bool exhausted() const { return used_ >= budget_; }
  std::uint32_t left() const { return budget_ - used_; }
  // The server's count for `text`; remembers the nearest to the target.
  Result<std::uint64_t> measure(const std::string& text) {
    ++used_;
    best_.round_trips = used_;
    auto c = count_(text);
    if (!c) return c.error();
    const bool nearer = !have_ || abs_diff(*c, target_) < abs_diff(best_.tokens, target_) ||
                        (abs_diff(*c, target_) == abs_diff(best_.tokens, target_) && *c < best_.tokens);
    if (nearer) {
      best_.text = text;
      best_.tokens = *c;
      have_ = true;
    }
    if (*c < target_ && (!below_ || *c >= below_tokens_)) {
      below_ = text;
      below_tokens_ = *c;
    }
    return *c;
  }
  bool done() const { return have_ && best_.exact(); }
  CalibratedText result() const { return best_; }
  const std::optional<std::string>& below() const { return below_; }
  std::uint64_t below_tokens() const { return below_tokens_; }

 private:
  std::uint64_t target_;
  const TokenCounter& count_;
  std::uint32_t budget_;
  std::uint32_t used_ = 0;
  bool have_ = false;
  CalibratedText best_;
  std::optional<std::string> below_;  // the longest-count text under the target
  std::uint64_t below_tokens_ = 0;
};

}  // namespace

Result<PromptMode> parse_prompt_mode(std::string_view s) {
  if (s == "ids") return PromptMode::kIds;
  if (s == "text") return PromptMode::kText;
  return make_error(Errc::kInvalidArgument, "unknown prompt mode '" + std::string(s) + "' (ids, text)");
}

std::string_view prompt_mode_name(PromptMode m) { return m == PromptMode::kText ? "text" : "ids"; }

Result<TokenizeApi> parse_tokenize_api(std::string_view s) {
  if (s == "auto") return TokenizeApi::kAuto;
  if (s == "llama") return TokenizeApi::kLlama;
  if (s == "vllm") return TokenizeApi::kVllm;
  if (s == "tgi") return TokenizeApi::kTgi;
  return make_error(Errc::kInvalidArgument, "unknown tokenize API '" + std::string(s) + "' (auto, llama, vllm, tgi)");
}

std::string_view tokenize_api_name(TokenizeApi a) {
  switch (a) {
    case TokenizeApi::kLlama: return "llama";
    case TokenizeApi::kVllm: return "vllm";
    case TokenizeApi::kTgi: return "tgi";
    case TokenizeApi::kAuto: break;
  }
  return "auto";
}

std::string synthetic_words(std::uint64_t words, std::uint64_t seed, std::uint64_t index) {
  std::vector<std::int32_t> allowed(kWords.size());
  for (std::size_t i = 0; i < allowed.size(); ++i) allowed[i] = static_cast<std::int32_t>(i);
  std::string out;
  for (std::int32_t w : random_prompt(allowed, words, seed, index)) {
    if (!out.empty()) out += ' ';
    out += kWords[static_cast<std::size_t>(w)];
  }
  return out;
}

Result<CalibratedText> calibrate_text(std::uint64_t target, std::uint64_t seed, std::uint64_t index,
                                      const TokenCounter& count, std::uint32_t max_round_trips) {
  if (target == 0) return make_error(Errc::kInvalidArgument, "a text prompt needs at least 1 token");
  if (max_round_trips < 4) return make_error(Errc::kInvalidArgument, "calibration needs a budget of >= 4 round trips");
  Search s(target, count, max_round_trips);
  // 1. The empty text: what the server adds by itself (BOS, ...).
  auto c0 = s.measure("");
  if (!c0) return c0.error();
  if (*c0 >= target) return s.result();
  // 2. Whole words: bracket the target between lo words (under) and hi words (over).
  //    Interpolated steps, kept inside the middle half so the bracket shrinks every time.
  std::uint64_t lo = 0, clo = *c0;
  std::optional<std::uint64_t> hi;
  std::uint64_t chi = 0;
  std::uint64_t k = target - *c0;  // first guess: one token per word
  const std::uint32_t reserve = std::min<std::uint32_t>(max_round_trips / 2, 12);
  while (s.left() > reserve) {
    auto c = s.measure(synthetic_words(k, seed, index));
    if (!c) return c.error();
    if (*c == target) return s.result();
    if (*c < target) {
      lo = k;
      clo = *c;
    } else {
      hi = k;
      chi = *c;
    }
    if (hi && *hi - lo <= 1) break;
    if (!hi) {
      const double rate = lo > 0 && clo > *c0 ? static_cast<double>(clo - *c0) / static_cast<double>(lo) : 1.0;
      k = lo +
          std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(static_cast<double>(target - clo) / rate)));
    } else {
      const std::uint64_t span = *hi - lo;
      const double frac =
          static_cast<double>(target - clo) / static_cast<double>(std::max<std::uint64_t>(1, chi - clo));
      std::uint64_t step = static_cast<std::uint64_t>(std::llround(frac * static_cast<double>(span)));
      const std::uint64_t margin = span >= 4 ? span / 4 : 1;
      k = lo + std::clamp<std::uint64_t>(step, margin, span - margin);
    }
  }
  // 3. Characters: the prefixes between lo words and hi words, by bisection on length.
  const std::string lo_text = synthetic_words(lo, seed, index);
  if (hi) {
    const std::string hi_text = synthetic_words(*hi, seed, index);
    std::size_t a = lo_text.size(), b = hi_text.size();  // count(a) < target < count(b)
    while (b - a > 1 && s.left() > 2) {
      const std::size_t m = a + (b - a) / 2;
      auto c = s.measure(hi_text.substr(0, m));
      if (!c) return c.error();
      if (*c == target) return s.result();
      (*c < target ? a : b) = m;
    }
  }
  // 4. Single-token pieces after the longest text under the target, then single characters.
  const std::string base = s.below().value_or(lo_text);  // "" at least: its count was under the target
  {
    std::uint64_t m = target - s.below_tokens();
    std::optional<std::uint64_t> last;
    while (s.left() > 1 && m > 0 && m != last) {
      std::string t = base;
      for (std::uint64_t i = 0; i < m; ++i) t += kUnit;
      auto c = s.measure(t);
      if (!c) return c.error();
      if (*c == target) return s.result();
      last = m;
      const auto next =
          static_cast<std::int64_t>(m) + (static_cast<std::int64_t>(target) - static_cast<std::int64_t>(*c));
      if (next <= 0) break;
      m = static_cast<std::uint64_t>(next);
    }
  }
  for (char ch : kTail) {
    if (s.exhausted() || s.done() || !s.below()) break;
    auto c = s.measure(*s.below() + ch);
    if (!c) return c.error();
  }
  return s.result();
}

}  // namespace jouleperf
