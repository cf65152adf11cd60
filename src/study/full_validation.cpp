#include "jouleperf/study/full_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "jouleperf/engine/serve.hpp"
#include "jouleperf/engine/sim_engine.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/study/sweep.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::study {

namespace {

class SimBatchRunner final : public StaticBatchRunner {
 public:
  explicit SimBatchRunner(sim::SimConfig c) : c_(std::move(c)) {
    c_.batching = sim::Batching::kStatic;
    c_.replicas = 1;
    c_.static_wait_s = 0.0;
    c_.keep_requests = false;
    c_.timeline_bins = 1;
    c_.stop_after_s = 0.0;
  }

  Result<double> run(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs) override {
    if (inputs.empty() || inputs.size() != outputs.size())
      return make_error(Errc::kInvalidArgument, "sim batch runner: empty batch or arrays of different sizes");
    std::vector<workload::TimedRequest> reqs(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k) reqs[k] = workload::TimedRequest{0.0, inputs[k], outputs[k]};
    c_.max_batch = static_cast<std::uint32_t>(inputs.size());
    auto r = sim::simulate(c_, reqs);
    if (!r) return r.error();
    if (r->completed != inputs.size() || r->peak_sequences != inputs.size())
      return make_error(Errc::kUnsupported,
                        fmt::format("sim batch runner: the batch of {} does not fit as one batch ({} completed, {} "
                                    "rejected, at most {} at once)",
                                    inputs.size(), r->completed, r->rejected, r->peak_sequences));
    return r->energy_j;
  }

  std::string energy_source() const override { return "simulated"; }

 private:
  sim::SimConfig c_;
};

class EngineBatchRunner final : public StaticBatchRunner {
 public:
  EngineBatchRunner(Engine& e, Sampler& s, const Clock& c, std::optional<IdleBaseline> idle)
      : engine_(e), sampler_(s), clock_(c), idle_(std::move(idle)) {}

  Result<double> run(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs) override {
    if (inputs.empty() || inputs.size() != outputs.size())
      return make_error(Errc::kInvalidArgument, "engine batch runner: empty batch or arrays of different sizes");
    std::vector<ServeRequest> reqs(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      reqs[k].input_tokens = inputs[k];
      reqs[k].output_tokens = outputs[k];
      reqs[k].seed = ++seed_;
    }
    ServeOptions so;
    so.batching = BatchingMode::kStatic;
    so.max_batch = static_cast<std::uint32_t>(inputs.size());
    Meter meter(sampler_);
    if (idle_) meter.set_idle(*idle_);
    auto served = engine_.serve(reqs, so, clock_, &meter);
    if (!served) return served.error();
    auto m = meter.stop();
    if (!m) return m.error();
    if (source_.empty()) {
      source_ = m->total.energy_source;
    } else if (source_ != m->total.energy_source) {
      source_ = "mixed";
    }
    return m->total.energy_j;
  }

  std::string energy_source() const override { return source_; }

 private:
  Engine& engine_;
  Sampler& sampler_;
  const Clock& clock_;
  std::optional<IdleBaseline> idle_;
  std::uint64_t seed_ = 0;
  std::string source_;
};

double pct(double part, double whole) { return whole > 0.0 ? 100.0 * part / whole : 0.0; }

}  // namespace

std::unique_ptr<StaticBatchRunner> make_sim_batch_runner(const sim::SimConfig& config) {
  return std::make_unique<SimBatchRunner>(config);
}

std::unique_ptr<StaticBatchRunner> make_engine_batch_runner(Engine& engine, Sampler& sampler, const Clock& clock,
                                                            std::optional<IdleBaseline> idle) {
  return std::make_unique<EngineBatchRunner>(engine, sampler, clock, std::move(idle));
}

Result<std::vector<CellResult>> simulate_cells(Engine& engine, const std::string& config,
                                               std::span<const std::uint64_t> inputs,
                                               std::span<const std::uint64_t> outputs,
                                               std::span<const std::uint64_t> batches) {
  ManualClock clock;
  std::vector<CellResult> cells;
  for (auto i : inputs) {
    for (auto o : outputs) {
      for (auto b : batches) {
        CellResult r;
        r.key = CellKey{config, i, o, b};
        r.energy_source = "simulated";
        r.estimated = true;
        r.simulated = true;
        BatchRequest req;
        req.batch = b;
        req.input_tokens = i;
        req.output_tokens = o;
        req.batching = BatchingMode::kStatic;
        auto res = engine.run_batch(req, clock, nullptr);
        if (!res) {
          const Errc code = res.error().code;
          if (code != Errc::kUnsupported && code != Errc::kInvalidArgument)
            return make_error(code, to_string(r.key) + ": " + res.error().message);
          r.status = CellStatus::kSkipped;
          r.reason = res.error().to_string();
          cells.push_back(std::move(r));
          continue;
        }
        if (!res->simulated)
          return make_error(Errc::kInvalidArgument,
                            to_string(r.key) +
                                ": the engine measured nothing simulated (simulate_cells runs a "
                                "simulating engine; measure a real one with the sweep)");
        r.reps.push_back(repetition_from_simulated(*res));
        r.conditions["simulated_deployment"] = res->simulated->description;
        cells.push_back(std::move(r));
      }
    }
  }
  return cells;
}

Result<BatchOrder> parse_batch_order(std::string_view s) {
  if (s == "trace") return BatchOrder::kAsGiven;
  if (s == "shuffle") return BatchOrder::kShuffled;
  return make_error(Errc::kInvalidArgument, "batch order takes trace or shuffle (got '" + std::string(s) + "')");
}

double FullValidation::error_pct(double estimate_j) const {
  return 100.0 * (estimate_j / run_j - 1.0);  // run_j > 0: validate_full_run refuses a run without energy
}
double FullValidation::ceilings_pct() const { return pct(paper_j - per_request_j, run_j); }
double FullValidation::composition_pct() const { return pct(per_request_j - fractional_j, run_j); }
double FullValidation::partial_pct() const { return pct(fractional_j - corrected_j, run_j); }
double FullValidation::rest_pct() const { return pct(corrected_j - run_j, run_j); }

Result<FullValidation> validate_full_run(StaticBatchRunner& runner, const estimate::WorkloadBins& bins,
                                         const estimate::RequestLengths& lengths, std::span<const CellResult> cells,
                                         const FullValidationOptions& o) {
  if (lengths.inputs.size() != lengths.outputs.size())
    return make_error(Errc::kInvalidArgument, "full validation: input and output length arrays differ in size");
  FullValidation v;
  v.config = o.config;
  v.workload = bins.name;
  estimate::EstimateOptions eo = o.estimate;
  if (eo.composition == estimate::BatchComposition::kNone) eo.composition = estimate::BatchComposition::kPaddedPrompts;
  v.composition = eo.composition;
  const auto grid = estimate::CellGrid::of_config(cells, o.config);
  auto est = estimate::estimate_config(grid, o.config, bins, &lengths, eo);
  if (!est) return est.error();
  if (!est->corrected || !est->composed)
    return make_error(Errc::kInternal, "full validation: the estimate has no corrected figures");
  v.paper_j = est->paper.value_j;
  v.per_request_j = est->corrected->value_j;
  v.fractional_j = est->composed_fractional_j;
  v.corrected_j = est->composed->value_j;

  // Each bin's requests, in the chosen order.
  const auto bin_of = estimate::bin_index_of_requests(bins, lengths);
  std::vector<std::size_t> order(bin_of.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (o.order == BatchOrder::kShuffled) {
    std::mt19937_64 rng(o.seed);
    std::shuffle(order.begin(), order.end(), rng);
  }
  std::vector<std::vector<std::size_t>> members(bins.bins.size());
  for (auto r : order)
    if (bin_of[r] < bins.bins.size()) members[bin_of[r]].push_back(r);

  std::vector<std::uint32_t> in, out;
  for (std::size_t b = 0; b < bins.bins.size(); ++b) {
    const auto& bin = bins.bins[b];
    const std::uint64_t batch = est->bins[b].batch;
    const auto& m = members[b];
    for (std::size_t start = 0; start < m.size(); start += batch) {
      const std::size_t end = std::min<std::size_t>(m.size(), start + batch);
      in.clear();
      out.clear();
      for (std::size_t k = start; k < end; ++k) {
        in.push_back(lengths.inputs[m[k]]);
        out.push_back(lengths.outputs[m[k]]);
        v.real_input_tokens += lengths.inputs[m[k]];
        v.real_output_tokens += lengths.outputs[m[k]];
        v.binned_input_tokens += bin.input_tokens;
        v.binned_output_tokens += bin.output_tokens;
      }
      auto e = runner.run(in, out);
      if (!e)
        return make_error(e.error().code, fmt::format("bin I*={} O*={}: batch of {} at B={}: {}", bin.input_tokens,
                                                      bin.output_tokens, in.size(), batch, e.error().message));
      v.run_j += *e;
      ++v.batches;
      if (end - start < batch) ++v.partial_batches;
      v.requests += end - start;
    }
  }
  if (v.requests == 0) return make_error(Errc::kInvalidArgument, "full validation: the workload has no binned request");
  // Every error is relative to the run: a run without energy has no error to report (a
  // 0 % would be a silent zero).
  if (!std::isfinite(v.run_j) || v.run_j <= 0.0)
    return make_error(Errc::kInternal, fmt::format("full validation: the run of {} requests measured {} J ({}): no "
                                                   "error can be computed against it",
                                                   v.requests, v.run_j, runner.energy_source()));
  v.energy_source = runner.energy_source();
  v.estimate = std::move(*est);
  return v;
}

Result<FullValidation> validate_on_simulator(const sim::SimConfig& config, const estimate::WorkloadBins& bins,
                                             const estimate::RequestLengths& lengths,
                                             std::span<const std::uint64_t> batches,
                                             const FullValidationOptions& options) {
  if (batches.empty()) return make_error(Errc::kInvalidArgument, "validation on the simulator: no batch size");
  sim::SimConfig c = config;
  c.batching = sim::Batching::kStatic;
  EngineInfo info;
  info.engine = "sim";
  info.model = c.model.arch.name;
  auto engine = make_sim_engine(c, info);
  auto cells = simulate_cells(*engine, options.config, bins.input_edges, bins.output_edges, batches);
  if (!cells) return cells.error();
  auto runner = make_sim_batch_runner(c);
  return validate_full_run(*runner, bins, lengths, *cells, options);
}

nlohmann::json to_json(const FullValidation& v) {
  const auto& e = v.estimate;
  return {{"config", v.config},
          {"workload", v.workload},
          {"energy_source", v.energy_source},
          {"composition", std::string(estimate::batch_composition_name(v.composition))},
          {"requests", v.requests},
          {"batches", v.batches},
          {"partial_batches", v.partial_batches},
          {"run_energy_j", v.run_j},
          {"paper_estimate_j", v.paper_j},
          {"paper_error_pct", v.error_pct(v.paper_j)},
          {"per_request_estimate_j", v.per_request_j},
          {"per_request_error_pct", v.error_pct(v.per_request_j)},
          {"fractional_estimate_j", v.fractional_j},
          {"corrected_estimate_j", v.corrected_j},
          {"corrected_error_pct", v.error_pct(v.corrected_j)},
          {"error_sources",
           {{"ceilings_pct", v.ceilings_pct()},
            {"composition_pct", v.composition_pct()},
            {"partial_batches_pct", v.partial_pct()},
            {"rest_pct", v.rest_pct()}}},
          {"estimate_counts",
           {{"composed_batches", e.composed_batches},
            {"composed_partial_batches", e.composed_partial_batches},
            {"composed_partial_scaled", e.composed_partial_scaled},
            {"composed_fallback_bins", e.composed_fallback_bins},
            {"corrected_clamped_requests", e.corrected_clamped},
            {"corrected_uncorrected_requests", e.corrected_uncorrected}}},
          {"tokens",
           {{"real_input", v.real_input_tokens},
            {"real_output", v.real_output_tokens},
            {"binned_input", v.binned_input_tokens},
            {"binned_output", v.binned_output_tokens}}}};
}

}  // namespace jouleperf::study
