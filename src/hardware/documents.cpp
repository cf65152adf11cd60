#include "jouleperf/hardware/documents.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <utility>

#include "jouleperf/hardware/profile_json.hpp"

namespace jouleperf::hardware {

namespace {

using table::Table;
using table::Value;

constexpr double kGiB = 1073741824.0;

// A positive figure, or an empty cell (the profile has none).
Value positive(double v, double scale = 1.0) {
  Value out;
  if (v > 0) out = v / scale;
  return out;
}

Table profiles_table(const HardwareRegistry& r) {
  Table t{"profiles",
          "Hardware profiles",
          {{"name", "lookup key (hardware show NAME)"},
           {"kind", "gpu or cpu"},
           {"bf16_dense_tflops", "dense BF16/FP16 tensor rate, TFLOP/s (CPUs without BF16 units: FP32)"},
           {"fp8_dense_tflops", "dense FP8 tensor rate, TFLOP/s"},
           {"memory_bandwidth_gbps", "peak memory bandwidth, GB/s"},
           {"memory_gib", "device memory, GiB"},
           {"tdp_w", "thermal design / board power, W"},
           {"idle_w", "idle power with a loaded model (an estimate), W"},
           {"tp_link", "the link tensor parallelism uses"},
           {"max_tp", "devices the link connects at full bandwidth"},
           {"origin", "built-in, or the user profile file"}},
          {}};
  for (const HardwareProfile& p : r.profiles()) {
    const auto& f = p.peak_flops;
    t.rows.push_back({p.name, std::string(device_kind_name(p.kind)), positive(f.bf16 > 0 ? f.bf16 : f.fp32, 1e12),
                      positive(f.fp8, 1e12), p.memory_bandwidth_bps / 1e9, p.memory_bytes / kGiB, p.tdp_w, p.idle_w,
                      p.max_tp > 1 ? p.tp_link.name : std::string("none"), static_cast<std::int64_t>(p.max_tp),
                      p.origin});
  }
  return t;
}

Table figures_table(const HardwareProfile& p) {
  Table t{"figures",
          "Figures and their sources",
          {{"figure", "the profile field"}, {"value", "empty: none"}, {"unit", ""}, {"source", "where it comes from"}},
          {}};
  auto row = [&](const char* field, Value v, const char* unit) {
    t.rows.push_back({std::string(field), std::move(v), std::string(unit), p.source_of(field)});
  };
  const auto& f = p.peak_flops;
  row("peak_flops.fp32", positive(f.fp32), "FLOP/s");
  row("peak_flops.tf32", positive(f.tf32), "FLOP/s");
  row("peak_flops.bf16", positive(f.bf16), "FLOP/s");
  row("peak_flops.fp8", positive(f.fp8), "FLOP/s");
  row("peak_flops.int8", positive(f.int8), "OP/s");
  row("memory_bandwidth_bps", p.memory_bandwidth_bps, "B/s");
  row("memory_bytes", p.memory_bytes, "B");
  row("tdp_w", p.tdp_w, "W");
  row("idle_w", p.idle_w, "W");
  row("max_clock_mhz", positive(p.max_clock_mhz), "MHz");
  const bool link = p.max_tp > 1;
  t.rows.push_back(
      {std::string("tp_link"), link ? Value(p.tp_link.name) : Value{}, std::string(""), p.source_of("tp_link")});
  row("tp_link.bandwidth_bps", link ? positive(p.tp_link.bandwidth_bps) : Value{}, "B/s");
  row("tp_link.latency_s", link ? positive(p.tp_link.latency_s) : Value{}, "s");
  row("max_tp", static_cast<std::int64_t>(p.max_tp), "devices");
  return t;
}

}  // namespace

table::Document list_document(const HardwareRegistry& r) {
  table::Document d;
  d.tables.push_back(profiles_table(r));
  d.footer = {
      "bf16 column: dense BF16/FP16 tensor rate (CPUs without BF16 units: FP32). Idle figures are estimates; "
      "`hardware show NAME` gives every figure's source."};
  d.json = nlohmann::json::array();
  for (const auto& p : r.profiles()) d.json.push_back(to_json(p));
  return d;
}

table::Document show_document(const HardwareProfile& p, std::vector<std::string> notes) {
  table::Document d;
  d.header = {fmt::format("{} ({}, {}){}", p.display_name, p.name, device_kind_name(p.kind),
                          p.aliases.empty() ? "" : fmt::format(", also: {}", fmt::join(p.aliases, ", "))),
              "origin: " + p.origin};
  d.tables.push_back(figures_table(p));
  d.footer = std::move(notes);
  d.json = to_json(p);
  return d;
}

}  // namespace jouleperf::hardware
