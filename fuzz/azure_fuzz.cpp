// libFuzzer target: the Azure LLM inference CSV loader (2023 and 2024 timestamps) must
// never crash, hang or hand over a request it should have rejected, whatever the bytes;
// and its fused fast path must agree with the general CSV path row for row.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/loader.hpp"

using namespace jouleperf::workload;

namespace {

struct Seen {
  std::uint64_t line;
  double arrival_s;
  std::uint64_t input, output;
};

std::vector<Seen> load(const std::string& text, bool skip_bad, bool& ok) {
  std::vector<Seen> out;
  LoadOptions o;
  o.format = TraceFormat::kAzure;
  o.skip_bad = skip_bad;
  auto sum = load_trace_from_memory(text, "fuzz", o, [&out](const Request& r) {
    if (r.input_tokens > kMaxTokenCount || r.output_tokens > kMaxTokenCount) std::abort();
    if (!r.arrival_s || !std::isfinite(*r.arrival_s) || r.line == 0) std::abort();
    if (r.input_tokens == 0 || r.output_tokens == 0) std::abort();  // zero-token requests are left out
    out.push_back(Seen{r.line, *r.arrival_s, r.input_tokens, r.output_tokens});
  });
  ok = sum.ok();
  if (sum.ok() && (sum->requests != out.size() || sum->requests + sum->skipped_bad + sum->filtered_out +
                                                          sum->failed_excluded + sum->zero_token_excluded !=
                                                      sum->rows))
    std::abort();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  bool ok = false;
  for (bool skip_bad : {false, true}) load(text, skip_bad, ok);

  // Differential: the same rows under the Azure header (fused fast path) and under a
  // permuted header (general path). Only lines with exactly two commas and no quote are kept.
  std::string fast = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  std::string slow = "ContextTokens,GeneratedTokens,TIMESTAMP\n";
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    const auto c1 = line.find(','), c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos || line.find(',', c2 + 1) != std::string_view::npos ||
        line.find('"') != std::string_view::npos || line.find('\r') != std::string_view::npos)
      continue;
    const std::string_view t = line.substr(0, c1), i = line.substr(c1 + 1, c2 - c1 - 1), o = line.substr(c2 + 1);
    fast.append(t).append(",").append(i).append(",").append(o).append("\n");
    slow.append(i).append(",").append(o).append(",").append(t).append("\n");
  }
  bool ok_fast = false, ok_slow = false;
  const auto a = load(fast, true, ok_fast);
  const auto b = load(slow, true, ok_slow);
  if (ok_fast != ok_slow || a.size() != b.size()) std::abort();
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k].line != b[k].line || a[k].arrival_s != b[k].arrival_s || a[k].input != b[k].input ||
        a[k].output != b[k].output)
      std::abort();
  return 0;
}
