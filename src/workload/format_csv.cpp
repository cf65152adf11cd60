// CSV-family formats: Azure LLM inference (2023, 2024), BurstGPT, generic CSV. All are
// "a header, then rows with named columns"; a CsvSpec says which column plays which role.
#include <string>
#include <vector>

#include "jouleperf/core/text.hpp"
#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/row_parser.hpp"
#include "jouleperf/workload/timestamp.hpp"

namespace jouleperf::workload {
namespace {

enum class TimeKind {
  kDate,    // "YYYY-MM-DD HH:MM:SS[.f][offset]"
  kNumber,  // a number in `unit`
  kAuto,    // decided by the first row: a number if it parses as one, else a date
};

struct CsvSpec {
  std::string format_name;  // for messages
  std::string time_col;     // empty: no times
  bool time_required = false;
  TimeKind time_kind = TimeKind::kAuto;
  TimeUnit time_unit = TimeUnit::kSeconds;
  std::string input_col;
  std::string output_col;
  std::vector<std::string> tag_cols;     // kept as tags when present
  std::vector<std::string> ignore_cols;  // neither tags nor checked
  bool other_cols_are_tags = false;
  bool zero_output_is_failed = false;
};

class CsvParser final : public RowParser {
 public:
  explicit CsvParser(CsvSpec spec) : spec_(std::move(spec)) {}

  bool has_header() const override { return true; }

  Status parse_header(std::string_view line) override {
    std::vector<std::string_view> fields;
    std::string scratch;
    if (auto st = split_csv(line, fields, scratch); !st.ok())
      return make_error(Errc::kParse, "cannot read the header: " + st.error().message);
    header_.clear();
    for (auto f : fields) header_.emplace_back(trim(f));
    auto need = [&](const std::string& name, const char* role) -> Result<int> {
      const int i = find_column(header_, name);
      if (i < 0)
        return make_error(Errc::kParse, spec_.format_name + " header has no " + role + " column '" + name +
                                            "' (header: " + std::string(trim(line).substr(0, 120)) + ")");
      return i;
    };
    auto in = need(spec_.input_col, "input-length");
    if (!in.ok()) return in.error();
    auto out = need(spec_.output_col, "output-length");
    if (!out.ok()) return out.error();
    input_ = *in;
    output_ = *out;
    time_ = -1;
    if (!spec_.time_col.empty()) {
      if (spec_.time_required) {
        auto t = need(spec_.time_col, "time");
        if (!t.ok()) return t.error();
        time_ = *t;
      } else {
        time_ = find_column(header_, spec_.time_col);
      }
    }
    // The Azure layout "date,digits,digits" gets a fused one-pass parser.
    fast_layout_ = spec_.time_kind == TimeKind::kDate && header_.size() == 3 && time_ == 0 && input_ == 1 &&
                   output_ == 2 && !spec_.zero_output_is_failed;
    tag_index_.clear();
    for (std::size_t i = 0; i < header_.size(); ++i) {
      const int c = static_cast<int>(i);
      if (c == input_ || c == output_ || c == time_) continue;
      bool listed = false, ignored = false;
      for (const auto& t : spec_.tag_cols) listed = listed || find_column({header_[i]}, t) == 0;
      for (const auto& t : spec_.ignore_cols) ignored = ignored || find_column({header_[i]}, t) == 0;
      if (listed || (spec_.other_cols_are_tags && !ignored)) tag_index_.push_back(i);
    }
    return {};
  }

  Status parse_row(std::string_view line, ParsedRow& row) override {
    if (fast_layout_ && parse_fast(line, row)) return {};
    if (auto st = split_csv(line, fields_, scratch_); !st.ok()) return st;
    if (fields_.size() != header_.size())
      return make_error(Errc::kParse, "expected " + std::to_string(header_.size()) + " fields, found " +
                                          std::to_string(fields_.size()));
    auto in = parse_token_count(fields_[static_cast<std::size_t>(input_)], header_[static_cast<std::size_t>(input_)]);
    if (!in.ok()) return in.error();
    auto out =
        parse_token_count(fields_[static_cast<std::size_t>(output_)], header_[static_cast<std::size_t>(output_)]);
    if (!out.ok()) return out.error();
    row.input_tokens = *in;
    row.output_tokens = *out;
    row.failed = spec_.zero_output_is_failed && *out == 0;
    if (time_ >= 0) {
      auto t = parse_time(fields_[static_cast<std::size_t>(time_)], header_[static_cast<std::size_t>(time_)]);
      if (!t.ok()) return t.error();
      row.time_ns = *t;
    }
    for (std::size_t i : tag_index_) row.tags.push_back(Tag{header_[i], trim(fields_[i])});
    return {};
  }

  std::vector<std::string> tag_keys() const override {
    std::vector<std::string> keys;
    for (std::size_t i : tag_index_) keys.push_back(header_[i]);
    return keys;
  }
  bool tag_keys_fixed() const override { return true; }

 private:
  // One pass over "YYYY-MM-DD HH:MM:SS[.f],<digits>,<digits>" when the date matches the
  // previous row's. Accepts only what the general path accepts with the same result;
  // anything else (offsets, spaces, signs, errors) returns false for the general path.
  bool parse_fast(std::string_view line, ParsedRow& row) const {
    const char* const end = line.data() + line.size();
    const char* at = line.data();
    std::int64_t ns = 0;
    if (!dates_.parse_fast(at, end, ',', ns)) return false;
    const char* p = at + 1;  // past the comma
    std::uint64_t in = 0, out = 0;
    const char* start = p;
    while (p != end && static_cast<unsigned char>(*p - '0') <= 9) in = in * 10 + static_cast<unsigned char>(*p++ - '0');
    if (p == start || p - start > 9 || p == end || *p != ',') return false;
    start = ++p;
    while (p != end && static_cast<unsigned char>(*p - '0') <= 9)
      out = out * 10 + static_cast<unsigned char>(*p++ - '0');
    if (p == start || p - start > 9 || p != end) return false;
    row.time_ns = ns;
    row.input_tokens = in;
    row.output_tokens = out;
    return true;
  }

  Result<std::int64_t> parse_time(std::string_view field, const std::string& col) {
    TimeKind kind = spec_.time_kind;
    if (kind == TimeKind::kAuto) {
      if (!decided_) {
        decided_kind_ = parse_finite(field, col).ok() ? TimeKind::kNumber : TimeKind::kDate;
        decided_ = true;
      }
      kind = decided_kind_;
    }
    if (kind == TimeKind::kDate) {
      auto t = dates_.parse(field);
      if (!t.ok()) return make_error(Errc::kParse, col + ": " + t.error().message);
      return t;
    }
    auto v = parse_finite(field, col);
    if (!v.ok()) return v.error();
    return time_to_ns(*v, spec_.time_unit, col);
  }

  CsvSpec spec_;
  std::vector<std::string> header_;
  int input_ = -1, output_ = -1, time_ = -1;
  std::vector<std::size_t> tag_index_;
  std::vector<std::string_view> fields_;
  std::string scratch_;
  DateTimeParser dates_;
  bool fast_layout_ = false;
  bool decided_ = false;
  TimeKind decided_kind_ = TimeKind::kNumber;
};

}  // namespace

std::unique_ptr<RowParser> make_azure_parser() {
  CsvSpec s;
  s.format_name = "Azure trace";
  s.time_col = "TIMESTAMP";
  s.time_required = true;
  s.time_kind = TimeKind::kDate;
  s.input_col = "ContextTokens";
  s.output_col = "GeneratedTokens";
  s.other_cols_are_tags = true;
  return std::make_unique<CsvParser>(std::move(s));
}

std::unique_ptr<RowParser> make_burstgpt_parser() {
  CsvSpec s;
  s.format_name = "BurstGPT";
  s.time_col = "Timestamp";  // seconds from 0:00 of the trace's first day
  s.time_required = true;
  s.time_kind = TimeKind::kNumber;
  s.input_col = "Request tokens";
  s.output_col = "Response tokens";
  s.tag_cols = {"Model", "Log Type", "Session ID", "Elapsed time"};
  s.ignore_cols = {"Total tokens"};
  s.other_cols_are_tags = true;
  s.zero_output_is_failed = true;
  return std::make_unique<CsvParser>(std::move(s));
}

std::unique_ptr<RowParser> make_generic_csv_parser(const LoadOptions& options) {
  CsvSpec s;
  s.format_name = "CSV";
  s.time_col = options.time_col;
  s.time_required = !options.time_col.empty();
  s.time_kind = TimeKind::kAuto;
  s.time_unit = options.time_unit;
  s.input_col = options.input_col;
  s.output_col = options.output_col;
  s.other_cols_are_tags = true;
  return std::make_unique<CsvParser>(std::move(s));
}

}  // namespace jouleperf::workload
