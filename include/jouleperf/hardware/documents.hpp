// What `hardware list` and `hardware show` print, as Documents (core/output.hpp): one row
// per profile, or one row per figure with its source; the JSON is profile_json.hpp's.
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/hardware/profile.hpp"
#include "jouleperf/hardware/registry.hpp"

namespace jouleperf::hardware {

// Every profile of `r`: table "profiles" (name, kind, bf16_dense_tflops — FP32 for CPUs
// without BF16 units —, fp8_dense_tflops (empty: none), memory_bandwidth_gbps in GB/s,
// memory_gib, tdp_w, idle_w, tp_link, max_tp, origin) and a footer on the figures' meaning.
// JSON: the array of to_json(profile). Never fails.
table::Document list_document(const HardwareRegistry& r);

// One profile: a header naming it, table "figures" (figure, value, unit, source: peak
// rates in FLOP/s or OP/s, bandwidths in B/s, memory in B, power in W, link latency in s;
// an empty value: none) and `notes` as footer lines. JSON: to_json(p). Never fails.
table::Document show_document(const HardwareProfile& p, std::vector<std::string> notes = {});

}  // namespace jouleperf::hardware
