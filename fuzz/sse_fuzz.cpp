// Fuzzes the incremental SSE parser: the input is split at a point taken from its first
// byte, and the events must equal those of feeding it whole.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "jouleperf/engine/sse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t split = data[0] % size;
  const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  jouleperf::SseParser whole(1 << 16), parts(1 << 16);
  std::vector<jouleperf::SseEvent> a, b;
  const bool ok_a = static_cast<bool>(whole.feed(all, a));
  bool ok_b = static_cast<bool>(parts.feed(all.substr(0, std::min(split, all.size())), b));
  if (ok_b) ok_b = static_cast<bool>(parts.feed(all.substr(std::min(split, all.size())), b));
  if (ok_a && ok_b) {
    if (a.size() != b.size()) std::abort();
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].data != b[i].data || a[i].event != b[i].event || a[i].id != b[i].id) std::abort();
  }
  return 0;
}
