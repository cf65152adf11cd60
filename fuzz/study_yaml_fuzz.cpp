// Fuzzes the YAML study-file reader: any input either loads (and then expands into a grid
// whose cells all have I, O, B >= 1 and a valid config index) or fails with an error that
// names the file. A crash, a hang or an exception escaping the reader is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "jouleperf/study/grid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto study = jouleperf::study::parse_study_yaml(text, "fuzz.yaml", {"estimate"});
  if (!study) {
    if (study.error().message.find("fuzz.yaml") == std::string::npos) std::abort();
    return 0;
  }
  // Expand only grids of a sane size (a valid file may ask for millions of cells).
  std::size_t n = study->configs.size();
  for (std::size_t axis : {study->input_tokens.size(), study->output_tokens.size(), study->batch_sizes.size()}) {
    n *= axis;
    if (n > 100000) return 0;
  }
  for (const auto& cfg : study->configs)
    if (cfg.setting("batches").has_value()) return 0;  // its own list: sized separately
  for (const auto& cell : jouleperf::study::expand_grid(*study)) {
    if (cell.config_index >= study->configs.size()) std::abort();
    if (cell.key.input_tokens == 0 || cell.key.output_tokens == 0 || cell.key.batch == 0) std::abort();
  }
  return 0;
}
