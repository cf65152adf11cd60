#include "jouleperf/sensor/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace jouleperf {

std::string_view prom_type_name(PromType t) {
  switch (t) {
    case PromType::kUntyped: return "untyped";
    case PromType::kCounter: return "counter";
    case PromType::kGauge: return "gauge";
    case PromType::kHistogram: return "histogram";
    case PromType::kSummary: return "summary";
  }
  return "untyped";
}

std::optional<std::string_view> PromSampleView::label(std::string_view label_name) const {
  for (const auto& l : labels)
    if (l.name == label_name) return l.value;
  return std::nullopt;
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_metric_start(char c) { return is_alpha(c) || c == '_' || c == ':'; }
bool is_metric_char(char c) { return is_metric_start(c) || is_digit(c); }
bool is_label_start(char c) { return is_alpha(c) || c == '_'; }
bool is_label_char(char c) { return is_label_start(c) || is_digit(c); }

// A short, printable, one-line excerpt of untrusted text for an error message.
std::string excerpt(std::string_view s) {
  constexpr std::size_t kMax = 48;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

Error line_error(std::size_t line, std::string_view reason) {
  std::string msg = "line " + std::to_string(line) + ": ";
  msg += reason;
  return make_error(Errc::kParse, std::move(msg));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// A value as Go's strconv.ParseFloat (what Prometheus uses) accepts it in practice:
// decimal floats with optional sign and exponent, and Inf/Infinity/NaN in any case.
// Hexadecimal floats are not accepted (no exporter writes them).
std::optional<double> parse_value(std::string_view tok) {
  if (tok.empty()) return std::nullopt;
  bool neg = false;
  std::string_view body = tok;
  if (body.front() == '+' || body.front() == '-') {
    neg = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return std::nullopt;
  if (is_alpha(body.front())) {
    if (iequals(body, "inf") || iequals(body, "infinity"))
      return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
  }
  if (!is_digit(body.front()) && body.front() != '.') return std::nullopt;
  double v = 0.0;
  const auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
  if (ec != std::errc() || p != body.data() + body.size()) return std::nullopt;
  return neg ? -v : v;
}

std::optional<std::int64_t> parse_timestamp(std::string_view tok) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  if (tok.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (ec != std::errc() || p != tok.data() + tok.size()) return std::nullopt;
  return v;
}

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as
// Prometheus requires of label values.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    i += len;
  }
  return true;
}

// Per-parse scratch space, reused across lines so a scrape allocates a few times at most.
struct Scratch {
  struct Pending {
    std::string_view name;
    std::string_view raw;  // as written, between the quotes
    bool escaped = false;
    std::size_t off = 0;  // into `unescaped` when escaped
    std::size_t len = 0;
  };
  std::vector<Pending> pending;
  std::vector<PromLabelView> labels;
  std::string unescaped;
};

class LineParser {
 public:
  LineParser(std::string_view line, std::size_t lineno, Scratch& sc, PromVisitor& v)
      : s_(line), line_(lineno), sc_(sc), v_(v) {}

  Status run() {
    skip_blanks();
    if (at_end()) return {};
    if (s_[i_] == '#') {
      ++i_;
      return comment();
    }
    return sample();
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  void skip_blanks() {
    while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
  }
  std::string_view token() {
    const std::size_t b = i_;
    while (i_ < s_.size() && !is_blank(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  std::string_view rest() const { return s_.substr(std::min(i_, s_.size())); }
  Error fail(std::string_view reason) const { return line_error(line_, reason); }

  // Reads a metric name at i_; empty if none starts here.
  std::string_view metric_name() {
    const std::size_t b = i_;
    if (i_ < s_.size() && is_metric_start(s_[i_])) {
      ++i_;
      while (i_ < s_.size() && is_metric_char(s_[i_])) ++i_;
    }
    return s_.substr(b, i_ - b);
  }

  Status comment() {
    skip_blanks();
    const std::string_view keyword = token();
    if (keyword != "HELP" && keyword != "TYPE") return {};  // an ordinary comment
    skip_blanks();
    const std::string_view name = metric_name();
    if (name.empty() || (!at_end() && !is_blank(s_[i_])))
      return fail("# " + std::string(keyword) + " line without a valid metric name: '" + excerpt(rest()) + "'");
    skip_blanks();
    if (keyword == "HELP") {
      const std::string_view doc = rest();
      for (std::size_t k = 0; k < doc.size(); ++k) {
        if (doc[k] != '\\') continue;
        if (k + 1 >= doc.size() || (doc[k + 1] != '\\' && doc[k + 1] != 'n'))
          return fail("invalid escape sequence '" + excerpt(doc.substr(k, 2)) + "' in the HELP text of " +
                      excerpt(name));
        ++k;
      }
      return {};
    }
    const std::string_view type_tok = token();
    if (type_tok.empty()) return fail("# TYPE line for " + excerpt(name) + " without a type");
    PromType type;
    if (type_tok == "counter") {
      type = PromType::kCounter;
    } else if (type_tok == "gauge") {
      type = PromType::kGauge;
    } else if (type_tok == "histogram") {
      type = PromType::kHistogram;
    } else if (type_tok == "summary") {
      type = PromType::kSummary;
    } else if (type_tok == "untyped") {
      type = PromType::kUntyped;
    } else {
      return fail("unknown metric type '" + excerpt(type_tok) + "' for " + excerpt(name));
    }
    skip_blanks();
    if (!at_end()) return fail("unexpected text after the TYPE of " + excerpt(name) + ": '" + excerpt(rest()) + "'");
    v_.on_type(name, type, line_);
    return {};
  }

  Status labels(std::string_view name) {
    // Built only on failure: the happy path must not allocate per sample.
    const auto lfail = [&](const std::string& reason) { return fail(reason + " in the labels of " + excerpt(name)); };
    for (;;) {
      skip_blanks();
      if (at_end()) return lfail("unterminated label set (missing '}')");
      if (s_[i_] == '}') {
        ++i_;
        return {};
      }
      if (!is_label_start(s_[i_])) return lfail("invalid label name at '" + excerpt(rest()) + "'");
      const std::size_t nb = i_;
      while (i_ < s_.size() && is_label_char(s_[i_])) ++i_;
      const std::string_view lname = s_.substr(nb, i_ - nb);
      skip_blanks();
      if (at_end()) return lfail("unterminated label set (missing '}')");
      if (s_[i_] != '=')
        return lfail("expected '=' after label name '" + excerpt(lname) + "', got '" + excerpt(rest()) + "'");
      ++i_;
      skip_blanks();
      if (at_end() || s_[i_] != '"') return lfail("expected '\"' to open the value of label '" + excerpt(lname) + "'");
      ++i_;
      const std::size_t vb = i_;
      bool escaped = false;
      for (;;) {
        if (at_end()) return lfail("unterminated value of label '" + excerpt(lname) + "'");
        const char c = s_[i_];
        if (c == '"') break;
        if (c == '\\') {
          if (i_ + 1 >= s_.size()) return lfail("unterminated value of label '" + excerpt(lname) + "'");
          const char e = s_[i_ + 1];
          if (e != '\\' && e != '"' && e != 'n')
            return lfail("invalid escape sequence '" + excerpt(s_.substr(i_, 2)) + "' in the value of label '" +
                         excerpt(lname) + "'");
          escaped = true;
          i_ += 2;
          continue;
        }
        ++i_;
      }
      const std::string_view raw = s_.substr(vb, i_ - vb);
      ++i_;  // closing quote
      if (!valid_utf8(raw)) return lfail("value of label '" + excerpt(lname) + "' is not valid UTF-8");
      for (const auto& p : sc_.pending)
        if (p.name == lname) return lfail("duplicate label '" + excerpt(lname) + "'");
      sc_.pending.push_back({lname, raw, escaped, 0, 0});
      skip_blanks();
      if (at_end()) return lfail("unterminated label set (missing '}')");
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (s_[i_] == '}') {
        ++i_;
        return {};
      }
      return lfail("expected ',' or '}' after label '" + excerpt(lname) + "', got '" + excerpt(rest()) + "'");
    }
  }

  Status sample() {
    const std::string_view name = metric_name();
    if (name.empty()) return fail("expected a metric name, got '" + excerpt(rest()) + "'");
    sc_.pending.clear();
    skip_blanks();
    if (!at_end() && s_[i_] == '{') {
      ++i_;
      if (auto st = labels(name); !st) return st;
      skip_blanks();
    }
    if (at_end()) return fail("missing value for " + excerpt(name));
    const std::string_view value_tok = token();
    const auto value = parse_value(value_tok);
    if (!value) return fail("invalid value '" + excerpt(value_tok) + "' for " + excerpt(name));
    std::optional<std::int64_t> ts;
    skip_blanks();
    if (!at_end()) {
      const std::string_view ts_tok = token();
      ts = parse_timestamp(ts_tok);
      if (!ts) return fail("invalid timestamp '" + excerpt(ts_tok) + "' for " + excerpt(name));
      skip_blanks();
      if (!at_end())
        return fail("unexpected text after the timestamp of " + excerpt(name) + ": '" + excerpt(rest()) + "'");
    }
    // Unescape into the shared buffer first (it may grow), then take views.
    sc_.unescaped.clear();
    for (auto& p : sc_.pending) {
      if (!p.escaped) continue;
      p.off = sc_.unescaped.size();
      for (std::size_t k = 0; k < p.raw.size(); ++k) {
        char c = p.raw[k];
        if (c == '\\') {
          const char e = p.raw[++k];  // validated above: an escape is always complete
          c = e == 'n' ? '\n' : e;
        }
        sc_.unescaped += c;
      }
      p.len = sc_.unescaped.size() - p.off;
    }
    sc_.labels.clear();
    for (const auto& p : sc_.pending) {
      const std::string_view val = p.escaped ? std::string_view(sc_.unescaped).substr(p.off, p.len) : p.raw;
      sc_.labels.push_back({p.name, val});
    }
    PromSampleView view;
    view.name = name;
    view.labels = std::span<const PromLabelView>(sc_.labels.data(), sc_.labels.size());
    view.value = *value;
    view.timestamp_ms = ts;
    view.line = line_;
    v_.on_sample(view);
    return {};
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t line_;
  Scratch& sc_;
  PromVisitor& v_;
};

}  // namespace

Status parse_prometheus_text(std::string_view text, PromVisitor& visitor) {
  Scratch sc;
  sc.pending.reserve(16);
  sc.labels.reserve(16);
  std::size_t lineno = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto st = LineParser(line, lineno, sc, visitor).run(); !st) return st;
  }
  return {};
}

Result<std::vector<PromSample>> parse_prometheus_samples(std::string_view text) {
  std::vector<PromSample> out;
  auto st = for_each_prometheus_sample(text, [&](const PromSampleView& s) {
    PromSample o;
    o.name = std::string(s.name);
    o.labels.reserve(s.labels.size());
    for (const auto& l : s.labels) o.labels.emplace_back(std::string(l.name), std::string(l.value));
    o.value = s.value;
    o.timestamp_ms = s.timestamp_ms;
    out.push_back(std::move(o));
  });
  if (!st) return st.error();
  return out;
}

}  // namespace jouleperf
