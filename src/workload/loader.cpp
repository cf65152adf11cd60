// Format-independent half of the loaders: reading, detection, time origin, filters,
// bad-row policy. The per-format parsers live in format_*.cpp.
#include "jouleperf/workload/loader.hpp"

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "jouleperf/core/text.hpp"
#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/line_reader.hpp"
#include "jouleperf/workload/row_parser.hpp"

namespace jouleperf::workload {

std::string_view trace_format_name(TraceFormat format) {
  switch (format) {
    case TraceFormat::kAuto: return "auto";
    case TraceFormat::kAzure: return "azure";
    case TraceFormat::kBurstGpt: return "burstgpt";
    case TraceFormat::kMooncake: return "mooncake";
    case TraceFormat::kCsv: return "csv";
    case TraceFormat::kJsonl: return "jsonl";
  }
  return "unknown";
}

Result<TraceFormat> parse_trace_format(std::string_view name) {
  const std::string n = normalize_key(name);
  if (n == "auto") return TraceFormat::kAuto;
  if (n == "azure" || n == "azure2023" || n == "azure2024") return TraceFormat::kAzure;
  if (n == "burstgpt") return TraceFormat::kBurstGpt;
  if (n == "mooncake") return TraceFormat::kMooncake;
  if (n == "csv") return TraceFormat::kCsv;
  if (n == "jsonl") return TraceFormat::kJsonl;
  return make_error(Errc::kInvalidArgument,
                    "unknown trace format '" + std::string(name) +
                        "' (auto, azure, azure-2023, azure-2024, burstgpt, mooncake, csv, jsonl)");
}

Result<TimeUnit> parse_time_unit(std::string_view name) {
  if (name == "s") return TimeUnit::kSeconds;
  if (name == "ms") return TimeUnit::kMilliseconds;
  if (name == "us") return TimeUnit::kMicroseconds;
  if (name == "ns") return TimeUnit::kNanoseconds;
  return make_error(Errc::kInvalidArgument, "unknown time unit '" + std::string(name) + "' (s, ms, us, ns)");
}

Result<TagFilter> parse_tag_filter(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos)
    return make_error(Errc::kInvalidArgument, "filter '" + std::string(text) + "' is not key=value");
  TagFilter f{std::string(trim(text.substr(0, eq))), std::string(trim(text.substr(eq + 1)))};
  if (normalize_key(f.key).empty())
    return make_error(Errc::kInvalidArgument, "filter '" + std::string(text) + "' has no key");
  return f;
}

Result<std::int64_t> time_to_ns(double value, TimeUnit unit, std::string_view what) {
  if (!std::isfinite(value)) return make_error(Errc::kParse, std::string(what) + " is not finite");
  if (value < 0) return make_error(Errc::kParse, "negative " + std::string(what));
  double scale = 1e9;
  switch (unit) {
    case TimeUnit::kSeconds: scale = 1e9; break;
    case TimeUnit::kMilliseconds: scale = 1e6; break;
    case TimeUnit::kMicroseconds: scale = 1e3; break;
    case TimeUnit::kNanoseconds: scale = 1.0; break;
  }
  const double ns = std::round(value * scale);
  if (ns >= 9.0e18) return make_error(Errc::kParse, std::string(what) + " out of range");
  return static_cast<std::int64_t>(ns);
}

int find_column(const std::vector<std::string>& header, std::string_view name) {
  const std::string_view want = trim(name);
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == want) return static_cast<int>(i);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h.size() != want.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < h.size() && same; ++k)
      same = std::tolower(static_cast<unsigned char>(h[k])) == std::tolower(static_cast<unsigned char>(want[k]));
    if (same) return static_cast<int>(i);
  }
  return -1;
}

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out;
}

Result<std::vector<std::string>> header_names(std::string_view line) {
  std::vector<std::string_view> fields;
  std::string scratch;
  auto st = split_csv(line, fields, scratch);
  if (!st.ok()) return st.error();
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (auto f : fields) names.emplace_back(trim(f));
  return names;
}

std::unique_ptr<RowParser> make_parser(TraceFormat format, const LoadOptions& options) {
  switch (format) {
    case TraceFormat::kAzure: return make_azure_parser();
    case TraceFormat::kBurstGpt: return make_burstgpt_parser();
    case TraceFormat::kMooncake: return make_mooncake_parser();
    case TraceFormat::kCsv: return make_generic_csv_parser(options);
    case TraceFormat::kJsonl: return make_generic_jsonl_parser(options);
    case TraceFormat::kAuto: break;
  }
  return nullptr;
}

Error at(const std::string& source, std::uint64_t line, const std::string& reason) {
  return make_error(Errc::kParse, source + ":" + std::to_string(line) + ": " + reason);
}

Status check_options(const LoadOptions& o) {
  if (o.from_s && !std::isfinite(*o.from_s)) return make_error(Errc::kInvalidArgument, "--from must be finite");
  if (o.to_s && !std::isfinite(*o.to_s)) return make_error(Errc::kInvalidArgument, "--to must be finite");
  if (o.from_s && o.to_s && *o.to_s <= *o.from_s)
    return make_error(Errc::kInvalidArgument, "--to must be later than --from");
  if ((o.format == TraceFormat::kCsv || o.format == TraceFormat::kJsonl) &&
      (o.input_col.empty() || o.output_col.empty()))
    return make_error(Errc::kInvalidArgument, std::string("format ") + std::string(trace_format_name(o.format)) +
                                                  " needs --input-col and --output-col");
  if (!o.input_col.empty() != !o.output_col.empty())
    return make_error(Errc::kInvalidArgument, "--input-col and --output-col go together");
  return {};
}

Result<LoadSummary> run(LineReader& reader, const LoadOptions& options, const RequestVisitor& visit) {
  if (auto st = check_options(options); !st.ok()) return st.error();
  LoadSummary sum;
  sum.source = reader.name();
  std::string_view line;
  bool have_first = false;
  for (;;) {
    auto more = reader.next(line);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (reader.line_number() == 1 && line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    if (!trim(line).empty()) {
      have_first = true;
      break;
    }
  }
  TraceFormat format = options.format;
  if (!have_first) {
    if (format == TraceFormat::kMooncake || format == TraceFormat::kJsonl)
      return make_error(Errc::kParse, sum.source + ": no requests (the file is empty)");
    return make_error(Errc::kParse, sum.source + ": empty file (no header)");
  }
  if (format == TraceFormat::kAuto) {
    auto detected = detect_trace_format(line, options);
    if (!detected.ok()) return at(sum.source, reader.line_number(), detected.error().message);
    format = *detected;
  }
  sum.format = format;
  auto parser = make_parser(format, options);
  std::uint64_t first_data_line = 0;  // 0: the first line was the header
  if (parser->has_header()) {
    auto st = parser->parse_header(line);
    if (!st.ok()) return at(sum.source, reader.line_number(), st.error().message);
  } else {
    first_data_line = reader.line_number();
  }
  if (parser->tag_keys_fixed()) {
    const auto keys = parser->tag_keys();
    for (const auto& f : options.where) {
      bool known = false;
      for (const auto& k : keys) known = known || normalize_key(k) == normalize_key(f.key);
      if (!known)
        return make_error(Errc::kInvalidArgument, "cannot filter on '" + f.key + "': " + sum.source +
                                                      " has no such column (tag columns: " +
                                                      (keys.empty() ? std::string("none") : join(keys)) + ")");
    }
  }
  std::vector<bool> where_seen(options.where.size(), false);
  std::optional<std::int64_t> origin_ns;
  std::optional<bool> timed;  // decided by the first good row
  ParsedRow row;
  Request req;

  auto handle = [&](std::string_view text) -> Status {
    if (text.empty() || ((text.front() == ' ' || text.front() == '\t') && trim(text).empty())) return {};
    ++sum.rows;
    row.time_ns.reset();
    row.failed = false;
    row.tags.clear();
    auto st = parser->parse_row(text, row);
    if (st.ok() && timed.has_value() && *timed != row.time_ns.has_value())
      st = make_error(Errc::kParse, *timed ? "no time in this row while earlier rows have one"
                                           : "a time in this row while earlier rows have none");
    if (!st.ok()) {
      std::string reason = st.error().message;
      if (reader.last_line_unterminated()) reason += " (last line has no newline: truncated file?)";
      if (!options.skip_bad) return at(sum.source, reader.line_number(), reason);
      ++sum.skipped_bad;
      if (sum.bad_examples.size() < options.max_bad_examples)
        sum.bad_examples.push_back(BadRow{reader.line_number(), std::move(reason)});
      return {};
    }
    if (!timed.has_value()) {
      timed = row.time_ns.has_value();
      sum.has_arrivals = *timed;
      if (!*timed && (options.from_s || options.to_s))
        return make_error(Errc::kInvalidArgument,
                          sum.source + " has no arrival times (no time column), so --from/--to cannot apply");
    }
    req.line = reader.line_number();
    req.arrival_s.reset();
    if (row.time_ns) {
      if (!origin_ns) origin_ns = *row.time_ns;
      std::int64_t delta = 0;
      if (__builtin_sub_overflow(*row.time_ns, *origin_ns, &delta))
        return at(sum.source, reader.line_number(), "time too far from the first row's");
      // Whole seconds stay exact; the fraction is scaled by a multiply (a divide per row
      // costs a measurable share of the load time).
      const std::int64_t whole = delta / 1000000000, frac = delta % 1000000000;
      req.arrival_s = static_cast<double>(whole) + static_cast<double>(frac) * 1e-9;
    }
    req.input_tokens = row.input_tokens;
    req.output_tokens = row.output_tokens;
    req.tags = row.tags;
    bool keep = true;
    if (req.arrival_s) {
      if (options.from_s && *req.arrival_s < *options.from_s) keep = false;
      if (options.to_s && *req.arrival_s >= *options.to_s) keep = false;
    }
    for (std::size_t i = 0; i < options.where.size(); ++i) {
      const auto v = find_tag(req, options.where[i].key);
      if (v) where_seen[i] = true;
      if (!v || *v != options.where[i].value) keep = false;
    }
    if (!keep) {
      ++sum.filtered_out;
      return {};
    }
    if (row.failed && !options.include_failed) {
      ++sum.failed_excluded;
      return {};
    }
    // A request with no input or no output token is no request to bin or charge (a failed
    // BurstGPT row, marked by its format, was counted above).
    if (!row.failed && (req.input_tokens == 0 || req.output_tokens == 0)) {
      ++sum.zero_token_excluded;
      return {};
    }
    ++sum.requests;
    visit(req);
    return {};
  };

  if (first_data_line != 0) {
    if (auto st = handle(line); !st.ok()) return st.error();
  }
  for (;;) {
    auto more = reader.next(line);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (auto st = handle(line); !st.ok()) return st.error();
  }
  sum.last_line_unterminated = reader.last_line_unterminated();
  if (sum.rows == 0)
    return make_error(Errc::kParse, sum.source + ": no requests (the file has no data rows" +
                                        (parser->has_header() ? ", only a header)" : ")"));
  for (std::size_t i = 0; i < options.where.size(); ++i)
    if (!where_seen[i] && !parser->tag_keys_fixed() && sum.rows > 0)
      return make_error(Errc::kInvalidArgument,
                        "cannot filter on '" + options.where[i].key + "': no row of " + sum.source + " has that field");
  return sum;
}

}  // namespace

Result<TraceFormat> detect_trace_format(std::string_view first_line, const LoadOptions& options) {
  std::string_view line = first_line;
  if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  line = trim(line);
  if (!line.empty() && line.front() == '{') {
    if (!options.input_col.empty()) return TraceFormat::kJsonl;
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return make_error(Errc::kParse, "first line starts with '{' but is not a JSON object");
    if (doc.contains("input_length") && doc.contains("output_length")) return TraceFormat::kMooncake;
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items()) keys.push_back(k);
    return make_error(Errc::kParse, "JSON lines without input_length/output_length (keys: " + join(keys) +
                                        "): name the fields with --input-col/--output-col[/--time-col]");
  }
  if (!options.input_col.empty()) return TraceFormat::kCsv;
  auto names = header_names(line);
  if (!names.ok()) return make_error(Errc::kParse, "cannot read the header: " + names.error().message);
  const auto& h = *names;
  if (find_column(h, "TIMESTAMP") >= 0 && find_column(h, "ContextTokens") >= 0 &&
      find_column(h, "GeneratedTokens") >= 0)
    return TraceFormat::kAzure;
  if (find_column(h, "Request tokens") >= 0 && find_column(h, "Response tokens") >= 0) return TraceFormat::kBurstGpt;
  std::string shown(line.substr(0, 120));
  return make_error(Errc::kParse, "unrecognized header '" + shown +
                                      "': use --format, or --input-col/--output-col[/--time-col] for a generic CSV");
}

Result<LoadSummary> load_trace(const std::string& path, const LoadOptions& options, const RequestVisitor& visit) {
  auto reader = LineReader::open_file(path);
  if (!reader.ok()) return reader.error();
  return run(*reader, options, visit);
}

Result<LoadSummary> load_trace_from_memory(std::string_view data, std::string_view name, const LoadOptions& options,
                                           const RequestVisitor& visit) {
  auto reader = LineReader::from_memory(data, std::string(name));
  return run(reader, options, visit);
}

}  // namespace jouleperf::workload
