#include "jouleperf/workload/fields.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "jouleperf/core/text.hpp"

namespace jouleperf::workload {

Status split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  if (std::memchr(line.data(), '"', line.size()) == nullptr) {
    // Fast path: no quoting anywhere.
    std::size_t start = 0;
    for (;;) {
      const void* comma = std::memchr(line.data() + start, ',', line.size() - start);
      if (comma == nullptr) {
        fields.push_back(line.substr(start));
        return {};
      }
      const std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(comma) - line.data());
      fields.push_back(line.substr(start, pos - start));
      start = pos + 1;
    }
  }
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
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}
}  // namespace

Result<std::uint64_t> parse_token_count(std::string_view field, std::string_view what) {
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
