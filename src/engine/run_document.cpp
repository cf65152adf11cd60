// `jouleperf run`'s Document: the tables people read and the JSON scripts parse.
#include <fmt/format.h>

#include "jouleperf/engine/measured_run.hpp"

namespace jouleperf {

namespace {

using table::optional_value;
using table::Value;

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json openai_request_json(const OpenAiResult& r) {
  auto opt_u64 = [](const std::optional<std::uint64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"request", r.tag},
          {"ok", r.ok},
          {"send_s", r.send_s},
          {"end_s", r.end_s},
          {"output_tokens", r.output_tokens},
          {"usage_prompt_tokens", opt_u64(r.usage_prompt_tokens)},
          {"usage_completion_tokens", opt_u64(r.usage_completion_tokens)},
          {"ttft_s", r.ttft_s()},
          {"tpot_s", r.tpot_s()},
          {"e2e_s", r.e2e_s()},
          {"itl_s", r.itl_s()},
          {"finish_reason", r.finish_reason}};
}

// The prompt ids and texts of each sequence, when a real prompt was fed with --print-output.
void add_prompt_json(const BatchResult& r, nlohmann::json& j) {
  if (!j.contains("requests")) return;
  for (std::size_t i = 0; i < r.sequences.size() && i < j["requests"].size(); ++i) {
    const auto& seq = r.sequences[i];
    if (seq.prompt_tokens.empty()) continue;
    auto& q = j["requests"][i];
    q["prompt_token_ids"] = seq.prompt_tokens;
    q["token_ids"] = seq.tokens;
    q["prompt_text"] = seq.prompt_text;
    q["text_with_prompt"] = seq.text_with_prompt;
  }
}

nlohmann::json success_json(const RunOutcome& o) {
  const BatchRequest& req = o.request;
  const BatchResult& r = *o.result;
  nlohmann::json j = to_json(*o.summary, req, o.engine, *o.measurement);
  j["ok"] = true;
  j["warmup_batches"] = o.warmup;
  const bool beam = req.strategy == DecodeStrategy::kBeam;
  const bool spec = req.strategy == DecodeStrategy::kSpeculative;
  j["beam_width"] = beam ? nlohmann::json(req.beam_width) : nlohmann::json(nullptr);
  j["draft_tokens"] = spec ? nlohmann::json(req.draft_tokens) : nlohmann::json(nullptr);
  j["draft_acceptance"] = opt_json(r.draft_acceptance);
  j["forced_accept_rate"] = spec ? opt_json(req.forced_accept_rate) : nlohmann::json(nullptr);
  j["decode_forwards"] = r.decode_forwards;
  j["draft_forwards"] = r.draft_forwards;
  add_prompt_json(r, j);
  nlohmann::json cond = nlohmann::json::object();
  for (const auto& [k, v] : o.sensor_conditions) cond[k] = v;
  j["sensor_conditions"] = cond;
  if (o.openai) j["openai"] = openai_requests_json(o.openai_results);
  return j;
}

nlohmann::json failure_json(const RunOutcome& o) {
  const Measurement* m = o.measurement ? &*o.measurement : nullptr;
  return {{"ok", false},
          {"phase", o.failed_phase},
          {"error", o.failure->message},
          {"engine", o.engine.engine},
          {"model", o.engine.model},
          {"batch", o.request.batch},
          {"input_tokens", o.request.input_tokens},
          {"output_tokens", o.request.output_tokens},
          {"window_energy_j", m != nullptr ? nlohmann::json(m->total.energy_j) : nlohmann::json(nullptr)},
          {"energy_source", m != nullptr ? nlohmann::json(m->total.energy_source) : nlohmann::json(nullptr)},
          {"note",
           "a request failed: the batch is not a measurement; window_energy_j is the whole metered "
           "window (failures' stalls included), charged to no request"},
          {"openai", openai_requests_json(o.openai_results)}};
}

table::Table phase_table(const RunOutcome& o) {
  const RunSummary& s = *o.summary;
  table::Table t{"phases", "Phases", {{"phase", ""}, {"time_s", ""}, {"tokens_per_s", ""}, {"energy_j", ""}}, {}};
  t.rows.push_back({std::string("prefill"), s.prefill_s, s.prefill_tokens_per_s, optional_value(s.prefill_energy_j)});
  t.rows.push_back(
      {std::string("decode"), s.decode_s, optional_value(s.decode_tokens_per_s), optional_value(s.decode_energy_j)});
  t.rows.push_back({std::string("total"), o.measurement->total.duration_s, Value(), s.energy_j});
  return t;
}

table::Table request_table(const RunOutcome& o) {
  table::Table t{"requests", "Requests", {{"request", ""}, {"ttft_s", ""}, {"e2e_s", ""}, {"output_tokens", ""}}, {}};
  t.columns.push_back({"energy_j", "the batch's energy split by token share"});
  for (std::size_t i = 0; i < o.summary->requests.size(); ++i) {
    const auto& q = o.summary->requests[i];
    t.rows.push_back(
        {static_cast<std::int64_t>(i), q.ttft_s, q.e2e_s, static_cast<std::int64_t>(q.output_tokens), q.energy_j});
  }
  return t;
}

// With --print-output: each sequence's text (the prompt, when given, then its
// continuation) as a JSON string, so every byte shows.
void text_lines(const RunOutcome& o, std::vector<std::string>& f) {
  if (!o.request.keep_text) return;
  for (std::size_t i = 0; i < o.summary->requests.size(); ++i) {
    const std::string& full = o.result->sequences[i].text_with_prompt;
    f.push_back(
        fmt::format("request {}: {}", i, nlohmann::json(full.empty() ? o.summary->requests[i].text : full).dump()));
  }
}

std::vector<std::string> header_lines(const RunOutcome& o) {
  const EngineInfo& e = o.engine;
  const RunSummary& s = *o.summary;
  std::vector<std::string> h = {fmt::format("{} on {}{}: batch {}, {} prompt + {} generated tokens per sequence, {}",
                                            e.engine, e.model, e.synthetic_model ? " [SYNTHETIC model]" : "", s.batch,
                                            o.request.input_tokens, o.request.output_tokens,
                                            strategy_name(o.request.strategy))};
  h.push_back(
      fmt::format("energy {:.3f} J [{}{}]", s.energy_j, s.energy_source, s.estimated ? ", ESTIMATED" : ", measured"));
  if (s.above_idle_j) h.push_back(fmt::format("above idle: {:.3f} J", *s.above_idle_j));
  if (s.below_resolution) h.push_back("(shorter than the sensor's update interval: not a precise figure)");
  return h;
}

void decoding_lines(const RunOutcome& o, std::vector<std::string>& f) {
  const BatchRequest& req = o.request;
  const BatchResult& r = *o.result;
  for (const auto& [k, v] : o.engine.settings)
    if (k == "prompt_source" && v != "random-ids") f.push_back("prompts: " + (v == "text" ? "--prompt" : v));
  if (req.strategy == DecodeStrategy::kBeam)
    f.push_back(fmt::format("beam width {} (the best beam's tokens)", req.beam_width));
  if (req.strategy != DecodeStrategy::kSpeculative) return;
  f.push_back(fmt::format("speculative: {} draft tokens per step, {} target + {} draft decode forwards",
                          req.draft_tokens, r.decode_forwards, r.draft_forwards));
  f.push_back(
      fmt::format("draft acceptance: {}{}",
                  r.draft_acceptance ? fmt::format("{:.3f}", *r.draft_acceptance) : std::string("- (none judged)"),
                  req.forced_accept_rate
                      ? fmt::format(" (FORCED at {}: the cost of that rate, not a real draft)", *req.forced_accept_rate)
                      : std::string(" (greedy verification)")));
}

std::vector<std::string> footer_lines(const RunOutcome& o) {
  std::vector<std::string> f;
  text_lines(o, f);
  decoding_lines(o, f);
  if (o.openai) {
    const auto oj = openai_requests_json(o.openai_results);
    f.push_back(fmt::format("requests: {} ok, {} failed", oj["requests_ok"].get<std::uint64_t>(),
                            oj["requests_failed"].get<std::uint64_t>()));
    for (const auto& m : oj["mismatches"])
      f.push_back(fmt::format("LENGTH MISMATCH request {}: {}", m["request"].dump(), m["mismatch"].get<std::string>()));
  }
  if (o.summary->estimated)
    f.push_back("Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.");
  return f;
}

}  // namespace

nlohmann::json openai_requests_json(const std::vector<OpenAiResult>& results) {
  nlohmann::json failures = nlohmann::json::array();
  nlohmann::json mismatches = nlohmann::json::array();
  nlohmann::json reqs = nlohmann::json::array();
  std::uint64_t ok = 0;
  for (const auto& r : results) {
    if (r.ok) ++ok;
    if (!r.ok)
      failures.push_back({{"request", r.tag},
                          {"error", r.error},
                          {"http_status", r.http_status},
                          {"output_tokens_received", r.output_tokens}});
    if (!r.mismatch.empty()) mismatches.push_back({{"request", r.tag}, {"mismatch", r.mismatch}});
    reqs.push_back(openai_request_json(r));
  }
  return {{"requests_total", results.size()},       {"requests_ok", ok},
          {"requests_failed", results.size() - ok}, {"failures", std::move(failures)},
          {"mismatches", std::move(mismatches)},    {"requests", std::move(reqs)}};
}

std::vector<std::string> failed_request_lines(const RunOutcome& o) {
  std::vector<std::string> lines;
  for (const auto& r : o.openai_results)
    if (!r.ok) lines.push_back(fmt::format("FAILED request {}: {}", r.tag, r.error));
  return lines;
}

table::Document run_document(const RunOutcome& o) {
  table::Document doc;
  if (o.failure) {
    doc.header.push_back(fmt::format("{}: {}", o.failed_phase, o.failure->message));
    doc.footer = failed_request_lines(o);
    doc.json = failure_json(o);
    return doc;
  }
  doc.header = header_lines(o);
  doc.tables = {phase_table(o), request_table(o)};
  doc.footer = footer_lines(o);
  doc.json = success_json(o);
  return doc;
}

}  // namespace jouleperf
