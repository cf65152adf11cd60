// libFuzzer target: the Prometheus text parser must never crash, hang or read out of
// bounds, and must either parse or fail with a one-line kParse error naming the line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jouleperf/sensor/prometheus_text.hpp"

namespace {

struct Checker final : jouleperf::PromVisitor {
  std::size_t samples = 0;
  std::size_t last_line = 0;
  std::size_t bytes = 0;
  void on_sample(const jouleperf::PromSampleView& s) override {
    if (s.name.empty() || s.line == 0 || s.line < last_line) __builtin_trap();
    last_line = s.line;
    for (const auto& l : s.labels) {
      if (l.name.empty()) __builtin_trap();
      bytes += l.value.size();  // touch every view
    }
    ++samples;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Checker checker;
  const auto st = jouleperf::parse_prometheus_text(text, checker);
  if (!st.ok()) {
    const auto& e = st.error();
    if (e.code != jouleperf::Errc::kParse) __builtin_trap();
    if (e.message.rfind("line ", 0) != 0) __builtin_trap();
    if (e.message.find('\n') != std::string::npos) __builtin_trap();
  }
  // The owned form agrees with the streaming form.
  const auto owned = jouleperf::parse_prometheus_samples(text);
  if (owned.ok() != st.ok()) __builtin_trap();
  if (owned.ok() && owned->size() != checker.samples) __builtin_trap();
  return 0;
}
