#include "jouleperf/study/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "jouleperf/engine/serve.hpp"
#include "jouleperf/estimate/interpolate.hpp"
#include "jouleperf/estimate/workload_estimate.hpp"

namespace jouleperf::study {

std::vector<std::size_t> pick_validation_requests(const estimate::WorkloadBins& bins,
                                                  const estimate::RequestLengths& lengths, std::size_t count,
                                                  std::uint64_t seed, std::uint64_t whole_batch) {
  const auto bin_of = estimate::bin_index_of_requests(bins, lengths);
  std::vector<std::size_t> binned;
  for (std::size_t k = 0; k < bin_of.size(); ++k) {
    if (bin_of[k] < bins.bins.size()) binned.push_back(k);
  }
  if (binned.empty() || count == 0) return {};
  // Within a bin, a seeded shuffle; bins in order; then every k-th request.
  std::mt19937_64 rng(seed);
  std::shuffle(binned.begin(), binned.end(), rng);
  std::stable_sort(binned.begin(), binned.end(), [&](std::size_t a, std::size_t b) { return bin_of[a] < bin_of[b]; });
  std::vector<std::size_t> out;
  if (count >= binned.size()) {
    out = binned;
  } else {
    const double step = static_cast<double>(binned.size()) / static_cast<double>(count);
    std::uniform_real_distribution<double> u(0.0, step);
    const double offset = u(rng);
    out.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      const auto at = static_cast<std::size_t>(offset + step * static_cast<double>(k));
      out.push_back(binned[std::min(at, binned.size() - 1)]);
    }
  }
  if (whole_batch <= 1) return out;
  // Round each bin's pick up to whole batches: the bin's other requests in their shuffled
  // order fill it (a bin's requests are contiguous in `binned`).
  std::map<std::size_t, std::size_t> picked_in_bin;  // bin -> requests picked
  for (auto k : out) ++picked_in_bin[bin_of[k]];
  std::vector<std::size_t> whole;
  for (std::size_t lo = 0; lo < binned.size();) {
    const std::size_t bin = bin_of[binned[lo]];
    std::size_t hi = lo;
    while (hi < binned.size() && bin_of[binned[hi]] == bin) ++hi;
    if (auto it = picked_in_bin.find(bin); it != picked_in_bin.end()) {
      // The picked ones first, then others of the bin until the count is a whole number of batches.
      std::vector<std::size_t> mine;
      for (auto k : out)
        if (bin_of[k] == bin) mine.push_back(k);
      const std::size_t want = std::min<std::size_t>(
          hi - lo, static_cast<std::size_t>((it->second + whole_batch - 1) / whole_batch * whole_batch));
      for (std::size_t j = lo; j < hi && mine.size() < want; ++j)
        if (std::find(mine.begin(), mine.end(), binned[j]) == mine.end()) mine.push_back(binned[j]);
      whole.insert(whole.end(), mine.begin(), mine.end());
    }
    lo = hi;
  }
  return whole;
}

namespace {

// E_batch(I*, O*, b) from the cells of the configuration and its siblings measured at
// (I*, O*): exact at a measured batch size, linear in b between the nearest two, the
// nearest one's value scaled by b outside them. nullopt without any cell there.
std::optional<double> energy_at_batch(const std::vector<estimate::CellGrid>& grids, std::uint64_t input,
                                      std::uint64_t output, std::uint64_t b) {
  std::map<std::uint64_t, double> at;  // batch -> mean energy per batch
  for (const auto& g : grids) {
    for (auto batch : g.batches_at(input, output)) {
      if (const auto* c = g.find(input, output, batch)) at.emplace(batch, c->energy_per_batch_j().mean);
    }
  }
  if (at.empty()) return std::nullopt;
  if (auto it = at.find(b); it != at.end()) return it->second;
  auto hi = at.lower_bound(b);
  if (hi == at.begin()) return hi->second * static_cast<double>(b) / static_cast<double>(hi->first);
  auto lo = std::prev(hi);
  if (hi == at.end()) return lo->second * static_cast<double>(b) / static_cast<double>(lo->first);
  const double t = static_cast<double>(b - lo->first) / static_cast<double>(hi->first - lo->first);
  return lo->second + t * (hi->second - lo->second);
}

double pct_of(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

}  // namespace

Result<nlohmann::json> validate_estimate(Engine& engine, Sampler& sampler, const Clock& clock,
                                         const estimate::WorkloadBins& bins, const estimate::RequestLengths& lengths,
                                         std::span<const CellResult> cells, const ValidationOptions& o) {
  if (o.batch == 0) return make_error(Errc::kInvalidArgument, "validation: batch size 0");
  if (o.repetitions == 0) return make_error(Errc::kInvalidArgument, "validation: 0 repetitions");
  const auto picked = pick_validation_requests(bins, lengths, o.requests, o.seed, o.whole_batches ? o.batch : 1);
  if (picked.empty()) return make_error(Errc::kInvalidArgument, "validation: the workload has no binned request");
  estimate::RequestLengths subset;
  for (auto k : picked) {
    subset.inputs.push_back(lengths.inputs[k]);
    subset.outputs.push_back(lengths.outputs[k]);
  }
  workload::BinningOptions bo;
  bo.input_edges = bins.input_edges;
  bo.output_edges = bins.output_edges;
  bo.policy = bins.policy;
  auto sub_bins = estimate::bin_lengths(subset, bo, bins.name + " (validation subset)", bins.trace);
  if (!sub_bins) return sub_bins.error();

  // The estimates for exactly these requests, at the run's batch size.
  const auto grid = estimate::CellGrid::of_config(cells, o.config);
  estimate::EstimateOptions eo;
  eo.max_batch = o.batch;
  eo.composition = o.composition;
  auto est = estimate::estimate_config(grid, o.config, *sub_bins, &subset, eo);
  if (!est) return est.error();

  // The subset's bins and their requests, in bin order.
  const auto bin_of = estimate::bin_index_of_requests(*sub_bins, subset);
  std::vector<estimate::CellGrid> grids = {grid};
  for (const auto& s : o.siblings) grids.push_back(estimate::CellGrid::of_config(cells, s));
  struct BinRun {
    std::size_t bin = 0;
    std::vector<ServeRequest> requests;
    std::vector<double> energy_j;         // per measured pass
    double uncertainty_j = 0.0;           // summed over passes
    double duration_s = 0.0;              // summed over passes
    std::vector<ServeRequest> reference;  // B requests at the bin's edges (the cell), or empty
    double reference_cell_j = 0.0;        // that cell's stored E_batch
    std::vector<double> reference_j;      // the reference batch measured now, per pass
  };
  std::vector<BinRun> runs;
  std::uint64_t real_in = 0, real_out = 0, binned_in = 0, binned_out = 0;
  for (std::size_t b = 0; b < sub_bins->bins.size(); ++b) {
    const auto& bin = sub_bins->bins[b];
    BinRun run{b, {}, {}, 0.0, 0.0, {}, 0.0, {}};
    for (std::size_t k = 0; k < subset.inputs.size(); ++k) {
      if (bin_of[k] != b) continue;
      ServeRequest r;
      r.input_tokens = subset.inputs[k];
      r.output_tokens = subset.outputs[k];
      r.seed = o.seed + k;
      run.requests.push_back(r);
      real_in += subset.inputs[k];
      real_out += subset.outputs[k];
      binned_in += bin.input_tokens;
      binned_out += bin.output_tokens;
    }
    if (run.requests.empty()) continue;
    if (o.reference) {
      if (const auto* cell = grid.find(bin.input_tokens, bin.output_tokens, o.batch)) {
        run.reference_cell_j = cell->energy_per_batch_j().mean;
        for (std::uint64_t k = 0; k < o.batch; ++k) {
          ServeRequest r;
          r.input_tokens = bin.input_tokens;
          r.output_tokens = bin.output_tokens;
          r.seed = o.seed + k;
          run.reference.push_back(r);
        }
      }
    }
    runs.push_back(std::move(run));
  }
  ServeOptions so;
  so.batching = BatchingMode::kStatic;
  so.max_batch = static_cast<std::uint32_t>(o.batch);

  // Warm-up, unmeasured: per bin, its reference batch (at the bin's edges, longer than any
  // of its requests) or else a batch of its longest requests: llama.cpp grows its buffers
  // at the largest batch of tokens it has seen, so no measured batch grows them.
  for (std::uint32_t w = 0; w < o.warmup_batches; ++w) {
    for (const auto& run : runs) {
      auto longest = run.reference.empty() ? run.requests : run.reference;
      std::stable_sort(longest.begin(), longest.end(), [](const ServeRequest& x, const ServeRequest& y) {
        return x.input_tokens + x.output_tokens > y.input_tokens + y.output_tokens;
      });
      longest.resize(std::min<std::size_t>(longest.size(), static_cast<std::size_t>(o.batch)));
      if (auto served = engine.serve(longest, so, clock, nullptr); !served) return served.error();
    }
  }
  // The measured passes, round-robin over the bins.
  std::string source;
  bool estimated = false;
  std::uint64_t below_resolution = 0, incomplete = 0;  // measured windows so flagged (docs/sensors.md)
  for (std::uint32_t rep = 0; rep < o.repetitions; ++rep) {
    for (auto& run : runs) {
      Meter meter(sampler);
      if (o.idle) meter.set_idle(*o.idle);
      auto served = engine.serve(run.requests, so, clock, &meter);
      if (!served) return served.error();
      auto m = meter.stop();
      if (!m) return m.error();
      run.energy_j.push_back(m->total.energy_j);
      run.uncertainty_j += m->total.uncertainty_j;
      run.duration_s += served->end_s - served->start_s;
      estimated = estimated || m->total.estimated;
      below_resolution += m->total.below_resolution ? 1 : 0;
      incomplete += m->total.incomplete ? 1 : 0;
      if (source.empty()) {
        source = m->total.energy_source;
      } else if (source != m->total.energy_source) {
        source = "mixed";
      }
      if (!run.reference.empty()) {
        Meter ref(sampler);
        if (auto served_ref = engine.serve(run.reference, so, clock, &ref); !served_ref) return served_ref.error();
        auto mr = ref.stop();
        if (!mr) return mr.error();
        run.reference_j.push_back(mr->total.energy_j);
      }
    }
  }
  // The machine's drift since the sweep: the bins' reference batches now against their
  // stored cells (the same work). A slower or hotter machine today moves the measured run
  // by as much, whatever the estimate.
  double reference_now_j = 0.0, reference_cells_j = 0.0;
  for (const auto& run : runs) {
    if (run.reference_j.empty()) continue;
    reference_now_j += spread_of(run.reference_j).mean;
    reference_cells_j += run.reference_cell_j;
  }
  const bool has_reference = reference_cells_j > 0.0 && reference_now_j > 0.0;
  std::vector<double> pass_total_j(o.repetitions, 0.0);
  double measured_u = 0.0, as_run_j = 0.0;
  bool as_run_known = true;
  nlohmann::json per_bin = nlohmann::json::array();
  for (const auto& run : runs) {
    const auto& bin = sub_bins->bins[run.bin];
    for (std::uint32_t rep = 0; rep < o.repetitions; ++rep) pass_total_j[rep] += run.energy_j[rep];
    measured_u += run.uncertainty_j / o.repetitions;
    // As run: full batches at B, the last one at its real size.
    const std::uint64_t n = run.requests.size(), full = n / o.batch, rest = n % o.batch;
    auto e_full = energy_at_batch(grids, bin.input_tokens, bin.output_tokens, o.batch);
    std::optional<double> e_rest = rest ? energy_at_batch(grids, bin.input_tokens, bin.output_tokens, rest) : 0.0;
    if (e_full && e_rest) {
      as_run_j += static_cast<double>(full) * *e_full + *e_rest;
    } else {
      as_run_known = false;
    }
    per_bin.push_back({{"input_tokens", bin.input_tokens},
                       {"output_tokens", bin.output_tokens},
                       {"requests", n},
                       {"batches", full + (rest ? 1 : 0)},
                       {"measured_energy_j", spread_of(run.energy_j).mean},
                       {"duration_s", run.duration_s / o.repetitions}});
  }
  const Spread passes = spread_of(pass_total_j);
  const double measured_j = passes.mean;
  // Every error is relative to the measured energy: none can be stated against zero.
  if (!std::isfinite(measured_j) || measured_j <= 0.0)
    return make_error(Errc::kInternal,
                      fmt::format("validation of {} on {}: the sensor measured {} J over {} requests ({}); no error "
                                  "can be computed against it",
                                  o.config, bins.name, measured_j, picked.size(), source));

  // The corrected estimate is the one for static batches as they run: real lengths, each
  // batch running until its longest request ends (the composed estimate,
  // estimate::BatchComposition), as the full validation's (full_validation.hpp). The
  // per-request one prices every request alone at its real lengths; without composition
  // it is the corrected one.
  const double paper = est->paper.value_j;
  const double per_request = est->corrected ? est->corrected->value_j : paper;
  const double corrected = est->composed ? est->composed->value_j : per_request;
  // Shares are signed parts of (paper - measured) / measured; they sum to the paper's
  // error. The composed estimate prices partial batches at their real size itself; without
  // it, the partial batches are a source of their own (priced as run).
  const bool partial_apart = !est->composed && as_run_known;
  nlohmann::json sources = nlohmann::json::array();
  sources.push_back({{"name", "ceiling bins (token over-count)"},
                     {"share_pct", pct_of(paper - per_request, measured_j)},
                     {"how", "paper estimate minus the per-request one (real lengths), over the measured energy"}});
  if (est->composed)
    sources.push_back({{"name",
                        "batch composition and partial batches (a static batch runs until its longest "
                        "request ends; a bin's last batch at its real size)"},
                       {"share_pct", pct_of(per_request - corrected, measured_j)},
                       {"how", "per-request estimate minus the corrected (composed) one"}});
  if (partial_apart)
    sources.push_back({{"name", "batch sizes (partial batches priced at full-batch energy per request)"},
                       {"share_pct", pct_of(paper - as_run_j, measured_j)},
                       {"how",
                        "paper estimate minus the same bins priced as run (the last batch of a bin at its "
                        "real size, E_batch linear in B between measured batch sizes)"}});
  sources.push_back(
      {{"name", "the rest (measurement spread, what the cells do not capture)"},
       {"share_pct", pct_of(corrected - measured_j - (partial_apart ? paper - as_run_j : 0.0), measured_j)},
       {"how", "what the sources above do not explain"}});
  nlohmann::json j = {
      {"config", o.config},
      {"workload", bins.name},
      {"requests", picked.size()},
      {"batch", o.batch},
      {"energy_source", source},
      {"estimated", estimated},
      {"simulated", false},
      {"measured_energy_j", measured_j},
      {"measured_uncertainty_j", measured_u},
      {"repetitions", o.repetitions},
      {"warmup_batches", o.warmup_batches},
      {"whole_batches", o.whole_batches},
      {"measured_windows", runs.size() * o.repetitions},
      {"below_resolution_windows", below_resolution},
      {"incomplete_windows", incomplete},
      {"measured_ci95_j", o.repetitions >= 2 ? nlohmann::json(ci95_half_width(passes)) : nlohmann::json(nullptr)},
      {"measured_pass_energy_j", pass_total_j},
      {"paper_estimate_j", paper},
      {"paper_lo_j", est->paper.lo_j},
      {"paper_hi_j", est->paper.hi_j},
      {"paper_error_pct", 100.0 * (paper / measured_j - 1.0)},
      {"reference_drift_pct",
       has_reference ? nlohmann::json(100.0 * (reference_now_j / reference_cells_j - 1.0)) : nlohmann::json(nullptr)},
      {"corrected_error_drift_adjusted_pct",
       has_reference ? nlohmann::json(100.0 * (corrected * reference_now_j / reference_cells_j / measured_j - 1.0))
                     : nlohmann::json(nullptr)},
      {"per_request_estimate_j", per_request},
      {"per_request_error_pct", 100.0 * (per_request / measured_j - 1.0)},
      {"corrected_estimate_j", corrected},
      {"corrected_error_pct", 100.0 * (corrected / measured_j - 1.0)},
      {"composed_estimate_j", est->composed ? nlohmann::json(est->composed->value_j) : nlohmann::json(nullptr)},
      {"composed_error_pct",
       est->composed ? nlohmann::json(100.0 * (est->composed->value_j / measured_j - 1.0)) : nlohmann::json(nullptr)},
      {"composition", std::string(estimate::batch_composition_name(o.composition))},
      {"as_run_estimate_j", as_run_known ? nlohmann::json(as_run_j) : nlohmann::json(nullptr)},
      {"error_sources", sources},
      {"tokens",
       {{"real_input", real_in},
        {"real_output", real_out},
        {"binned_input", binned_in},
        {"binned_output", binned_out}}},
      {"bins", per_bin}};
  return j;
}

}  // namespace jouleperf::study
