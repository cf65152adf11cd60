// libFuzzer target: the BurstGPT CSV loader (6- and 8-column releases) (see loader_fuzz_common.hpp for what is
// checked).
#include "loader_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jouleperf::workload;
  return fuzzing::fuzz_loader(data, size, [](LoadOptions& o) { o.format = TraceFormat::kBurstGpt; });
}
