// libFuzzer target: the generic CSV loader with named columns (see loader_fuzz_common.hpp for what is checked).
#include "loader_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jouleperf::workload;
  return fuzzing::fuzz_loader(data, size, [](LoadOptions& o) {
    o.format = TraceFormat::kCsv;
    o.input_col = "in";
    o.output_col = "out";
    o.time_col = "t";
  });
}
