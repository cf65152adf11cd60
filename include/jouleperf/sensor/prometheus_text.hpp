// Parser of the Prometheus text exposition format, version 0.0.4 (what DCGM exporter,
// node exporter and Kepler serve on /metrics): comments, # HELP and # TYPE lines,
// samples `name{label="value",...} value [timestamp_ms]`, label values with the escapes
// \\ \" \n, values including NaN, +Inf and -Inf, blank lines and CRLF line ends.
//
// The parser is strict the way Prometheus' own is: the first malformed line fails the
// whole exposition with kParse, naming the 1-based line and the reason. It never
// crashes on any input and never turns a bad value into a zero. It does not allocate
// per sample: names and label values are views into the input (label values that
// contain escapes are unescaped into a scratch buffer reused across lines).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

enum class PromType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

// "untyped", "counter", "gauge", "histogram", "summary".
std::string_view prom_type_name(PromType t);

struct PromLabelView {
  std::string_view name;
  std::string_view value;  // unescaped
};

// One sample as the parser sees it. Every view is valid only during the visitor call.
struct PromSampleView {
  std::string_view name;
  std::span<const PromLabelView> labels;  // in exposition order
  double value = 0.0;                     // may be NaN or +-Inf as written
  std::optional<std::int64_t> timestamp_ms;
  std::size_t line = 0;  // 1-based line number in the exposition

  // The value of label `label_name`, or nullopt when the sample has no such label.
  std::optional<std::string_view> label(std::string_view label_name) const;
};

// Receives the parsed exposition in order. Override what you need.
class PromVisitor {
 public:
  virtual ~PromVisitor() = default;
  virtual void on_sample(const PromSampleView& sample) = 0;
  // A `# TYPE family type` line.
  virtual void on_type(std::string_view /*family*/, PromType /*type*/, std::size_t /*line*/) {}
};

// Parses a whole exposition and calls `visitor` for each sample, in order. Fails with
// kParse, message "line N: <reason>", at the first malformed line (the samples before
// it have already been delivered, so a caller that must be all-or-nothing collects and
// only commits on success). A final line without '\n' is accepted.
Status parse_prometheus_text(std::string_view text, PromVisitor& visitor);

// Convenience: calls `f(const PromSampleView&)` for every sample.
template <class F>
Status for_each_prometheus_sample(std::string_view text, F&& f) {
  struct Adapter final : PromVisitor {
    explicit Adapter(F& fn) : fn_(fn) {}
    void on_sample(const PromSampleView& s) override { fn_(s); }
    F& fn_;
  } adapter(f);
  return parse_prometheus_text(text, adapter);
}

// An owned sample, for callers that keep samples beyond the parse.
struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // (name, unescaped value), exposition order
  double value = 0.0;
  std::optional<std::int64_t> timestamp_ms;
};

// Parses a whole exposition into owned samples; kParse with the line as above.
Result<std::vector<PromSample>> parse_prometheus_samples(std::string_view text);

}  // namespace jouleperf
