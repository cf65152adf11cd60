#include "jouleperf/workload/fields.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/core/text.hpp"

namespace jouleperf::workload {

namespace {

// Splits a line that has no quote; false (fields unspecified) when it has one.
bool split_unquoted(std::string_view line, std::vector<std::string_view>& fields) {
  const char* const end = line.data() + line.size();
  const char* start = line.data();
  const char* p = start;
#if defined(__SSE2__)
  // 16 bytes at a time: masks of the commas and quotes in each block.
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i quote = _mm_set1_epi8('"');
  for (; end - p >= 16; p += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(block, quote)) != 0) return false;
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, comma)));
    while (mask != 0) {
      const char* at = p + __builtin_ctz(mask);
      fields.emplace_back(start, static_cast<std::size_t>(at - start));
      start = at + 1;
      mask &= mask - 1;
    }
  }
#endif
  for (; p != end; ++p) {
    if (*p == ',') {
      fields.emplace_back(start, static_cast<std::size_t>(p - start));
      start = p + 1;
    } else if (*p == '"') {
      return false;
    }
  }
  fields.emplace_back(start, static_cast<std::size_t>(end - start));
  return true;
}

}  // namespace

Status split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  if (split_unquoted(line, fields)) return {};
  fields.clear();
  scratch.clear();
  scratch.reserve(line.size());  // never reallocates below, so views into scratch stay valid
  std::size_t i = 0;
  for (;;) {
    // Leading spaces before an opening quote are tolerated.
    std::size_t j = i;
    while (j < line.size() && line[j] == ' ') ++j;
    if (j < line.size() && line[j] == '"') {
      const std::size_t out_start = scratch.size();
      std::size_t k = j + 1;
      bool closed = false;
      while (k < line.size()) {
        if (line[k] == '"') {
          if (k + 1 < line.size() && line[k + 1] == '"') {
            scratch.push_back('"');
            k += 2;
            continue;
          }
          closed = true;
          ++k;
          break;
        }
        scratch.push_back(line[k]);
        ++k;
      }
      if (!closed) return make_error(Errc::kParse, "unterminated quoted field");
      while (k < line.size() && line[k] == ' ') ++k;
      fields.emplace_back(scratch.data() + out_start, scratch.size() - out_start);
      if (k == line.size()) return {};
      if (line[k] != ',') return make_error(Errc::kParse, "unexpected character after a quoted field");
      i = k + 1;
      continue;
    }
    const std::size_t comma = line.find(',', i);
    const std::string_view field = line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
    if (field.find('"') != std::string_view::npos)
      return make_error(Errc::kParse, "stray quote inside an unquoted field");
    fields.push_back(field);
    if (comma == std::string_view::npos) return {};
    i = comma + 1;
  }
}

namespace {
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  out += printable_excerpt(s, kMax);  // control characters escaped, long text cut
  out += "'";
  return out;
}
}  // namespace

Result<std::uint64_t> parse_token_count(std::string_view field, std::string_view what) {
  // Fast path: 1 to 9 plain digits (every real token count).
  if (!field.empty() && field.size() <= 9) {
    std::uint64_t v = 0;
    bool digits = true;
    for (const char c : field) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) return v;
  }
  const std::string_view t = trim(field);
  if (t.empty()) return make_error(Errc::kParse, "empty " + std::string(what));
  std::uint64_t v = 0;
  const char* end = t.data() + t.size();
  if (t.front() == '-') {
    double d = 0;
    const auto [p, ec] = std::from_chars(t.data() + 1, end, d);
    if (ec == std::errc() && p == end)
      return make_error(Errc::kParse, "negative " + std::string(what) + " " + quoted(t));
    return make_error(Errc::kParse, std::string(what) + " is not a number: " + quoted(t));
  }
  const auto [p, ec] = std::from_chars(t.data(), end, v);
  if (ec == std::errc::result_out_of_range)
    return make_error(Errc::kParse, std::string(what) + " out of range: " + quoted(t));
  if (ec != std::errc()) return make_error(Errc::kParse, std::string(what) + " is not a number: " + quoted(t));
  if (p != end) {
    // Accept a fractional part made only of zeros ("12.0", "12."); reject anything else.
    const char* q = p;
    bool all_zero = *q == '.';
    if (all_zero)
      for (++q; q < end; ++q)
        if (*q != '0') all_zero = false;
    if (!all_zero) {
      double d = 0;
      const auto [p2, ec2] = std::from_chars(t.data(), end, d);
      if (ec2 == std::errc() && p2 == end)
        return make_error(Errc::kParse, std::string(what) + " is not a whole number: " + quoted(t));
      return make_error(Errc::kParse, std::string(what) + " is not a number: " + quoted(t));
    }
  }
  if (v > kMaxTokenCount) return make_error(Errc::kParse, std::string(what) + " out of range: " + quoted(t));
  return v;
}

Result<double> parse_finite(std::string_view field, std::string_view what) {
  std::string_view t = trim(field);
  if (t.empty()) return make_error(Errc::kParse, "empty " + std::string(what));
  std::string_view body = t;
  if (body.front() == '+') body.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
  if (ec != std::errc() || p != body.data() + body.size() || !std::isfinite(v))
    return make_error(Errc::kParse, std::string(what) + " is not a finite number: " + quoted(t));
  return v;
}

}  // namespace jouleperf::workload
