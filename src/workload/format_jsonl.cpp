// JSON-lines formats: Mooncake traces and generic JSONL. One JSON object per line.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/row_parser.hpp"
#include "jouleperf/workload/timestamp.hpp"

namespace jouleperf::workload {
namespace {

using nlohmann::json;

struct JsonlSpec {
  std::string time_key;  // empty: no times
  bool time_required = false;
  bool time_numeric_only = false;  // Mooncake: milliseconds, never a date string
  TimeUnit time_unit = TimeUnit::kSeconds;
  std::string input_key;
  std::string output_key;
  bool hash_ids_must_be_array = false;  // Mooncake
};

std::string type_name(const json& v) { return v.type_name(); }

Result<std::uint64_t> token_count(const json& obj, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return make_error(Errc::kParse, "missing " + key);
  const json& v = *it;
  if (v.is_number_unsigned()) {
    const auto n = v.get<std::uint64_t>();
    if (n > kMaxTokenCount) return make_error(Errc::kParse, key + " out of range: " + std::to_string(n));
    return n;
  }
  if (v.is_number_integer()) return make_error(Errc::kParse, "negative " + key + " " + v.dump());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return make_error(Errc::kParse, key + " is not finite");
    if (d < 0) return make_error(Errc::kParse, "negative " + key + " " + v.dump());
    if (d != std::floor(d)) return make_error(Errc::kParse, key + " is not a whole number: " + v.dump());
    if (d > static_cast<double>(kMaxTokenCount)) return make_error(Errc::kParse, key + " out of range: " + v.dump());
    return static_cast<std::uint64_t>(d);
  }
  if (v.is_string()) return parse_token_count(v.get_ref<const std::string&>(), key);
  return make_error(Errc::kParse, key + " is not a number (" + type_name(v) + ")");
}

class JsonlParser final : public RowParser {
 public:
  explicit JsonlParser(JsonlSpec spec) : spec_(std::move(spec)) {}

  bool has_header() const override { return false; }
  Status parse_header(std::string_view) override { return {}; }

  Status parse_row(std::string_view line, ParsedRow& row) override {
    doc_ = json::parse(line, nullptr, false);
    if (doc_.is_discarded()) return make_error(Errc::kParse, "not valid JSON");
    if (!doc_.is_object())
      return make_error(Errc::kParse, std::string("expected a JSON object, found ") + doc_.type_name());
    auto in = token_count(doc_, spec_.input_key);
    if (!in.ok()) return in.error();
    auto out = token_count(doc_, spec_.output_key);
    if (!out.ok()) return out.error();
    row.input_tokens = *in;
    row.output_tokens = *out;
    if (spec_.hash_ids_must_be_array) {
      const auto h = doc_.find("hash_ids");
      if (h != doc_.end() && !h->is_array())
        return make_error(Errc::kParse, "hash_ids is not an array (" + type_name(*h) + ")");
    }
    if (!spec_.time_key.empty()) {
      const auto t = doc_.find(spec_.time_key);
      if (t == doc_.end()) {
        if (spec_.time_required) return make_error(Errc::kParse, "missing " + spec_.time_key);
      } else {
        auto ns = parse_time(*t);
        if (!ns.ok()) return ns.error();
        row.time_ns = *ns;
      }
    }
    for (auto it = doc_.begin(); it != doc_.end(); ++it) {
      if (!it->is_string()) continue;
      const std::string& k = it.key();
      if (k == spec_.time_key || k == spec_.input_key || k == spec_.output_key) continue;
      row.tags.push_back(Tag{k, it->get_ref<const std::string&>()});
    }
    return {};
  }

  std::vector<std::string> tag_keys() const override { return {}; }
  bool tag_keys_fixed() const override { return false; }

 private:
  Result<std::int64_t> parse_time(const json& v) {
    const std::string& key = spec_.time_key;
    if (v.is_number()) {
      const double d = v.get<double>();
      return time_to_ns(d, spec_.time_unit, key);
    }
    if (v.is_string() && !spec_.time_numeric_only) {
      auto t = parse_datetime_ns(v.get_ref<const std::string&>());
      if (!t.ok()) return make_error(Errc::kParse, key + ": " + t.error().message);
      return t;
    }
    return make_error(Errc::kParse, key + " is not a number (" + type_name(v) + ")");
  }

  JsonlSpec spec_;
  json doc_;
};

}  // namespace

std::unique_ptr<RowParser> make_mooncake_parser() {
  JsonlSpec s;
  s.time_key = "timestamp";  // milliseconds since the trace's first request
  s.time_numeric_only = true;
  s.time_unit = TimeUnit::kMilliseconds;
  s.input_key = "input_length";
  s.output_key = "output_length";
  s.hash_ids_must_be_array = true;
  return std::make_unique<JsonlParser>(std::move(s));
}

std::unique_ptr<RowParser> make_generic_jsonl_parser(const LoadOptions& options) {
  JsonlSpec s;
  s.time_key = options.time_col;
  s.time_required = !options.time_col.empty();
  s.time_unit = options.time_unit;
  s.input_key = options.input_col;
  s.output_key = options.output_col;
  return std::make_unique<JsonlParser>(std::move(s));
}

}  // namespace jouleperf::workload
