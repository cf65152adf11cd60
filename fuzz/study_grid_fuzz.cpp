// Fuzzes the study file's sizes and the grid expansion: any input either loads into a
// grid of at most kMaxCells cells, which then expands to exactly grid_cell_count cells,
// or fails with an error naming the file. A grid over the limit must be refused by the
// reader, never allocated: run with -rss_limit_mb=512 and an allocation of a billion
// cells (or a size range that never ends) is caught as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "jouleperf/study/grid.hpp"

namespace {
constexpr std::uint64_t kMaxCells = 20000;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The size lists alone (the flags' syntax: "a,b,c" or "FROM..TO"): bounded and >= 1.
  if (size < 256) {
    auto list = jouleperf::study::parse_size_list(text, "fuzz");
    if (list) {
      if (list->empty() || list->size() > 256) std::abort();
      for (auto v : *list)
        if (v == 0) std::abort();
    }
  }
  auto study = jouleperf::study::parse_study_yaml(text, "fuzz.yaml", {"estimate", "workload"}, kMaxCells);
  if (!study) {
    if (study.error().message.find("fuzz.yaml") == std::string::npos) std::abort();
    return 0;
  }
  const std::uint64_t n = jouleperf::study::grid_cell_count(*study);
  if (n > kMaxCells) std::abort();  // the reader let an oversized grid through
  const auto cells = jouleperf::study::expand_grid(*study);
  if (cells.size() != n) std::abort();
  for (const auto& cell : cells) {
    if (cell.config_index >= study->configs.size()) std::abort();
    if (cell.key.input_tokens == 0 || cell.key.output_tokens == 0 || cell.key.batch == 0) std::abort();
  }
  return 0;
}
