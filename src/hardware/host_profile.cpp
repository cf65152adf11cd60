#include "jouleperf/hardware/host_profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "jouleperf/core/text.hpp"

namespace jouleperf::hardware {

namespace {

// "key : value" -> (trimmed key, trimmed value); false when there is no colon.
bool split_field(std::string_view line, std::string_view& key, std::string_view& value) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

}  // namespace

Result<CpuInfo> parse_cpuinfo(std::string_view text, std::string_view source) {
  CpuInfo out;
  bool have_flags = false;
  std::istringstream in{std::string(text)};
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view key, value;
    if (!split_field(line, key, value)) continue;
    if (key == "processor") {
      ++out.logical_cpus;
    } else if (key == "model name" && out.model_name.empty()) {
      out.model_name = std::string(value);
    } else if (key == "cpu MHz") {
      auto mhz = parse_double(value);
      if (!mhz)
        return make_error(Errc::kParse, fmt::format("{}:{}: 'cpu MHz': {}", source, line_no, mhz.error().message));
      out.mhz = std::max(out.mhz, *mhz);
    } else if (key == "flags" && !have_flags) {
      have_flags = true;
      std::istringstream words{std::string(value)};
      std::string w;
      while (words >> w) out.flags.insert(w);
    }
  }
  if (out.logical_cpus == 0) return make_error(Errc::kParse, fmt::format("{}: no 'processor' entry", source));
  if (!have_flags) return make_error(Errc::kParse, fmt::format("{}: no 'flags' line", source));
  return out;
}

double fp32_flop_per_cycle(const CpuInfo& cpu, std::string& rule) {
  if (cpu.flags.count("avx512f")) {
    rule = "avx512f: 2 FMA units x 16 lanes x 2 = 64 FP32 FLOP/cycle";
    return 64;
  }
  if (cpu.flags.count("avx2") && cpu.flags.count("fma")) {
    rule = "avx2+fma: 2 FMA units x 8 lanes x 2 = 32 FP32 FLOP/cycle";
    return 32;
  }
  rule = "no avx2+fma: 8 FP32 FLOP/cycle (SSE)";
  return 8;
}

Result<HardwareProfile> host_cpu_profile(const CpuInfo& cpu, const HostProfileOptions& o) {
  if (o.threads < 0) return make_error(Errc::kInvalidArgument, "host profile: threads must be >= 0");
  if (!(o.max_w > 0) || o.idle_w < 0 || !(o.idle_w < o.max_w))
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("host profile: need 0 <= idle < max power (got idle {} W, max {} W)", o.idle_w, o.max_w));
  const int threads = o.threads > 0 ? o.threads : std::max(cpu.logical_cpus, 1);
  const bool have_clock = cpu.mhz > 0;
  const double ghz = have_clock ? cpu.mhz / 1000.0 : o.fallback_ghz;
  const std::string clock_src =
      have_clock ? fmt::format("{:.2f} GHz ('cpu MHz' in /proc/cpuinfo: the current clock, not turbo)", ghz)
                 : fmt::format("{:.2f} GHz (assumed: /proc/cpuinfo gives no 'cpu MHz')", ghz);
  std::string rule;
  const double per_cycle = fp32_flop_per_cycle(cpu, rule);
  auto has = [&](const char* f) { return cpu.flags.count(f) > 0; };

  HardwareProfile p;
  p.name = "host-cpu";
  p.display_name = cpu.model_name.empty() ? "this machine's CPU" : cpu.model_name;
  p.vendor = "";
  p.kind = DeviceKind::kCpu;
  p.origin = "host (/proc/cpuinfo)";
  const double fp32 = threads * ghz * 1e9 * per_cycle;
  p.peak_flops.fp32 = fp32;
  p.sources["peak_flops.fp32"] = fmt::format("{} threads x {} x {}", threads, clock_src, rule);
  if (has("amx_bf16")) {
    p.peak_flops.bf16 = threads * ghz * 1e9 * 1024;
    p.sources["peak_flops.bf16"] = "amx_bf16: 1024 BF16 FLOP/cycle per thread (AMX tile unit) x threads x clock";
  } else if (has("avx512_bf16")) {
    p.peak_flops.bf16 = 2 * fp32;
    p.sources["peak_flops.bf16"] = "avx512_bf16: 2x FP32 (VDPBF16PS pairs)";
  } else {
    p.peak_flops.bf16 = fp32;
    p.sources["peak_flops.bf16"] = "no AMX / AVX512-BF16 flag: same as FP32";
  }
  if (has("amx_int8")) {
    p.peak_flops.int8 = threads * ghz * 1e9 * 2048;
    p.sources["peak_flops.int8"] = "amx_int8: 2048 INT8 OP/cycle per thread (AMX tile unit) x threads x clock";
  } else if (has("avx512_vnni") || has("avx_vnni")) {
    p.peak_flops.int8 = 4 * fp32;
    p.sources["peak_flops.int8"] = "VNNI (avx512_vnni / avx_vnni): 4x FP32 (4 int8 products per 32-bit lane)";
  } else {
    p.peak_flops.int8 = 2 * fp32;
    p.sources["peak_flops.int8"] = "no VNNI: 2x FP32 (assumed, 16-bit multiply-add of int8 pairs)";
  }
  p.memory_bandwidth_bps = threads * o.bandwidth_per_thread_bps;
  p.sources["memory_bandwidth_bps"] =
      fmt::format("GUESS: {} threads x {:.3g} GB/s per thread (not measured; calibrate fits it)", threads,
                  o.bandwidth_per_thread_bps / 1e9);
  p.memory_bytes = o.memory_bytes > 0 ? o.memory_bytes : 16.0 * (1ull << 30);
  p.sources["memory_bytes"] =
      o.memory_bytes > 0 ? "MemTotal in /proc/meminfo" : "GUESS: 16 GiB (/proc/meminfo not readable)";
  p.tdp_w = o.max_w;
  p.idle_w = o.idle_w;
  const std::string basis = o.power_basis.empty() ? "given" : o.power_basis;
  p.sources["tdp_w"] = "the CPU-time model's full-load power of the visible CPUs: " + basis;
  p.sources["idle_w"] = "the CPU-time model's idle power of the visible CPUs: " + basis;
  p.tp_link = Interconnect{"none (one socket)", 0.0, 0.0};
  p.max_tp = 1;
  if (auto st = validate_profile(p); !st) return st.error();
  return p;
}

Result<HardwareProfile> read_host_cpu_profile(const std::string& cpuinfo_path, const std::string& meminfo_path,
                                              HostProfileOptions options) {
  auto text = read_text_file(cpuinfo_path);
  if (!text) return text.error();
  auto cpu = parse_cpuinfo(*text, cpuinfo_path);
  if (!cpu) return cpu.error();
  if (options.memory_bytes <= 0) {
    if (auto mem = read_text_file(meminfo_path)) {
      std::istringstream in(*mem);
      std::string line;
      while (std::getline(in, line)) {
        std::string_view key, value;
        if (!split_field(line, key, value) || key != "MemTotal") continue;
        const auto space = value.find(' ');
        if (auto kb = parse_u64(value.substr(0, space))) options.memory_bytes = static_cast<double>(*kb) * 1024.0;
        break;
      }
    }
  }
  return host_cpu_profile(*cpu, options);
}

}  // namespace jouleperf::hardware
