// The paper's estimate for one request, to set beside its measured (attributed) energy
// (the report's "Energy per request" figure): its lengths rounded up to the paper's bin
// edges, and E_batch(I*, O*, B) / B from the measured cells.
#pragma once

#include <cstdint>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/interpolate.hpp"

namespace jouleperf::estimate {

struct BinnedRequestEnergy {
  std::uint64_t input_edge = 0, output_edge = 0;  // I*, O*: the smallest paper edges >= its lengths
  double energy_j = 0;                            // E_batch(I*, O*, B) / B, J
  bool interpolated = false;                      // (I*, O*, B) was not a measured cell
};

// kNotFound when a length is beyond the paper's last edge (8192 in, 512 out: the paper
// leaves such requests out) or the grid has nothing around (I*, O*) at batch B (lengths
// below the grid are raised to it); kInvalidArgument for a zero length or batch.
Result<BinnedRequestEnergy> binned_request_energy(const CellGrid& grid, std::uint64_t batch, std::uint64_t input,
                                                  std::uint64_t output);

}  // namespace jouleperf::estimate
