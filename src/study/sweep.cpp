// The sweep runner: warm-ups, measured repetitions, idle gap, one durable store write
// per cell, resume by skipping stored cells.
#include "jouleperf/study/sweep.hpp"

#include <fmt/format.h>

#include <chrono>
#include <new>
#include <set>

#include "jouleperf/study/decoding_settings.hpp"

namespace jouleperf::study {

namespace {

double now_unix_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<double> phase_energy(const Measurement& m, const std::string& name) {
  for (const auto& p : m.phases)
    if (p.name == name) return p.energy_j;
  return std::nullopt;
}

double ttft_mean(const BatchResult& r) {
  if (r.sequences.empty()) return 0.0;
  double sum = 0.0;
  for (const auto& s : r.sequences) sum += s.ttft_s();
  return sum / static_cast<double>(r.sequences.size());
}

// A cell that cannot run here rather than a broken sweep: the request is too large for
// the model or the device.
bool cannot_run(const Error& e) {
  return e.code == Errc::kInvalidArgument || e.code == Errc::kUnsupported ||
         e.message.find("out of memory") != std::string::npos;
}

Result<BatchResult> run_guarded(Engine& engine, const BatchRequest& req, const Clock& clock, Meter* meter) {
  try {
    return engine.run_batch(req, clock, meter);
  } catch (const std::bad_alloc&) {
    return make_error(Errc::kUnsupported, "out of memory");
  }
}

void add_engine_conditions(const EngineInfo& info, nlohmann::json& out) {
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : info.settings) settings[k] = v;
  out["engine"] = info.engine;
  out["engine_version"] = info.version;
  out["model"] = info.model;
  out["model_path"] = info.model_path;
  out["synthetic_model"] = info.synthetic_model;
  out["engine_settings"] = std::move(settings);
}

std::string joined_sources(const std::set<std::string>& sources) {
  if (sources.size() == 1) return *sources.begin();
  std::string out = "mixed: ";
  bool first = true;
  for (const auto& s : sources) {
    out += (first ? "" : "+") + s;
    first = false;
  }
  return out;
}

Result<CellResult> run_cell(const Study& study, const Config& config, const GridCell& cell, Engine& engine,
                            SweepEnv& env) {
  const Clock& clock = *env.clock;
  CellResult r;
  r.key = cell.key;
  r.config_key = config.key();
  r.conditions = env.conditions.is_object() ? env.conditions : nlohmann::json::object();
  add_engine_conditions(engine.info(), r.conditions);
  r.conditions["weight_type"] = config.weight_type;
  r.conditions["strategy"] = config.strategy;
  r.conditions["batching"] = config.batching;
  r.conditions["threads"] = config.threads;
  r.conditions["repetitions"] = study.repetitions;
  r.conditions["idle_gap_s"] = study.idle_gap_s;
  r.conditions["seed"] = study.seed;

  auto strategy = parse_strategy(config.strategy);
  if (!strategy) return strategy.error();
  auto batching = parse_batching(config.batching);
  if (!batching) return batching.error();
  auto decoding = decoding_settings(config);
  if (!decoding)
    return make_error(decoding.error().code, fmt::format("config \"{}\": {}", config.name, decoding.error().message));
  if (*strategy == DecodeStrategy::kSpeculative) {
    r.conditions["draft_model"] = decoding->draft_model;
    r.conditions["draft_tokens"] = decoding->draft_tokens;
    r.conditions["accept_rate"] = decoding->accept_rate ? nlohmann::json(*decoding->accept_rate) : nlohmann::json();
  }
  if (*strategy == DecodeStrategy::kBeam) r.conditions["beam_width"] = decoding->beam_width;
  BatchRequest req;
  req.batch = cell.key.batch;
  req.input_tokens = cell.key.input_tokens;
  req.output_tokens = cell.key.output_tokens;
  req.strategy = *strategy;
  req.batching = *batching;
  req.seed = study.seed;
  req.sampling.seed = study.seed;
  req.draft_tokens = decoding->draft_tokens;
  req.forced_accept_rate = decoding->accept_rate;
  req.beam_width = decoding->beam_width;

  auto skipped = [&](const Error& e) {
    r.status = CellStatus::kSkipped;
    r.reason = e.to_string();
    r.reps.clear();
    // The simulator's verdict ("does not fit") is itself simulated.
    r.simulated = config.engine == "sim";
    r.estimated = r.simulated;
    r.finished_unix_s = now_unix_s();
    return r;
  };

  // A batch with failed requests (served engines): the cell fails with every request's
  // reason and keeps no repetition, so no energy is divided among the requests that
  // succeeded. Not for whole-batch errors of other engines (those stop the sweep).
  auto request_failures = [&](const std::string& phase, const Error& e) -> std::optional<CellResult> {
    auto failures = engine.last_failures();
    if (failures.empty()) return std::nullopt;
    r.status = CellStatus::kFailed;
    r.reason = fmt::format("{}: {}", phase, e.message);
    r.reps.clear();
    r.failures.clear();
    for (auto& f : failures) r.failures.push_back({phase, f.request, std::move(f.reason)});
    r.finished_unix_s = now_unix_s();
    return r;
  };

  r.warmup = warmup_batches(study.warmup, cell.key);
  for (std::uint32_t w = 0; w < r.warmup; ++w) {
    auto res = run_guarded(engine, req, clock, nullptr);
    if (!res) {
      if (cannot_run(res.error())) return skipped(res.error());
      if (auto f = request_failures(fmt::format("warm-up {}", w + 1), res.error())) return std::move(*f);
      return make_error(res.error().code, fmt::format("{}: warm-up: {}", to_string(cell.key), res.error().message));
    }
  }

  const bool simulated = config.engine == "sim";
  if (!simulated && env.sampler == nullptr)
    return make_error(Errc::kInvalidArgument, fmt::format("{}: engine {} is measured, but no sampler was given",
                                                          to_string(cell.key), config.engine));
  std::set<std::string> sources;
  // Speculative decoding: the acceptance rate and draft forwards each repetition gave.
  std::vector<double> acceptance, draft_forwards;
  auto note_draft = [&](const BatchResult& res) {
    if (*strategy != DecodeStrategy::kSpeculative) return;
    if (res.draft_acceptance) acceptance.push_back(*res.draft_acceptance);
    draft_forwards.push_back(static_cast<double>(res.draft_forwards));
  };
  for (std::uint32_t k = 0; k < study.repetitions; ++k) {
    req.seed = study.seed + k;
    req.sampling.seed = study.seed + k;
    if (simulated) {
      auto res = run_guarded(engine, req, clock, nullptr);
      if (!res) {
        if (cannot_run(res.error())) return skipped(res.error());
        return make_error(res.error().code, fmt::format("{}: {}", to_string(cell.key), res.error().message));
      }
      if (!res->simulated)
        return make_error(Errc::kInternal,
                          fmt::format("{}: the sim engine gave no simulated energy", to_string(cell.key)));
      r.reps.push_back(repetition_from_simulated(*res));
      note_draft(*res);
      sources.insert("simulated");
      r.estimated = true;
      r.simulated = true;
      r.conditions["simulated_deployment"] = res->simulated->description;
      continue;
    }
    Meter meter(*env.sampler);
    if (env.idle) meter.set_idle(*env.idle);
    auto res = run_guarded(engine, req, clock, &meter);
    if (!res) {
      if (cannot_run(res.error())) return skipped(res.error());
      if (auto f = request_failures(fmt::format("repetition {}", k + 1), res.error())) return std::move(*f);
      return make_error(res.error().code, fmt::format("{}: {}", to_string(cell.key), res.error().message));
    }
    auto m = meter.stop();
    if (!m) return make_error(m.error().code, fmt::format("{}: measuring: {}", to_string(cell.key), m.error().message));
    r.reps.push_back(repetition_from(*res, *m));
    note_draft(*res);
    sources.insert(m->total.energy_source);
    r.estimated = r.estimated || m->total.estimated;
    r.below_resolution = r.below_resolution || m->total.below_resolution;
  }
  if (*strategy == DecodeStrategy::kSpeculative) {
    // Means over the repetitions; null when no draft token was judged (O <= 2).
    r.conditions["draft_acceptance"] =
        acceptance.empty() ? nlohmann::json() : nlohmann::json(spread_of(acceptance).mean);
    r.conditions["draft_forwards"] = spread_of(draft_forwards).mean;
  }
  r.energy_source = joined_sources(sources);
  if (env.idle && !simulated) r.idle_power_w = env.idle->total_power_w;
  r.status = CellStatus::kDone;
  r.finished_unix_s = now_unix_s();
  return r;
}

}  // namespace

Repetition repetition_from(const BatchResult& result, const Measurement& m) {
  Repetition rep;
  rep.energy_j = m.total.energy_j;
  rep.prefill_energy_j = phase_energy(m, "prefill");
  rep.decode_energy_j = phase_energy(m, "decode");
  rep.above_idle_j = m.total.above_idle_j;
  rep.duration_s = result.end_s - result.start_s;
  rep.prefill_s = result.prefill_s();
  rep.decode_s = result.decode_s();
  rep.uncertainty_j = m.total.uncertainty_j;
  rep.ttft_mean_s = ttft_mean(result);
  return rep;
}

Repetition repetition_from_simulated(const BatchResult& result) {
  Repetition rep;
  if (!result.simulated) return rep;
  rep.energy_j = result.simulated->energy_j;
  rep.prefill_energy_j = result.simulated->prefill_energy_j;
  if (result.end_s > result.prefill_end_s) rep.decode_energy_j = result.simulated->decode_energy_j;
  rep.duration_s = result.end_s - result.start_s;
  rep.prefill_s = result.prefill_s();
  rep.decode_s = result.decode_s();
  rep.ttft_mean_s = ttft_mean(result);
  return rep;
}

Result<SweepSummary> run_sweep(const Study& study, const std::vector<GridCell>& cells, Store& store, SweepEnv& env,
                               SweepProgress* progress) {
  if (env.clock == nullptr) return make_error(Errc::kInvalidArgument, "run_sweep: a clock is required");
  const Clock& clock = *env.clock;
  const EngineFactory factory = env.open_engine ? env.open_engine : EngineFactory(open_engine);
  for (const auto& c : study.configs)
    if (auto st = store.put_config(c); !st) return st.error();

  std::vector<const GridCell*> pending;
  SweepSummary summary;
  SweepState state;
  state.total = cells.size();
  for (const auto& cell : cells) {
    if (cell.config_index >= study.configs.size())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("run_sweep: {} names no config of the study", to_string(cell.key)));
    auto stored = store.cell(cell.key);
    if (!stored) return stored.error();
    if (stored->has_value() && (*stored)->status == CellStatus::kFailed) {
      ++summary.retried;  // a failed cell is run again (and replaced) on resume
      pending.push_back(&cell);
    } else if (stored->has_value()) {
      if ((*stored)->config_key != study.configs[cell.config_index].key())
        return make_error(Errc::kInvalidArgument,
                          fmt::format("results store {}: {} was measured under other settings; use a new store",
                                      store.path(), to_string(cell.key)));
      ++state.resumed;
    } else {
      pending.push_back(&cell);
    }
  }
  state.done = state.resumed;
  summary.total = state.total;
  summary.resumed = state.resumed;
  const double t0 = clock.now().value();
  if (progress) progress->on_start(state);

  std::unique_ptr<Engine> engine;
  std::size_t engine_config = study.configs.size();
  bool first = true;
  for (const GridCell* cell : pending) {
    if (!first && study.idle_gap_s > 0.0) clock.sleep_until(Seconds(clock.now().value() + study.idle_gap_s));
    first = false;
    const Config& config = study.configs[cell->config_index];
    if (engine_config != cell->config_index) {
      engine.reset();  // one model in memory at a time
      auto e = factory(config);
      if (!e) return e.error();
      engine = std::move(*e);
      engine_config = cell->config_index;
    }
    state.elapsed_s = clock.now().value() - t0;
    if (progress) progress->on_cell_start(cell->key, state);
    auto result = run_cell(study, config, *cell, *engine, env);
    if (!result) return result.error();
    if (auto st = store.put_cell(*result); !st) return st.error();
    ++state.done;
    ++state.run;
    if (result->status == CellStatus::kDone)
      ++summary.measured;
    else if (result->status == CellStatus::kFailed)
      summary.failed.push_back(result->key);
    else
      ++summary.skipped;
    state.elapsed_s = clock.now().value() - t0;
    const std::size_t left = state.total - state.done;
    state.eta_s = state.elapsed_s / static_cast<double>(state.run) * static_cast<double>(left);
    if (progress) progress->on_cell_stored(*result, state);
    if (result->status == CellStatus::kFailed && result->failures.size() >= cell->key.batch)
      return make_error(Errc::kNetwork,
                        fmt::format("{}: every request of a batch failed (stored as failed; a resumed sweep runs it "
                                    "again); stopping the sweep: {}",
                                    to_string(cell->key), result->reason));
  }
  summary.elapsed_s = clock.now().value() - t0;
  return summary;
}

}  // namespace jouleperf::study
