// Realistic in-memory report data for the report tests: two configurations over a small
// I x O x B grid (3 repetitions each, one skipped cell), and one artifact of every kind
// (estimate, replay, validation, power-trace, lengths, study summary). A hostile model
// name checks that strings from models and traces stay inert.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/report/report_data.hpp"

namespace jouleperf::testing {

// Would run script (and record an error on the page) if it reached the DOM unescaped.
inline const std::string kHostileModel =
    "m<script>jpRecordError('xss-script')</script><img src=x onerror=\"jpRecordError('xss-img')\">'\"&";

// A replay's requests with their attributed energy (docs/serving.md): 12 requests of
// prompts 20..420 tokens and 6..120 generated, about 0.004 J per prompt token and 0.09 J
// per generated token; one failed (left out of the figure).
inline nlohmann::json replay_requests() {
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < 12; ++i) {
    const double in = 20.0 + 35.0 * i, gen = 6.0 + 10.0 * (i % 12);
    out.push_back({{"send_s", 0.5 * i},
                   {"ok", i != 7},
                   {"error", i == 7 ? "HTTP 500: overloaded" : ""},
                   {"input_tokens_asked", in},
                   {"output_tokens", i == 7 ? 0.0 : gen},
                   {"ttft_s", 0.2},
                   {"e2e_s", 1.0 + 0.1 * gen},
                   {"energy_j", 0.004 * in + 0.09 * gen},
                   {"prefill_j", 0.004 * in},
                   {"decode_j", 0.09 * gen}});
  }
  return out;
}

inline report::ReportData realistic_report_data() {
  using nlohmann::json;
  report::ReportData d;
  study::Config base;
  base.name = "baseline";
  base.model = "llama-tiny.gguf";
  base.weight_type = "f16";
  base.baseline = true;
  study::Config fast;
  fast.name = "q8_0-continuous";
  fast.model = kHostileModel;
  fast.weight_type = "q8_0";
  fast.batching = "continuous";
  fast.settings = {{"flash_attention", "on"}};
  d.configs = {base, fast};

  const double factor[2] = {1.0, 0.62};
  for (int c = 0; c < 2; ++c) {
    for (std::uint64_t in : {32u, 128u, 512u}) {
      for (std::uint64_t out : {8u, 32u, 128u}) {
        for (std::uint64_t b : {1u, 4u, 16u}) {
          study::CellResult r;
          r.key = {d.configs[static_cast<std::size_t>(c)].name, in, out, b};
          r.config_key = d.configs[static_cast<std::size_t>(c)].key();
          r.energy_source = "cpu-time-model";
          r.estimated = true;
          r.idle_power_w = 3.5;
          r.conditions = {{"sensor", "cpu-model"}, {"host", "test-host"}};
          r.warmup = 2;
          if (c == 1 && in == 512 && out == 128 && b == 16) {
            r.status = study::CellStatus::kSkipped;
            r.reason = "context too long: 512+128 x 16 > n_ctx";
            d.cells.push_back(r);
            continue;
          }
          for (int rep = 0; rep < 3; ++rep) {
            study::Repetition p;
            const double bd = static_cast<double>(b);
            p.prefill_energy_j = factor[c] * bd * static_cast<double>(in) * 0.004 * (1.0 + 0.01 * rep);
            p.decode_energy_j = factor[c] * static_cast<double>(out) * (0.08 + 0.01 * bd) * (1.0 - 0.01 * rep);
            p.energy_j = *p.prefill_energy_j + *p.decode_energy_j;
            p.above_idle_j = p.energy_j * 0.8;
            p.prefill_s = bd * static_cast<double>(in) * 2e-4;
            p.decode_s = static_cast<double>(out) * (0.01 + 0.001 * bd);
            p.duration_s = p.prefill_s + p.decode_s;
            p.ttft_mean_s = p.prefill_s;
            p.uncertainty_j = 0.05 * p.energy_j;
            r.reps.push_back(p);
          }
          d.cells.push_back(r);
        }
      }
    }
  }

  auto est_config = [](const char* name, double e, double saving) {
    return json{{"config", name},
                {"energy_source", "cpu-time-model"},
                {"estimated", true},
                {"simulated", false},
                {"energy_j", e},
                {"energy_lo_j", e * 0.95},
                {"energy_hi_j", e * 1.05},
                {"corrected_energy_j", e * 0.8},
                {"ideal_energy_j", e / 40.0},
                {"above_ideal_pct", 3900.0},
                {"energy_wh", e / 3600.0},
                {"per_request_j", e / 19366.0},
                {"per_output_token_j", e / 19366.0 / 211.0},
                {"gco2e", e / 3.6e6 * 367.0 * 1.2},
                {"saving_pct", saving},
                {"bins", json::array()}};
  };
  d.artifacts.push_back(
      {"estimate",
       "azure-conv-2023",
       {{"workload", "azure-conv-2023"},
        {"trace", "embedded:azure-conv-2023"},
        {"requests", 19366},
        {"baseline", "baseline"},
        {"configs", json::array({est_config("baseline", 52000.0, 0.0), est_config("q8_0-continuous", 31000.0, 40.4)})}},
       0.0});
  d.artifacts.push_back(
      {"estimate",
       "azure-code-2023",
       {{"workload", "azure-code-2023"},
        {"requests", 8819},
        {"baseline", "baseline"},
        {"configs", json::array({est_config("baseline", 21000.0, 0.0), est_config("q8_0-continuous", 22500.0, -7.1)})}},
       0.0});
  d.artifacts.push_back(
      {"replay",
       "q8_0-continuous/poisson",
       {{"config", "q8_0-continuous"},
        {"engine", "llamacpp"},
        {"batching", "continuous"},
        {"max_batch", 8},
        {"arrivals", "poisson 2.0 req/s"},
        {"requests", 40},
        {"completed", 40},
        {"duration_s", 24.0},
        {"energy_j", 410.0},
        {"above_idle_j", 330.0},
        {"energy_source", "cpu-time-model"},
        {"estimated", true},
        {"simulated", false},
        {"per_request_j", 10.25},
        {"per_output_token_j", 0.08},
        {"latency_s",
         {{"ttft", {{"p50", 0.2}, {"p90", 0.4}, {"p99", 0.7}, {"mean", 0.25}}},
          {"e2e", {{"p50", 2.1}, {"p90", 3.3}, {"p99", 4.9}, {"mean", 2.4}}}}},
        {"goodput_rps", 1.9},
        {"slo_attainment", 0.95},
        {"offline", {{"energy_j", 300.0}, {"per_request_j", 7.5}, {"duration_s", 12.0}, {"batch", 8}}},
        {"per_request", replay_requests()}},
       0.0});
  d.artifacts.push_back({"validation",
                         "baseline/azure-conv-2023",
                         {{"config", "baseline"},
                          {"workload", "azure-conv-2023"},
                          {"requests", 64},
                          {"batch", 8},
                          {"energy_source", "cpu-time-model"},
                          {"estimated", true},
                          {"measured_energy_j", 120.0},
                          {"measured_uncertainty_j", 6.0},
                          {"paper_estimate_j", 150.0},
                          {"paper_error_pct", 25.0},
                          {"corrected_estimate_j", 126.0},
                          {"corrected_error_pct", 5.0}},
                         0.0});
  json samples = json::array();
  for (int i = 0; i < 60; ++i) {
    const double t = 0.1 * i;
    samples.push_back({{"t_s", t}, {"power_w", t < 1.5 ? 18.0 + std::sin(t) : 12.0 + 0.5 * std::cos(3 * t)}});
  }
  d.artifacts.push_back(
      {"power-trace",
       "baseline I=512 O=128 B=4 </script><script>jpRecordError('xss-trace')</script>",
       {{"sensor", "cpu-model"},
        {"energy_source", "cpu-time-model"},
        {"estimated", true},
        {"samples", samples},
        {"marks", json::array({{{"t_s", 0.0}, {"name", "prefill"}}, {{"t_s", 1.5}, {"name", "decode"}}})}},
       0.0});
  json real_in = json::array(), real_out = json::array(), bin_in = json::array(), bin_out = json::array();
  for (int i = 1; i <= 40; ++i) {
    const double q = i / 40.0;
    real_in.push_back({std::round(20.0 * std::pow(400.0, q)), q});
    real_out.push_back({std::round(5.0 * std::pow(100.0, q)), q});
  }
  const double edges_in[] = {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
  for (int i = 0; i < 9; ++i) bin_in.push_back({edges_in[i], (i + 1) / 9.0});
  for (int i = 0; i < 7; ++i) bin_out.push_back({8.0 * std::pow(2.0, i), (i + 1) / 7.0});
  d.artifacts.push_back({"lengths",
                         "azure-conv-2023",
                         {{"workload", "azure-conv-2023"},
                          {"real", {{"input", real_in}, {"output", real_out}}},
                          {"binned", {{"input", bin_in}, {"output", bin_out}}}},
                         0.0});
  d.artifacts.push_back({"study",
                         "summary",
                         {{"title", "Test study </title><script>jpRecordError('xss-title')</script>"},
                          {"scale_note", "2 configs at a reduced grid"},
                          {"sensor_note", "energies are estimated from CPU time (no RAPL, no GPU here)"},
                          {"started_unix_s", 1.7e9},
                          {"finished_unix_s", 1.7e9 + 3600},
                          {"host", {{"cpus", 2}}}},
                         0.0});
  return d;
}

// The realistic data plus a simulated part (two configurations of the simulator on an
// A6000, their cells about 40x the CPU cells' energy, and their own workload estimate), as
// the main job stores it: measured and simulated must stay in separate sections and scales.
inline report::ReportData mixed_report_data() {
  using nlohmann::json;
  report::ReportData d = realistic_report_data();
  const char* names[2] = {"a6000-static", "a6000-continuous"};
  for (int c = 0; c < 2; ++c) {
    study::Config sim;
    sim.name = names[c];
    sim.engine = "sim";
    sim.model = "llama-3.1-8b";
    sim.batching = c == 0 ? "static" : "continuous";
    sim.settings = {{"hardware", "a6000"}};
    d.configs.push_back(sim);
    for (std::uint64_t in : {128u, 512u, 2048u}) {
      for (std::uint64_t out : {8u, 128u, 512u}) {
        for (std::uint64_t b : {1u, 8u, 64u}) {
          study::CellResult r;
          r.key = {sim.name, in, out, b};
          r.config_key = sim.key();
          r.energy_source = "simulated";
          r.simulated = true;
          study::Repetition p;
          const double bd = static_cast<double>(b);
          p.prefill_energy_j = 40.0 * bd * static_cast<double>(in) * 0.002;
          p.decode_energy_j = 40.0 * static_cast<double>(out) * (0.5 + 0.02 * bd) * (c == 0 ? 1.0 : 0.7);
          p.energy_j = *p.prefill_energy_j + *p.decode_energy_j;
          p.duration_s = 0.001 * p.energy_j;
          r.reps.push_back(p);
          d.cells.push_back(r);
        }
      }
    }
  }
  auto sim_entry = [](const char* name, double e, double saving) {
    return json{{"config", name},
                {"energy_source", "simulated"},
                {"estimated", false},
                {"simulated", true},
                {"energy_j", e},
                {"energy_lo_j", e},
                {"energy_hi_j", e},
                {"corrected_energy_j", e * 0.85},
                {"ideal_energy_j", e / 3.0},
                {"per_1000_requests_wh", e / 3600.0 / 19366.0 * 1000.0},
                {"saving_pct", saving}};
  };
  d.artifacts.push_back(
      {"estimate",
       "azure-conv-2023 (simulated a6000)",
       {{"workload", "azure-conv-2023"},
        {"requests", 19366},
        {"baseline", "a6000-static"},
        {"configs", json::array({sim_entry("a6000-static", 2.0e6, 0.0), sim_entry("a6000-continuous", 1.3e6, 35.0)})}},
       0.0});
  return d;
}

}  // namespace jouleperf::testing
