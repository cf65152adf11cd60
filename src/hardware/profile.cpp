#include "jouleperf/hardware/profile.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace jouleperf::hardware {

Result<DeviceKind> parse_device_kind(std::string_view s) {
  if (s == "gpu") return DeviceKind::kGpu;
  if (s == "cpu") return DeviceKind::kCpu;
  return make_error(Errc::kInvalidArgument, fmt::format("device kind '{}': expected 'gpu' or 'cpu'", s));
}

std::string_view device_kind_name(DeviceKind k) { return k == DeviceKind::kCpu ? "cpu" : "gpu"; }

Result<Precision> parse_precision(std::string_view s) {
  if (s == "fp32") return Precision::kFp32;
  if (s == "tf32") return Precision::kTf32;
  if (s == "bf16" || s == "fp16") return Precision::kBf16;
  if (s == "fp8") return Precision::kFp8;
  if (s == "int8") return Precision::kInt8;
  return make_error(Errc::kInvalidArgument,
                    fmt::format("precision '{}': expected fp32, tf32, bf16, fp16, fp8 or int8", s));
}

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kTf32: return "tf32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp8: return "fp8";
    case Precision::kInt8: return "int8";
  }
  return "bf16";
}

double PeakFlops::at(Precision p) const {
  switch (p) {
    case Precision::kFp32: return fp32;
    case Precision::kTf32: return tf32;
    case Precision::kBf16: return bf16;
    case Precision::kFp8: return fp8;
    case Precision::kInt8: return int8;
  }
  return 0.0;
}

std::string HardwareProfile::source_of(std::string_view field) const {
  auto it = sources.find(std::string(field));
  return it == sources.end() ? std::string() : it->second;
}

Status validate_profile(const HardwareProfile& p) {
  auto bad = [&](std::string_view what) {
    return make_error(Errc::kInvalidArgument, fmt::format("hardware profile '{}': {}", p.name, what));
  };
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0.0; };
  if (p.name.empty()) return bad("name must not be empty");
  const PeakFlops& f = p.peak_flops;
  for (double v : {f.fp32, f.tf32, f.bf16, f.fp8, f.int8})
    if (!finite_nonneg(v)) return bad("peak_flops must be finite and >= 0");
  if (f.fp32 <= 0.0 && f.bf16 <= 0.0) return bad("peak_flops needs fp32 or bf16 > 0");
  if (!(p.memory_bandwidth_bps > 0.0) || !std::isfinite(p.memory_bandwidth_bps))
    return bad("memory_bandwidth_bps must be > 0");
  if (!(p.memory_bytes > 0.0) || !std::isfinite(p.memory_bytes)) return bad("memory_bytes must be > 0");
  if (!(p.tdp_w > 0.0) || !std::isfinite(p.tdp_w)) return bad("tdp_w must be > 0");
  if (!finite_nonneg(p.idle_w) || p.idle_w >= p.tdp_w) return bad("idle_w must be >= 0 and below tdp_w");
  if (p.max_tp < 1) return bad("max_tp must be >= 1");
  if (!finite_nonneg(p.max_clock_mhz)) return bad("max_clock_mhz must be finite and >= 0 (0: not known)");
  if (!finite_nonneg(p.tp_link.bandwidth_bps) || !finite_nonneg(p.tp_link.latency_s))
    return bad("tp_link bandwidth and latency must be finite and >= 0");
  if (p.max_tp > 1 && p.tp_link.bandwidth_bps <= 0.0) return bad("max_tp > 1 needs a tp_link bandwidth");
  return {};
}

std::string normalize_profile_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ' ' || c == '_')
      out += '-';
    else
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace jouleperf::hardware
