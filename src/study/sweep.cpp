// The sweep runner: warm-ups, measured repetitions, idle gap, one durable store write
// per cell, resume by skipping stored cells.
#include "jouleperf/study/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <new>
#include <set>
#include <tuple>

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

// A cell being measured: its result so far (conditions, warm-ups, repetitions) and the
// batch it runs. Repetitions are appended one at a time, so the sweep can interleave cells.
struct PendingCell {
  const GridCell* cell = nullptr;
  const Config* config = nullptr;
  CellResult r;
  BatchRequest req;
  DecodeStrategy strategy = DecodeStrategy::kGreedy;
  bool warmed = false;  // warm-ups ran in this process
};

Result<PendingCell> prepare_cell(const Study& study, const Config& config, const GridCell& cell, SweepEnv& env) {
  PendingCell p;
  p.cell = &cell;
  p.config = &config;
  CellResult& r = p.r;
  r.key = cell.key;
  r.config_key = config.key();
  r.conditions = env.conditions.is_object() ? env.conditions : nlohmann::json::object();
  r.conditions["weight_type"] = config.weight_type;
  r.conditions["strategy"] = config.strategy;
  r.conditions["batching"] = config.batching;
  r.conditions["threads"] = config.threads;
  r.conditions["repetitions"] = study.repetitions;
  r.conditions["idle_gap_s"] = study.idle_gap_s;
  r.conditions["seed"] = study.seed;
  r.conditions["order"] = std::string(run_order_name(study.order));

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
  p.strategy = *strategy;
  BatchRequest& req = p.req;
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
  r.warmup = warmup_batches(study.warmup, cell.key);
  return p;
}

// Marks `p` skipped: the engine says the cell cannot run here.
void mark_skipped(PendingCell& p, const Error& e) {
  CellResult& r = p.r;
  r.status = CellStatus::kSkipped;
  r.reason = e.to_string();
  r.reps.clear();
  // The simulator's verdict ("does not fit") is itself simulated.
  r.simulated = p.config->engine == "sim";
  r.estimated = r.simulated;
  r.energy_source.clear();
  r.finished_unix_s = now_unix_s();
}

// Marks `p` failed when the engine reports failed requests for the batch that just
// failed (served engines: HTTP error, stall, cut stream, deadline): every request's
// reason, no repetition kept, so no energy is divided among the requests that succeeded.
// False (p untouched) for a whole-batch error of another kind, which stops the sweep.
bool mark_failed(PendingCell& p, Engine& engine, const std::string& phase, const Error& e) {
  auto failures = engine.last_failures();
  if (failures.empty()) return false;
  CellResult& r = p.r;
  r.status = CellStatus::kFailed;
  r.reason = fmt::format("{}: {}", phase, e.message);
  r.reps.clear();
  r.failures.clear();
  for (auto& f : failures) r.failures.push_back({phase, f.request, std::move(f.reason)});
  r.energy_source.clear();
  r.finished_unix_s = now_unix_s();
  return true;
}

enum class StepOutcome { kRan, kSkipped, kFailed };

// Runs the cell's warm-ups (first time in this process) and one measured repetition,
// appended to p.r.reps. kSkipped when the engine says the cell cannot run, kFailed when
// requests of the batch failed (p is marked either way); an error for anything else.
Result<StepOutcome> run_step(PendingCell& p, Engine& engine, SweepEnv& env, std::uint64_t seed, std::uint32_t round) {
  const Clock& clock = *env.clock;
  CellResult& r = p.r;
  if (!r.conditions.contains("engine")) add_engine_conditions(engine.info(), r.conditions);
  BatchRequest& req = p.req;
  if (!p.warmed) {
    // Warm-ups before the cell's first repetition; a resumed cell warms up again (its
    // engine is cold in this process) without counting them twice.
    for (std::uint32_t w = 0; w < r.warmup; ++w) {
      auto res = run_guarded(engine, req, clock, nullptr);
      if (!res) {
        if (cannot_run(res.error())) {
          mark_skipped(p, res.error());
          return StepOutcome::kSkipped;
        }
        if (mark_failed(p, engine, fmt::format("warm-up {}", w + 1), res.error())) return StepOutcome::kFailed;
        return make_error(res.error().code, fmt::format("{}: warm-up: {}", to_string(r.key), res.error().message));
      }
    }
    p.warmed = true;
  }
  const bool simulated = p.config->engine == "sim";
  if (!simulated && env.sampler == nullptr)
    return make_error(Errc::kInvalidArgument, fmt::format("{}: engine {} is measured, but no sampler was given",
                                                          to_string(r.key), p.config->engine));
  const std::uint64_t k = r.reps.size();
  req.seed = seed + k;
  req.sampling.seed = seed + k;
  const double started = now_unix_s();
  std::optional<Meter> meter;
  if (!simulated) {
    meter.emplace(*env.sampler);
    if (env.idle) meter->set_idle(*env.idle);
  }
  // The devices are read as the batch starts and ends (and by the watch's thread between).
  const double watched_from_s = clock.now().value();
  const bool watched = env.devices != nullptr && !simulated;
  const std::size_t failed_before = watched ? env.devices->failed_reads() : 0;
  if (watched) (void)env.devices->read_now();  // a device that does not answer: counted, said below
  auto res = run_guarded(engine, req, clock, meter ? &*meter : nullptr);
  if (!res) {
    if (cannot_run(res.error())) {
      mark_skipped(p, res.error());
      return StepOutcome::kSkipped;
    }
    if (mark_failed(p, engine, fmt::format("repetition {}", k + 1), res.error())) return StepOutcome::kFailed;
    return make_error(res.error().code, fmt::format("{}: {}", to_string(r.key), res.error().message));
  }
  Repetition rep;
  if (simulated) {
    if (!res->simulated)
      return make_error(Errc::kInternal, fmt::format("{}: the sim engine gave no simulated energy", to_string(r.key)));
    rep = repetition_from_simulated(*res);
    rep.energy_source = "simulated";
    r.estimated = true;
    r.simulated = true;
    r.conditions["simulated_deployment"] = res->simulated->description;
  } else {
    auto m = meter->stop();
    if (!m) return make_error(m.error().code, fmt::format("{}: measuring: {}", to_string(r.key), m.error().message));
    rep = repetition_from(*res, *m);
    rep.energy_source = m->total.energy_source;
    r.estimated = r.estimated || m->total.estimated;
    r.below_resolution = r.below_resolution || m->total.below_resolution;
  }
  if (p.strategy == DecodeStrategy::kSpeculative) {
    rep.draft_acceptance = res->draft_acceptance;
    rep.draft_forwards = static_cast<double>(res->draft_forwards);
  }
  rep.round = round;
  rep.started_unix_s = started;
  if (watched) {
    (void)env.devices->read_now();
    for (const auto& w : env.devices->window(watched_from_s, clock.now().value())) rep.devices.push_back(to_record(w));
    if (env.devices->failed_reads() > failed_before)  // a device stopped answering during the batch
      r.conditions["device_read_error"] = env.devices->last_error();
  }
  r.reps.push_back(std::move(rep));
  return StepOutcome::kRan;
}

// Relative half-width of the 95 % interval of the cell's energy per batch, % (+inf below
// two repetitions or at a zero mean).
double ci_pct(const CellResult& r) {
  const Spread e = r.energy_per_batch_j();
  if (e.n < 2 || !(e.mean > 0.0)) return std::numeric_limits<double>::infinity();
  return 100.0 * ci95_half_width(e) / e.mean;
}

// Does the cell need another repetition?
bool needs_more(const Study& study, const CellResult& r) {
  if (r.reps.size() < study.repetitions) return true;
  if (!study.until_ci_pct) return false;
  if (r.reps.size() >= study.max_reps) return false;
  return ci_pct(r) > *study.until_ci_pct;
}

// Completes a cell whose repetitions are all in: sources, draft figures, the interval.
void finalize(const Study& study, const std::optional<IdleBaseline>& idle, PendingCell& p) {
  CellResult& r = p.r;
  std::set<std::string> sources;
  std::vector<double> acceptance, draft_forwards;
  for (const auto& rep : r.reps) {
    if (!rep.energy_source.empty()) sources.insert(rep.energy_source);
    if (rep.draft_acceptance) acceptance.push_back(*rep.draft_acceptance);
    if (rep.draft_forwards) draft_forwards.push_back(*rep.draft_forwards);
  }
  if (p.strategy == DecodeStrategy::kSpeculative) {
    // Means over the repetitions; null when no draft token was judged (O <= 2).
    r.conditions["draft_acceptance"] =
        acceptance.empty() ? nlohmann::json() : nlohmann::json(spread_of(acceptance).mean);
    r.conditions["draft_forwards"] = spread_of(draft_forwards).mean;
  }
  r.energy_source = sources.empty() ? std::string() : joined_sources(sources);
  if (idle && !r.simulated) r.idle_power_w = idle->total_power_w;
  const double pct = ci_pct(r);
  r.conditions["ci95_half_width_pct"] = std::isfinite(pct) ? nlohmann::json(pct) : nlohmann::json();
  if (study.until_ci_pct) {
    const bool met = std::isfinite(pct) && pct <= *study.until_ci_pct;
    r.conditions["until_ci"] = {{"target_pct", *study.until_ci_pct},
                                {"met", met},
                                {"repetitions", r.reps.size()},
                                {"max_reps", study.max_reps}};
  }
  r.status = CellStatus::kDone;
  r.finished_unix_s = now_unix_s();
}
}  // namespace

Status no_failed_cells(const SweepSummary& summary) {
  if (summary.failed.empty()) return {};
  std::string keys;
  for (const auto& k : summary.failed) keys += (keys.empty() ? "" : "; ") + to_string(k);
  return make_error(Errc::kNetwork,
                    fmt::format("{} cell(s) failed (a request of the batch failed; stored as failed, run again to "
                                "retry them): {}",
                                summary.failed.size(), keys));
}

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

  std::vector<PendingCell> pending;
  SweepSummary summary;
  SweepState state;
  state.total = cells.size();
  for (const auto& cell : cells) {
    if (cell.config_index >= study.configs.size())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("run_sweep: {} names no config of the study", to_string(cell.key)));
    const Config& config = study.configs[cell.config_index];
    auto stored = store.cell(cell.key);
    if (!stored) return stored.error();
    if (stored->has_value() && (*stored)->status == CellStatus::kFailed) {
      ++summary.retried;  // a failed cell is run again (and replaced) on resume
    } else if (stored->has_value()) {
      if ((*stored)->config_key != config.key())
        return make_error(Errc::kInvalidArgument,
                          fmt::format("results store {}: {} was measured under other settings; use a new store",
                                      store.path(), to_string(cell.key)));
      ++state.resumed;
      continue;
    }
    auto p = prepare_cell(study, config, cell, env);
    if (!p) return p.error();
    // Repetitions stored before a crash are kept: a resumed sweep never repeats them.
    auto partial = store.progress(cell.key);
    if (!partial) return partial.error();
    if (partial->has_value()) {
      if ((*partial)->config_key != config.key())
        return make_error(Errc::kInvalidArgument,
                          fmt::format("results store {}: {} was measured under other settings; use a new store",
                                      store.path(), to_string(cell.key)));
      p->r.reps = std::move((*partial)->reps);
      p->r.estimated = (*partial)->estimated;
      p->r.simulated = (*partial)->simulated;
      p->r.below_resolution = (*partial)->below_resolution;
      for (const char* k : {"engine", "engine_version", "model", "model_path", "synthetic_model", "engine_settings",
                            "simulated_deployment"})
        if ((*partial)->conditions.contains(k)) p->r.conditions[k] = (*partial)->conditions[k];
    }
    pending.push_back(std::move(*p));
  }
  // Rep-major: cells of the same I, O and B sit side by side (their configurations
  // alternate), in grid order otherwise.
  if (study.order == RunOrder::kRepMajor)
    std::stable_sort(pending.begin(), pending.end(), [](const PendingCell& a, const PendingCell& b) {
      const CellKey &x = a.cell->key, &y = b.cell->key;
      return std::tie(x.input_tokens, x.output_tokens, x.batch, a.cell->position) <
             std::tie(y.input_tokens, y.output_tokens, y.batch, b.cell->position);
    });
  state.done = state.resumed;
  summary.total = state.total;
  summary.resumed = state.resumed;
  const double t0 = clock.now().value();
  if (progress) progress->on_start(state);

  // Open engines, most recently used last; at most env.max_open_engines stay open.
  std::vector<std::pair<std::size_t, std::unique_ptr<Engine>>> engines;
  auto engine_for = [&](std::size_t config_index) -> Result<Engine*> {
    for (std::size_t i = 0; i < engines.size(); ++i)
      if (engines[i].first == config_index) {
        std::rotate(engines.begin() + static_cast<std::ptrdiff_t>(i),
                    engines.begin() + static_cast<std::ptrdiff_t>(i) + 1, engines.end());
        return engines.back().second.get();
      }
    while (!engines.empty() && engines.size() >= std::max<std::size_t>(1, env.max_open_engines))
      engines.erase(engines.begin());  // least recently used first: one model fewer in memory
    auto e = factory(study.configs[config_index]);
    if (!e) return e.error();
    engines.emplace_back(config_index, std::move(*e));
    return engines.back().second.get();
  };

  std::size_t steps_run = 0;
  const PendingCell* last = nullptr;
  std::size_t applied_config = study.configs.size();  // none yet
  nlohmann::json settings_in_force = nlohmann::json::object();
  std::map<std::size_t, nlohmann::json> thermal_warmups;  // config index -> its warm-up to steady state
  auto steps_left = [&]() {
    std::size_t n = 0;
    for (const auto& p : pending)
      if (p.r.finished_unix_s == 0.0 && p.r.reps.size() < study.repetitions) n += study.repetitions - p.r.reps.size();
    return n;
  };
  auto store_cell = [&](PendingCell& p) -> Status {
    if (auto st = store.put_cell(p.r); !st) return st;
    ++state.done;
    ++state.run;
    if (p.r.status == CellStatus::kDone) {
      ++summary.measured;
      if (study.until_ci_pct && p.r.conditions.contains("until_ci") && !p.r.conditions["until_ci"].value("met", true))
        summary.ci_not_met.push_back(p.r.key);
    } else if (p.r.status == CellStatus::kFailed) {
      summary.failed.push_back(p.r.key);
    } else {
      ++summary.skipped;
    }
    state.elapsed_s = clock.now().value() - t0;
    if (progress) progress->on_cell_stored(p.r, state);
    return {};
  };
  // One step of cell p: finish it when it needs no more repetitions, else run one.
  // Returns whether the cell is finished (stored).
  auto step = [&](PendingCell& p, std::uint32_t round) -> Result<bool> {
    if (env.stop != nullptr && env.stop->load())
      return make_error(Errc::kIo,
                        "interrupted: stopped after the batch in progress (every stored cell is kept; "
                        "run the sweep again to resume)");
    if (!needs_more(study, p.r)) {
      finalize(study, env.idle, p);
      if (auto st = store_cell(p); !st) return st.error();
      return true;
    }
    if (last != nullptr && last != &p && study.idle_gap_s > 0.0)
      clock.sleep_until(Seconds(clock.now().value() + study.idle_gap_s));
    // The thermal protocol is for measured cells: a simulated one has no device of its own.
    const bool watched = env.devices != nullptr && p.config->engine != "sim";
    const bool gate = watched && last != &p && (env.thermal.cooldown_temp_c || env.thermal.cooldown_s);
    last = &p;
    if (env.apply_settings && applied_config != p.cell->config_index) {
      auto in_force = env.apply_settings(*p.config);
      if (!in_force) return in_force.error();
      applied_config = p.cell->config_index;
      settings_in_force = std::move(*in_force);
    }
    if (env.apply_settings && !settings_in_force.empty()) p.r.conditions["machine_settings"] = settings_in_force;
    auto engine = engine_for(p.cell->config_index);
    if (!engine) return engine.error();
    state.elapsed_s = clock.now().value() - t0;
    if (progress) progress->on_cell_start(p.r.key, state);
    if (watched && env.thermal.warm_to_steady && !thermal_warmups.count(p.cell->config_index)) {
      // Before the configuration's first measured cell: its batch until the devices are steady.
      const auto batch = [&]() -> Status {
        auto res = run_guarded(**engine, p.req, clock, nullptr);
        if (!res) return res.error();
        return {};
      };
      thermal_warmups[p.cell->config_index] = warm_until_steady(*env.devices, env.thermal, clock, batch, env.stop);
    }
    if (auto w = thermal_warmups.find(p.cell->config_index); w != thermal_warmups.end())
      p.r.conditions["thermal_warmup"] = w->second;
    // The cool-down gate, right before the measured batch (after any warm-up to steady state).
    std::optional<record::CoolDown> cooled;
    if (gate) {
      auto c = cool_down(*env.devices, env.thermal, clock, env.stop);
      if (!c) return c.error();
      cooled = *c;
    }
    if (env.stop != nullptr && env.stop->load())  // stopped during a warm-up or a cool-down: no batch
      return make_error(Errc::kIo,
                        "interrupted: stopped before the next batch (every stored cell is kept; run the sweep "
                        "again to resume)");
    auto outcome = run_step(p, **engine, env, study.seed, round);
    if (!outcome) return outcome.error();
    if (*outcome == StepOutcome::kRan && cooled) p.r.reps.back().cooldown = cooled;
    ++steps_run;
    state.elapsed_s = clock.now().value() - t0;
    state.eta_s = state.elapsed_s / static_cast<double>(steps_run) * static_cast<double>(steps_left());
    if (*outcome == StepOutcome::kSkipped) {
      if (auto st = store_cell(p); !st) return st.error();
      return true;
    }
    if (*outcome == StepOutcome::kFailed) {
      // Stored as failed (its earlier repetitions' progress goes with put_cell); a resumed
      // sweep runs it again from its first repetition.
      if (auto st = store_cell(p); !st) return st.error();
      if (p.r.failures.size() >= p.r.key.batch)
        return make_error(Errc::kNetwork,
                          fmt::format("{}: every request of a batch failed (stored as failed; a resumed sweep runs it "
                                      "again); stopping the sweep: {}",
                                      to_string(p.r.key), p.r.reason));
      return true;
    }
    if (!needs_more(study, p.r)) {
      finalize(study, env.idle, p);
      if (auto st = store_cell(p); !st) return st.error();
      return true;
    }
    if (auto st = store.put_progress(p.r); !st) return st.error();
    return false;
  };

  if (study.order == RunOrder::kCellMajor) {
    for (auto& p : pending) {
      for (std::uint32_t round = static_cast<std::uint32_t>(p.r.reps.size());; ++round) {
        auto finished = step(p, round);
        if (!finished) return finished.error();
        if (*finished) break;
      }
    }
  } else {
    std::vector<bool> finished(pending.size(), false);
    for (std::uint32_t round = 0;; ++round) {
      bool any = false;
      const bool forward = round % 2 == 0;  // serpentine: a linear drift cancels over two rounds
      for (std::size_t n = 0; n < pending.size(); ++n) {
        const std::size_t i = forward ? n : pending.size() - 1 - n;
        if (finished[i]) continue;
        any = true;
        PendingCell& p = pending[i];
        if (p.r.reps.size() > round) continue;  // resumed ahead of this round
        auto done = step(p, round);
        if (!done) return done.error();
        finished[i] = *done;
      }
      if (!any) break;
    }
  }
  state.eta_s = 0.0;
  summary.elapsed_s = clock.now().value() - t0;
  return summary;
}

}  // namespace jouleperf::study
