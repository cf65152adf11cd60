// CUDA_VISIBLE_DEVICES mapped to NVML indices (docs/cluster.md, "One meter per node"): a
// process restricted to some GPUs measures those GPUs only, so that two shards on one
// node with disjoint GPU sets can measure at once. Pure: the caller gives the variable's
// value and the GPUs NVML sees.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// One GPU as NVML enumerates it.
struct NvmlGpuId {
  unsigned index = 0;  // NVML index (NVML numbers GPUs in PCI bus order)
  std::string uuid;    // "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6"; "" when NVML could not give it
};

// The NVML indices that CUDA_VISIBLE_DEVICES `visible` names, in NVML order (ascending),
// among `gpus` (every GPU NVML sees). Entries are comma-separated; blanks around them are
// ignored:
//   - a whole number: an NVML index. NVML numbers GPUs in PCI bus order; CUDA numbers them
//     fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so an index names the same GPU
//     to both only with that setting (or on a node of one kind of GPU). UUIDs name the
//     same GPU everywhere.
//   - "GPU-...": the GPU whose UUID is, or begins with, it (CUDA accepts a unique prefix).
//   - a negative number ends the list, as in CUDA ("-1" alone: no GPU).
// An empty value (set, but empty) names no GPU: the result is empty.
// Fails with kUnsupported for a MIG instance ("MIG-..."; NVML's energy belongs to the
// whole board), kNotFound for an entry that names no GPU here (an index past the last,
// a UUID no GPU has; the message names the entry and lists the GPUs), kInvalidArgument
// for an entry that is none of the above, a UUID prefix that several GPUs share, or a
// GPU named twice. Where CUDA silently drops an entry it cannot use and every one after
// it, this fails: measuring other GPUs than the program uses would be wrong.
Result<std::vector<unsigned>> select_visible_gpus(std::string_view visible, const std::vector<NvmlGpuId>& gpus);

}  // namespace jouleperf
