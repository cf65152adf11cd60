// libFuzzer target: the generic JSONL with named fields loader must never crash, hang or
// hand over a request it should have rejected, whatever the bytes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/loader.hpp"

using namespace jouleperf::workload;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip_bad : {false, true}) {
    LoadOptions o;
    o.format = TraceFormat::kJsonl;
    o.input_col = "in";
    o.output_col = "out";
    o.time_col = "t";
    o.skip_bad = skip_bad;
    std::uint64_t seen = 0;
    auto sum = load_trace_from_memory(text, "fuzz", o, [&seen](const Request& r) {
      ++seen;
      if (r.input_tokens > kMaxTokenCount || r.output_tokens > kMaxTokenCount) std::abort();
      if (r.arrival_s && !std::isfinite(*r.arrival_s)) std::abort();
      if (r.line == 0) std::abort();
    });
    if (sum.ok() && (sum->requests != seen ||
                     sum->requests + sum->failed_excluded + sum->skipped_bad + sum->filtered_out != sum->rows))
      std::abort();
  }
  return 0;
}
