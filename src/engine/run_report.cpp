#include "jouleperf/engine/run_report.hpp"

#include "jouleperf/sensor/measurement_json.hpp"

namespace jouleperf {
namespace {

std::optional<double> phase_energy(const Measurement& m, const std::string& name) {
  std::optional<double> e;
  for (const auto& p : m.phases)
    if (p.name == name) e = e.value_or(0.0) + p.energy_j;
  return e;
}

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

RunSummary summarize_run(const BatchResult& r, const Measurement& m) {
  RunSummary s;
  s.batch = r.sequences.size();
  s.input_tokens = r.input_tokens;
  s.output_tokens = r.output_tokens;
  s.prefill_s = r.prefill_s();
  s.decode_s = r.decode_s();
  s.prefill_tokens_per_s = s.prefill_s > 0 ? static_cast<double>(r.input_tokens) / s.prefill_s : 0.0;
  // Prefill makes each sequence's first token; the decode forwards make the rest.
  std::uint64_t decode_made = 0;
  for (const auto& seq : r.sequences) decode_made += seq.tokens.empty() ? 0 : seq.tokens.size() - 1;
  if (r.decode_forwards > 0 && s.decode_s > 0) s.decode_tokens_per_s = static_cast<double>(decode_made) / s.decode_s;
  s.energy_j = m.total.energy_j;
  s.prefill_energy_j = phase_energy(m, "prefill");
  s.decode_energy_j = phase_energy(m, "decode");
  s.above_idle_j = m.total.above_idle_j;
  s.energy_source = m.total.energy_source;
  s.estimated = m.total.estimated;
  s.below_resolution = m.total.below_resolution;
  const double all_tokens = static_cast<double>(r.input_tokens + r.output_tokens);
  for (const auto& seq : r.sequences) {
    RequestSummary q;
    q.input_tokens = seq.input_tokens;
    q.output_tokens = seq.output_tokens();
    q.ttft_s = seq.ttft_s();
    q.e2e_s = seq.e2e_s();
    q.energy_j = all_tokens > 0 ? s.energy_j * static_cast<double>(q.input_tokens + q.output_tokens) / all_tokens : 0.0;
    q.text = seq.text;
    s.requests.push_back(std::move(q));
  }
  return s;
}

nlohmann::json to_json(const RunSummary& s, const BatchRequest& req, const EngineInfo& engine,
                       const Measurement& measurement) {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& q : s.requests) {
    nlohmann::json j{{"input_tokens", q.input_tokens},
                     {"output_tokens", q.output_tokens},
                     {"ttft_s", q.ttft_s},
                     {"e2e_s", q.e2e_s},
                     {"energy_j", q.energy_j}};
    if (req.keep_text) j["text"] = q.text;
    requests.push_back(std::move(j));
  }
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : engine.settings) settings[k] = v;
  nlohmann::json sampling = nullptr;
  if (req.strategy == DecodeStrategy::kSample)
    sampling = {{"temperature", req.sampling.temperature},
                {"top_k", req.sampling.top_k},
                {"top_p", req.sampling.top_p},
                {"seed", req.sampling.seed}};
  return {{"engine", engine.engine},
          {"engine_version", engine.version},
          {"model", engine.model},
          {"model_path", engine.model_path},
          {"synthetic_model", engine.synthetic_model},
          {"strategy", std::string(strategy_name(req.strategy))},
          {"sampling", std::move(sampling)},
          {"batching", std::string(batching_name(req.batching))},
          {"batch", s.batch},
          {"seed", req.seed},
          {"input_tokens", s.input_tokens},
          {"output_tokens", s.output_tokens},
          {"prefill_s", s.prefill_s},
          {"decode_s", s.decode_s},
          {"prefill_tokens_per_s", s.prefill_tokens_per_s},
          {"decode_tokens_per_s", opt(s.decode_tokens_per_s)},
          {"energy_j", s.energy_j},
          {"prefill_energy_j", opt(s.prefill_energy_j)},
          {"decode_energy_j", opt(s.decode_energy_j)},
          {"above_idle_j", opt(s.above_idle_j)},
          {"energy_source", s.energy_source},
          {"estimated", s.estimated},
          {"below_resolution", s.below_resolution},
          {"request_energy_basis", "the batch's energy split by token share (input + output tokens)"},
          {"requests", std::move(requests)},
          {"settings", std::move(settings)},
          {"measurement", to_json(measurement)}};
}

}  // namespace jouleperf
