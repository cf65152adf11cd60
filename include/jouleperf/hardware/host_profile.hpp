// A hardware profile of the CPU this program runs on, from /proc/cpuinfo: the starting
// point that `jouleperf calibrate` fits to measured batches. Every figure is a stated
// rule of thumb (the source strings say which), not a datasheet figure.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::hardware {

// What /proc/cpuinfo says about the CPU (the first processor's model and flags).
struct CpuInfo {
  std::string model_name;       // "model name", e.g. "Intel(R) Xeon(R) Processor"
  double mhz = 0.0;             // highest "cpu MHz" over the processors, MHz (0: none given)
  int logical_cpus = 0;         // "processor" entries
  std::set<std::string> flags;  // "flags" of the first processor
};

// Parses /proc/cpuinfo text. `source` names it in errors. kParse when no processor entry
// or no flags line is found.
Result<CpuInfo> parse_cpuinfo(std::string_view text, std::string_view source);

struct HostProfileOptions {
  int threads = 0;                         // compute threads the engine uses; 0 = every logical CPU
  double idle_w = 0.0;                     // W, for the visible CPUs (the CPU-time model's idle)
  double max_w = 0.0;                      // W, for the visible CPUs (the CPU-time model's max)
  std::string power_basis;                 // where idle_w / max_w come from
  double bandwidth_per_thread_bps = 10e9;  // stated guess, bytes/s per thread
  double memory_bytes = 0.0;               // DRAM, bytes; 0 = 16 GiB (a guess, said so)
  double fallback_ghz = 2.0;               // clock when cpuinfo gives none, GHz
};

// Vector FP32 FLOP per cycle per core from the flags: 64 with avx512f (two 16-wide FMA
// units), 32 with avx2 and fma, else 8. Writes the rule used into `rule`.
double fp32_flop_per_cycle(const CpuInfo& cpu, std::string& rule);

// A CPU profile named "host-cpu": peak FP32 = threads x GHz x FLOP/cycle; INT8 4x that
// with VNNI (avx512_vnni / avx_vnni) else 2x, or 2048 OP/cycle per thread with amx_int8;
// BF16 2x FP32 with avx512_bf16, 1024 FLOP/cycle per thread with amx_bf16, else = FP32;
// bandwidth threads x bandwidth_per_thread_bps (a guess); TDP / idle = max_w / idle_w.
// Every figure has a source string. kInvalidArgument for threads < 0, max_w <= 0 or
// idle_w outside [0, max_w).
Result<HardwareProfile> host_cpu_profile(const CpuInfo& cpu, const HostProfileOptions& options);

// host_cpu_profile of the CPU described by the file `cpuinfo_path` (/proc/cpuinfo), with
// the DRAM size from `meminfo_path` (/proc/meminfo "MemTotal") when readable. Fails
// (kNotFound / kIo / kParse) naming the file when cpuinfo cannot be read or parsed.
Result<HardwareProfile> read_host_cpu_profile(const std::string& cpuinfo_path, const std::string& meminfo_path,
                                              HostProfileOptions options);

}  // namespace jouleperf::hardware
