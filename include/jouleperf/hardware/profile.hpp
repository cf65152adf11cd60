// Hardware profiles: what a device can do (peak dense FLOP/s by precision, memory
// bandwidth and capacity), what it draws (TDP, idle), and how fast it talks to its peers
// for tensor parallelism. Every figure carries its source (docs/simulator.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::hardware {

enum class DeviceKind { kGpu, kCpu };

// "gpu" / "cpu"; kInvalidArgument otherwise.
Result<DeviceKind> parse_device_kind(std::string_view s);
std::string_view device_kind_name(DeviceKind k);

// Arithmetic precisions of the matrix units. kBf16 stands for bf16 and fp16 (the same
// rate on every profile here).
enum class Precision { kFp32, kTf32, kBf16, kFp8, kInt8 };

// "fp32", "tf32", "bf16" (or "fp16"), "fp8", "int8"; kInvalidArgument otherwise.
Result<Precision> parse_precision(std::string_view s);
std::string_view precision_name(Precision p);

// Peak dense (not 2:4-sparse) throughput, FLOP/s (int8: OP/s). 0 = no native support.
struct PeakFlops {
  double fp32 = 0.0;  // vector (CUDA-core / SIMD) FP32
  double tf32 = 0.0;  // tensor-core TF32
  double bf16 = 0.0;  // tensor-core (or AMX / AVX-512 BF16) BF16 and FP16, FP32 accumulate
  double fp8 = 0.0;   // tensor-core FP8
  double int8 = 0.0;  // tensor-core (or AMX / VNNI) INT8

  // The figure for `p`, 0 when the device has no native support for it.
  double at(Precision p) const;
};

// A link between devices used by tensor parallelism (all-reduce), or the host link.
struct Interconnect {
  std::string name;          // "NVLink 4", "PCIe 5.0 x16"
  double bandwidth_bps = 0;  // per direction, per device, bytes/s
  double latency_s = 0;      // one ring step of an all-reduce (software and link), s
};

struct HardwareProfile {
  std::string name;                  // lookup key: "h100-sxm"
  std::vector<std::string> aliases;  // other names it answers to: "h100"
  std::string display_name;          // "NVIDIA H100 SXM5 80GB"
  std::string vendor;                // "NVIDIA", "AMD", "Intel"
  DeviceKind kind = DeviceKind::kGpu;
  PeakFlops peak_flops;
  double memory_bandwidth_bps = 0;  // peak DRAM/HBM bandwidth, bytes/s
  double memory_bytes = 0;          // device memory (a CPU profile: the configured DRAM), bytes
  double tdp_w = 0;                 // thermal design / max board power, W
  double idle_w = 0;                // idle with a loaded model (driver context, no work), W
  double max_clock_mhz = 0;         // highest graphics (SM) clock, MHz; 0 = not known (clock settings
                                    // in MHz are then refused; a clock ratio still works)
  Interconnect tp_link;             // the link tensor parallelism uses (NVLink, else PCIe)
  std::uint32_t max_tp = 1;         // devices that tp_link connects at full bandwidth
  // Where each figure comes from, keyed by field name ("peak_flops.bf16", "tdp_w", ...).
  std::map<std::string, std::string> sources;
  std::string origin = "built-in";  // "built-in" or the file a user profile came from

  // The source of `field`, or "" when none was recorded.
  std::string source_of(std::string_view field) const;
};

// Checks that a profile describes a device: positive bandwidth, memory, TDP and bf16-or-
// fp32 peak, 0 <= idle < TDP, max_tp >= 1, non-negative link figures, a name.
// kInvalidArgument naming the field otherwise.
Status validate_profile(const HardwareProfile& p);

// Canonical form of a profile name for look-ups: lower case, ' ' and '_' become '-'.
std::string normalize_profile_name(std::string_view name);

}  // namespace jouleperf::hardware
