// Shared body of the trace-loader fuzz targets: whatever the bytes, a loader must never
// crash or hang, and must never hand over a request it should have rejected (lengths
// beyond kMaxTokenCount, a non-finite arrival, a request without a line number or with
// zero tokens), with and
// without --skip-bad, and its counts must add up.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "jouleperf/workload/fields.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::workload::fuzzing {

// `configure` sets the format (and column names) on the options of each run.
template <class Configure>
int fuzz_loader(const std::uint8_t* data, std::size_t size, Configure configure) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip_bad : {false, true}) {
    LoadOptions o;
    configure(o);
    o.skip_bad = skip_bad;
    std::uint64_t seen = 0;
    auto sum = load_trace_from_memory(text, "fuzz", o, [&seen, &o](const Request& r) {
      ++seen;
      if (r.input_tokens > kMaxTokenCount || r.output_tokens > kMaxTokenCount) std::abort();
      if (r.arrival_s && !std::isfinite(*r.arrival_s)) std::abort();
      if (r.line == 0) std::abort();
      // Zero-token requests are left out; a failed one (BurstGPT) only comes back on request.
      if ((r.input_tokens == 0 || r.output_tokens == 0) && !o.include_failed) std::abort();
    });
    if (sum.ok() && (sum->requests != seen || sum->requests + sum->failed_excluded + sum->zero_token_excluded +
                                                      sum->skipped_bad + sum->filtered_out !=
                                                  sum->rows))
      std::abort();
  }
  return 0;
}

}  // namespace jouleperf::workload::fuzzing
