#include "jouleperf/estimate/request_estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "jouleperf/workload/binning.hpp"

namespace jouleperf::estimate {
namespace {

std::optional<std::uint64_t> edge_at_or_above(const std::vector<std::uint64_t>& edges, std::uint64_t v) {
  auto it = std::lower_bound(edges.begin(), edges.end(), v);
  if (it == edges.end()) return std::nullopt;
  return *it;
}

}  // namespace

Result<BinnedRequestEnergy> binned_request_energy(const CellGrid& grid, std::uint64_t batch, std::uint64_t input,
                                                  std::uint64_t output) {
  if (input == 0 || output == 0 || batch == 0)
    return make_error(Errc::kInvalidArgument, "binned request energy: lengths and batch must be >= 1");
  const auto i = edge_at_or_above(workload::default_input_edges(), input);
  const auto o = edge_at_or_above(workload::default_output_edges(), output);
  if (!i || !o)
    return make_error(Errc::kNotFound,
                      fmt::format("request I={} O={} is beyond the paper's last bin edges", input, output));
  auto e = interpolate_at(grid, batch, static_cast<double>(*i), static_cast<double>(*o), /*clamp_below=*/true);
  if (!e) return e.error();
  return BinnedRequestEnergy{*i, *o, e->energy_batch_j() / static_cast<double>(batch), !e->exact};
}

}  // namespace jouleperf::estimate
