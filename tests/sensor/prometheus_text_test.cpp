#include "jouleperf/sensor/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sensor/prometheus_fixtures.hpp"

namespace jouleperf {
namespace {

using testing::DcgmGpu;
using testing::RaplZones;

const PromSample* find(const std::vector<PromSample>& v, std::string_view name, std::string_view label = {},
                       std::string_view value = {}) {
  for (const auto& s : v) {
    if (s.name != name) continue;
    if (label.empty()) return &s;
    for (const auto& [k, val] : s.labels)
      if (k == label && val == value) return &s;
  }
  return nullptr;
}

std::string label_of(const PromSample& s, std::string_view name) {
  for (const auto& [k, v] : s.labels)
    if (k == name) return v;
  return "<absent>";
}

// Expects a kParse error on `line` whose message contains `reason`, on one line.
void expect_parse_error(std::string_view text, std::size_t line, std::string_view reason) {
  auto r = parse_prometheus_samples(text);
  ASSERT_FALSE(r.ok()) << "accepted: " << text;
  EXPECT_EQ(r.error().code, Errc::kParse);
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind("line " + std::to_string(line) + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(reason), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "not one line: " << m;
}

TEST(PrometheusText, DcgmExporterExposition) {
  const std::string text = testing::dcgm_exposition({{123456789, 71.25, ""}, {987654321, 402.5, ""}});
  auto r = parse_prometheus_samples(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->size(), 10u);  // 5 families x 2 GPUs
  const PromSample* e1 = find(*r, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "gpu", "1");
  ASSERT_NE(e1, nullptr);
  EXPECT_EQ(e1->value, 987654321.0);
  EXPECT_EQ(label_of(*e1, "UUID"), "GPU-8d5053b3-9280-7d1a-751b-4fd2fdd547c5");
  EXPECT_EQ(label_of(*e1, "modelName"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(e1->labels.size(), 7u);
  EXPECT_FALSE(e1->timestamp_ms.has_value());
  const PromSample* p0 = find(*r, "DCGM_FI_DEV_POWER_USAGE", "gpu", "0");
  ASSERT_NE(p0, nullptr);
  EXPECT_DOUBLE_EQ(p0->value, 71.25);
}

TEST(PrometheusText, ReportsTypesAndLines) {
  struct V final : PromVisitor {
    std::vector<std::pair<std::string, PromType>> types;
    std::vector<std::size_t> lines;
    void on_sample(const PromSampleView& s) override { lines.push_back(s.line); }
    void on_type(std::string_view f, PromType t, std::size_t) override { types.emplace_back(std::string(f), t); }
  } v;
  const std::string text =
      "# HELP a_total A counter.\n# TYPE a_total counter\na_total 1\n\n# TYPE b gauge\nb 2\n"
      "# TYPE c histogram\nc_bucket{le=\"+Inf\"} 3\n# TYPE d summary\n# TYPE e untyped\ne 4\n";
  ASSERT_TRUE(parse_prometheus_text(text, v).ok());
  ASSERT_EQ(v.types.size(), 5u);
  EXPECT_EQ(v.types[0], (std::pair<std::string, PromType>{"a_total", PromType::kCounter}));
  EXPECT_EQ(v.types[1].second, PromType::kGauge);
  EXPECT_EQ(v.types[2].second, PromType::kHistogram);
  EXPECT_EQ(v.types[3].second, PromType::kSummary);
  EXPECT_EQ(v.types[4].second, PromType::kUntyped);
  EXPECT_EQ(v.lines, (std::vector<std::size_t>{3, 6, 8, 11}));
  EXPECT_EQ(prom_type_name(PromType::kCounter), "counter");
}

TEST(PrometheusText, NodeExporterAndKeplerExpositions) {
  auto node = parse_prometheus_samples(testing::node_exposition({1.5, 2.5, 3.25, 0.5, 9.0}));
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  const PromSample* pkg1 = find(*node, "node_rapl_package_joules_total", "path", "/sys/class/powercap/intel-rapl:1");
  ASSERT_NE(pkg1, nullptr);
  EXPECT_DOUBLE_EQ(pkg1->value, 2.5);
  EXPECT_EQ(label_of(*pkg1, "index"), "1");
  const PromSample* nan = find(*node, "go_gc_duration_seconds", "quantile", "1");
  ASSERT_NE(nan, nullptr);
  EXPECT_TRUE(std::isnan(nan->value));

  auto zl = parse_prometheus_samples(testing::node_exposition({1, 2, 3, 4, 5}, true));
  ASSERT_TRUE(zl.ok());
  EXPECT_NE(find(*zl, "node_rapl_joules_total", "rapl_zone", "dram"), nullptr);

  auto kold = parse_prometheus_samples(testing::kepler_old_exposition(10, 20, 30, 40));
  ASSERT_TRUE(kold.ok()) << kold.error().to_string();
  const PromSample* idle = find(*kold, "kepler_node_platform_joules_total", "mode", "idle");
  ASSERT_NE(idle, nullptr);
  EXPECT_DOUBLE_EQ(idle->value, 20.0);

  auto knew = parse_prometheus_samples(testing::kepler_new_exposition(100, 7, 60, 5));
  ASSERT_TRUE(knew.ok()) << knew.error().to_string();
  EXPECT_NE(find(*knew, "kepler_node_cpu_joules_total", "zone", "dram"), nullptr);
  EXPECT_NE(find(*knew, "kepler_node_gpu_joules_total", "vendor", "nvidia"), nullptr);
}

TEST(PrometheusText, EscapesInLabelValuesAndHelp) {
  const std::string text =
      "# HELP m Help with a backslash \\\\ and a newline \\n escaped.\n"
      "m{path=\"C:\\\\dir\\\\file\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",plain=\"x\"} 1\n";
  auto r = parse_prometheus_samples(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  const PromSample& s = r->front();
  EXPECT_EQ(label_of(s, "path"), "C:\\dir\\file");
  EXPECT_EQ(label_of(s, "q"), "say \"hi\"");
  EXPECT_EQ(label_of(s, "nl"), "a\nb");
  EXPECT_EQ(label_of(s, "plain"), "x");
  // UTF-8 in label values is fine.
  auto u = parse_prometheus_samples(
      "m{name=\"Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x9c\x93\"} 2\n");
  ASSERT_TRUE(u.ok()) << u.error().to_string();
  EXPECT_EQ(label_of(u->front(), "name"),
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x9c\x93");
}

TEST(PrometheusText, SpecialValuesTimestampsAndWhitespace) {
  const std::string text =
      "a +Inf\n"
      "b -Inf\n"
      "c NaN\n"
      "d 1.5e3 1712345678901\n"
      "e -2 -1000\n"
      "f{x=\"1\",} .5\n"                     // trailing comma in the label set
      "\t g { x = \"1\" , y=\"2\" }\t3  \n"  // blanks and tabs between tokens
      "h 4\r\n"                              // CRLF
      "   \n"
      "# just a comment\n"
      "#TYPE i counter\n"
      "i 0x10p0x\n";
  auto r = parse_prometheus_samples(text);
  ASSERT_FALSE(r.ok());  // the last line is garbage: checked below; the rest must parse alone
  EXPECT_EQ(r.error().message.rfind("line 12: ", 0), 0u) << r.error().message;

  auto ok = parse_prometheus_samples(text.substr(0, text.rfind("i 0x")));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  const auto& v = *ok;
  ASSERT_EQ(v.size(), 8u);
  EXPECT_TRUE(std::isinf(v[0].value) && v[0].value > 0);
  EXPECT_TRUE(std::isinf(v[1].value) && v[1].value < 0);
  EXPECT_TRUE(std::isnan(v[2].value));
  EXPECT_DOUBLE_EQ(v[3].value, 1500.0);
  EXPECT_EQ(v[3].timestamp_ms, 1712345678901);
  EXPECT_EQ(v[4].timestamp_ms, -1000);
  EXPECT_DOUBLE_EQ(v[5].value, 0.5);
  EXPECT_EQ(v[6].name, "g");
  EXPECT_EQ(v[6].labels.size(), 2u);
  EXPECT_EQ(label_of(v[6], "y"), "2");
  EXPECT_DOUBLE_EQ(v[6].value, 3.0);
  EXPECT_EQ(v[7].name, "h");
  EXPECT_DOUBLE_EQ(v[7].value, 4.0);
}

TEST(PrometheusText, EmptyInputAndMissingFinalNewline) {
  auto e = parse_prometheus_samples("");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
  auto n = parse_prometheus_samples("x 1\ny{a=\"b\"} 2");
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 2u);
  EXPECT_DOUBLE_EQ((*n)[1].value, 2.0);
}

TEST(PrometheusText, MalformedLinesNameLineAndReason) {
  expect_parse_error("ok 1\nm{a=\"x\\qy\"} 1\n", 2, "invalid escape sequence '\\q'");
  expect_parse_error("# HELP m ok\nm{a=\"b\"}\n", 2, "missing value for m");
  expect_parse_error("m 1\nm\n", 2, "missing value for m");
  expect_parse_error("m{a=\"b\"} 12abc\n", 1, "invalid value '12abc' for m");
  expect_parse_error("\n\nm 1,5\n", 3, "invalid value '1,5'");
  expect_parse_error("m{a=\"b\",c=\"d\" 1\n", 1, "expected ',' or '}'");
  expect_parse_error("m{a=\"b\"\n", 1, "unterminated label set");
  expect_parse_error("m{a=\"b\n", 1, "unterminated value of label 'a'");
  expect_parse_error("m{a=\"b\\", 1, "unterminated value of label 'a'");
  expect_parse_error("m{a \"b\"} 1\n", 1, "expected '=' after label name 'a'");
  expect_parse_error("m{a=b} 1\n", 1, "expected '\"' to open the value of label 'a'");
  expect_parse_error("m{1a=\"b\"} 1\n", 1, "invalid label name");
  expect_parse_error("m{a=\"1\",a=\"2\"} 1\n", 1, "duplicate label 'a'");
  expect_parse_error("m{a=\"\xff\"} 1\n", 1, "not valid UTF-8");
  expect_parse_error("{a=\"b\"} 1\n", 1, "expected a metric name");
  expect_parse_error("9m 1\n", 1, "expected a metric name");
  expect_parse_error("m 1 2 3\n", 1, "unexpected text after the timestamp of m");
  expect_parse_error("m 1 12.5\n", 1, "invalid timestamp '12.5'");
  expect_parse_error("# TYPE m countr\n", 1, "unknown metric type 'countr' for m");
  expect_parse_error("# TYPE m\n", 1, "without a type");
  expect_parse_error("# TYPE m gauge extra\n", 1, "unexpected text after the TYPE of m");
  expect_parse_error("# TYPE\n", 1, "without a valid metric name");
  expect_parse_error("# HELP m bad \\t escape\n", 1, "in the HELP text of m");
  expect_parse_error("m nan(0x1)\n", 1, "invalid value");
  expect_parse_error("m +\n", 1, "invalid value '+'");
  expect_parse_error("m 1e999\n", 1, "invalid value '1e999'");
}

TEST(PrometheusText, ErrorExcerptsStayPrintableAndShort) {
  const std::string junk = "m " + std::string(300, '\x01') + "\n";
  auto r = parse_prometheus_samples(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().message.size(), 300u);
  for (char c : r.error().message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
}

TEST(PrometheusText, SamplesBeforeAnErrorAreDeliveredThenParsingStops) {
  std::vector<std::string> seen;
  auto st =
      for_each_prometheus_sample("a 1\nb 2\nc{\nd 4\n", [&](const PromSampleView& s) { seen.emplace_back(s.name); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("line 3: ", 0), 0u);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(PrometheusText, LabelLookupOnViews) {
  int n = 0;
  auto st = for_each_prometheus_sample("m{gpu=\"3\",UUID=\"GPU-x\"} 5\n", [&](const PromSampleView& s) {
    ++n;
    EXPECT_EQ(s.label("gpu"), std::optional<std::string_view>("3"));
    EXPECT_EQ(s.label("UUID"), std::optional<std::string_view>("GPU-x"));
    EXPECT_FALSE(s.label("pod").has_value());
    EXPECT_EQ(s.line, 1u);
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

// A hostile exporter: a 50 MB metric name (or label name) with a bad value. The error
// names the line and quotes a short excerpt, never the whole name.
TEST(HostilePrometheusText, AFiftyMegabyteNameIsCutInTheError) {
  const std::string name(50u << 20, 'a');
  for (const std::string& text : {name + " not-a-number\n", "m{" + name + "=1} 1\n", name + "{x=\"1\" 1\n"}) {
    auto r = parse_prometheus_samples(text);
    ASSERT_FALSE(r.ok());
    EXPECT_LT(r.error().message.size(), 400u) << r.error().message.substr(0, 400);
    EXPECT_NE(r.error().message.find("line 1"), std::string::npos) << r.error().message.substr(0, 400);
  }
}

}  // namespace
}  // namespace jouleperf
