// `jouleperf replay`'s Document: the lines and tables people read, the JSON scripts parse.
#include <fmt/format.h>

#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/study/replay.hpp"

namespace jouleperf::study {

namespace {

using nlohmann::json;
using table::Value;

Value num(const json& v) { return v.is_number() ? Value(v.get<double>()) : Value(); }
Value count(const json& v) { return v.is_number() ? Value(v.get<std::int64_t>()) : Value(); }
std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }
double dbl(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

table::Table latency_table(const json& j) {
  table::Table t{"latency", "Latency of the successful requests (send lateness: every send), s", {}, {}};
  for (const char* c : {"metric", "mean", "p50", "p90", "p99", "max"}) t.columns.push_back({c, ""});
  for (const auto& [name, key] : {std::pair{"ttft_s", "ttft_s"},
                                  {"tpot_s", "tpot_s"},
                                  {"itl_s", "itl_s"},
                                  {"e2e_s", "e2e_s"},
                                  {"send_late_s", "send_lateness_s"}}) {
    const json& p = j[key];
    t.rows.push_back({std::string(name), num(p["mean"]), num(p["p50"]), num(p["p90"]), num(p["p99"]), num(p["max"])});
  }
  return t;
}

table::Table served_request_table(const json& j) {
  table::Table t{"requests", "Requests", {}, {}};
  for (const char* c : {"request", "arrival_s", "queue_s", "ttft_s", "e2e_s", "output_tokens", "energy_j"})
    t.columns.push_back({c, ""});
  std::int64_t i = 0;
  for (const auto& q : j["per_request"])
    t.rows.push_back({i++, num(q["send_s"]), num(q["queue_s"]), num(q["ttft_s"]), num(q["e2e_s"]),
                      count(q["output_tokens"]), q.contains("energy_j") ? num(q["energy_j"]) : Value()});
  return t;
}

std::string energy_line(const json& j) {
  std::string line = fmt::format("energy {:.3f} J [{}{}]", j["energy_j"].get<double>(), str(j["energy_source"]),
                                 j["estimated"].get<bool>() ? ", ESTIMATED" : "");
  if (j["energy_per_request_j"].is_number())
    line += fmt::format(", {:.3f} J/request", j["energy_per_request_j"].get<double>());
  if (j["energy_per_output_token_j"].is_number())
    line += fmt::format(", {:.4f} J/output token", j["energy_per_output_token_j"].get<double>());
  if (j["above_idle_j"].is_number()) line += fmt::format(", {:.3f} J above idle", j["above_idle_j"].get<double>());
  return line;
}

// "energy per request (black-box; ...): p50 ..., p90 ..., p99 ... J; 12.3 J to requests + 4.5 J idle = 16.8 J"
std::string attribution_line(const json& a) {
  const json& p = a["energy_per_request_j"];
  return fmt::format(
      "energy per request ({}): p50 {:.4g} J, p90 {:.4g} J, p99 {:.4g} J over {} successful; {:.4g} J "
      "to requests + {:.4g} J idle unattributed = {:.4g} J",
      str(a["description"]), p["p50"].get<double>(), p["p90"].get<double>(), p["p99"].get<double>(),
      p["n"].get<std::int64_t>(), a["attributed_j"].get<double>(), a["unattributed_idle_j"].get<double>(),
      a["total_j"].get<double>());
}

// "black-box against white-box: median |difference| 4.1 %, p90 9.8 % over 20 requests"
std::string black_white_line(const json& d) {
  return fmt::format(
      "black-box against white-box (the same slices split by token timelines only): median |difference| {:.1f} %, "
      "p90 {:.1f} %, max {:.1f} % over {} requests",
      100.0 * d["median_abs_rel"].get<double>(), 100.0 * d["p90_abs_rel"].get<double>(),
      100.0 * d["max_abs_rel"].get<double>(), d["n"].get<std::int64_t>());
}

// Chargeback per group, the unattributed idle as its own row: the rows add up to the total.
table::Table chargeback_table(const json& c) {
  table::Table t{"chargeback",
                 fmt::format("Energy per {} (groups + idle unattributed = {:.4g} J; gCO2e at {:g} g/kWh, PUE {:g})",
                             str(c["column"]), c["total_j"].get<double>(),
                             c["carbon"]["intensity_g_per_kwh"].get<double>(), c["carbon"]["pue"].get<double>()),
                 {},
                 {}};
  for (const char* col :
       {"group", "requests", "failed", "energy_j", "prefill_j", "decode_j", "idle_j", "share", "gco2e"})
    t.columns.push_back({col, ""});
  for (const auto& g : c["groups"])
    t.rows.push_back({str(g["group"]), count(g["requests"]), count(g["failed"]), num(g["energy_j"]),
                      num(g["prefill_j"]), num(g["decode_j"]), num(g["idle_j"]), num(g["share"]), num(g["gco2e"])});
  const double total = c["total_j"].get<double>();
  const double idle = c["unattributed_idle_j"].get<double>();
  t.rows.push_back({std::string("(idle, unattributed)"), Value(), Value(), Value(idle), Value(), Value(), Value(idle),
                    Value(total > 0 ? idle / total : 0.0), num(c["unattributed_gco2e"])});
  return t;
}

std::vector<std::string> replay_header(const json& j, bool served) {
  std::vector<std::string> h;
  h.push_back(fmt::format("replay on {}: {} requests, {} ok, {} failed, {} length mismatches, {:.3f} s",
                          served ? str(j["model_path"]) : str(j["url"]), j["requests"].get<std::int64_t>(),
                          j["ok"].get<std::int64_t>(), j["failed"].get<std::int64_t>(),
                          j["mismatched"].get<std::int64_t>(), j["duration_s"].get<double>()));
  if (served)
    h.push_back(fmt::format(
        "llamacpp, {} batching, max batch {}: {} forwards, {:.2f} sequences per step (peak {}), busy {:.3f} s",
        str(j["batching"]), j["max_batch"].get<std::int64_t>(), j["forwards"].get<std::int64_t>(),
        j["mean_batch"].get<double>(), j["peak_batch"].get<std::int64_t>(), j["busy_s"].get<double>()));
  h.push_back(fmt::format("throughput {:.2f} req/s, {:.1f} output tokens/s; goodput {:.2f} req/s ({} met the SLO '{}')",
                          j["throughput_rps"].get<double>(), j["output_tokens_per_s"].get<double>(),
                          j["goodput_rps"].get<double>(), j["slo_met"].get<std::int64_t>(), str(j["slo"])));
  h.push_back(energy_line(j));
  if (j.contains("attribution") && j["attribution"].is_object()) {
    h.push_back(attribution_line(j["attribution"]));
    const json& a = j["attribution"];
    if (a.contains("black_box_vs_white_box") && a["black_box_vs_white_box"].is_object())
      h.push_back(black_white_line(a["black_box_vs_white_box"]));
  }
  if (j.contains("chargeback_error")) h.push_back("chargeback: none: " + str(j["chargeback_error"]));
  if (j.contains("offline")) {
    const json& off = j["offline"];
    const double e = off["energy_j"].get<double>();
    h.push_back(fmt::format(
        "offline (all at t=0, static batches of {}): {:.3f} s, energy {:.3f} J, {:.3f} J/request, "
        "{:.4f} J/output token; online/offline energy {:.2f}x",
        off["max_batch"].get<std::int64_t>(), off["duration_s"].get<double>(), e, dbl(off["energy_per_request_j"]),
        dbl(off["energy_per_output_token_j"]), e > 0 ? j["energy_j"].get<double>() / e : 0.0));
  }
  return h;
}

std::vector<std::string> failure_footer(const json& j, const std::vector<const json*>& phases, bool estimated) {
  std::vector<std::string> f;
  for (const json* p : phases)
    for (const auto& r : (*p)["failures"])
      f.push_back(fmt::format("FAILED {}request {}: {}", p->contains("name") ? str((*p)["name"]) + " " : "",
                              r["request"].dump(), str(r["error"])));
  if (!j.contains("phases") && j["failed"].get<std::int64_t>() > 0)
    f.push_back(fmt::format("failure share {:.1f}% ({} of {}), allowed {:g}", 100.0 * j["failure_rate"].get<double>(),
                            j["failed"].get<std::int64_t>(), j["requests"].get<std::int64_t>(),
                            j["max_failure_rate"].get<double>()));
  if (estimated)
    f.push_back("Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.");
  return f;
}

// A phase's attributed energy per request at percentile `q` (p50, p99), J; empty without one.
Value request_energy(const json& phase, const char* q) {
  if (!phase.contains("attribution") || !phase["attribution"].is_object()) return Value();
  return num(phase["attribution"]["energy_per_request_j"][q]);
}

table::Table phase_table(const json& j) {
  table::Table t{
      "phases",
      "Phases (energy_j = the phase + its idle gap; per request and per token: successful ones; request_energy: "
      "each successful request's attributed share, docs/serving.md)",
      {},
      {}};
  for (const char* c :
       {"phase", "rate_rps", "ok", "failed", "duration_s", "throughput_rps", "goodput_rps", "ttft_p50_s", "ttft_p99_s",
        "tpot_p50_s", "e2e_p99_s", "send_late_p99_s", "energy_j", "gap_energy_j", "energy_per_request_j",
        "energy_per_output_token_j", "request_energy_p50_j", "request_energy_p99_j"})
    t.columns.push_back({c, ""});
  for (const auto& p : j["phases"])
    t.rows.push_back({str(p["name"]), num(p["rate_rps"]), count(p["ok"]), count(p["failed"]), num(p["duration_s"]),
                      num(p["throughput_rps"]), num(p["goodput_rps"]), num(p["ttft_s"]["p50"]), num(p["ttft_s"]["p99"]),
                      num(p["tpot_s"]["p50"]), num(p["e2e_s"]["p99"]), num(p["send_lateness_s"]["p99"]),
                      num(p["energy_j"]), num(p["gap_energy_j"]), num(p["energy_per_request_j"]),
                      num(p["energy_per_output_token_j"]), request_energy(p, "p50"), request_energy(p, "p99")});
  return t;
}

table::Document sweep_document(const json& j) {
  table::Document doc;
  doc.header.push_back(
      fmt::format("rate sweep on {}: {} rates, {} requests, {} ok, {} failed; idle gap {:g} s after each phase",
                  str(j["url"]), j["phases"].size(), j["requests"].get<std::int64_t>(), j["ok"].get<std::int64_t>(),
                  j["failed"].get<std::int64_t>(), j["idle_gap_s"].get<double>()));
  const json& w = j["warmup"];
  if (w["requests"].get<std::int64_t>() > 0)
    doc.header.push_back(fmt::format("warm-up: {} requests before the first phase (not measured), {} failed",
                                     w["requests"].get<std::int64_t>(), w["failed"].get<std::int64_t>()));
  doc.header.push_back(fmt::format("energy {:.3f} J [{}{}]", j["energy_j"].get<double>(), str(j["energy_source"]),
                                   j["estimated"].get<bool>() ? ", ESTIMATED" : ""));
  doc.tables.push_back(phase_table(j));
  std::vector<const json*> phases;
  for (const auto& p : j["phases"]) phases.push_back(&p);
  doc.footer = failure_footer(j, phases, j["estimated"].get<bool>());
  doc.json = j;
  return doc;
}

}  // namespace

table::Document replay_document(const ReplayResult& r) {
  const json& j = r.json;
  if (r.mode == "rate-sweep") return sweep_document(j);
  const bool served = str(j["engine"]) == "llamacpp";
  table::Document doc;
  doc.header = replay_header(j, served);
  doc.tables.push_back(latency_table(j));
  if (served) doc.tables.push_back(served_request_table(j));
  if (j.contains("chargeback")) doc.tables.push_back(chargeback_table(j["chargeback"]));
  doc.footer = failure_footer(j, {&j}, j["estimated"].get<bool>());
  doc.json = j;
  return doc;
}

std::vector<std::string> failure_excess_lines(const ReplayResult& r) {
  std::vector<std::string> lines;
  for (const auto& e : r.over) {
    lines.push_back(fmt::format(
        "{}: {} of {} requests failed ({:.1f}%), above --max-failure-rate {:g}; the figures above are not a "
        "measurement of the load asked",
        e.what, e.failed, e.requests, 100.0 * e.share, r.max_failure_rate));
    for (const auto& reason : e.reasons) lines.push_back("  " + reason);
  }
  return lines;
}

}  // namespace jouleperf::study
