#include "jouleperf/estimate/workload_estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace jouleperf::estimate {

Result<MissingBins> parse_missing_bins(std::string_view s) {
  if (s == "interpolate" || s == "interpolate-log") return MissingBins::kInterpolate;
  if (s == "refuse") return MissingBins::kRefuse;
  return make_error(Errc::kInvalidArgument, "--missing takes interpolate or refuse (got '" + std::string(s) + "')");
}

std::string_view missing_bins_name(MissingBins m) {
  return m == MissingBins::kInterpolate ? "interpolate-log" : "refuse";
}

void CellWeights::add(const Interpolation& interp, double scale) {
  for (const auto& c : interp.corners) weight_[c.cell] += scale * c.weight;
}

Interval CellWeights::interval(double sigmas) const {
  Interval r;
  double var = 0.0;
  for (const auto& [cell, c] : weight_) {
    const study::Spread s = cell->energy_per_batch_j();
    r.value_j += c * s.mean;
    const double se = s.n > 0 ? s.stddev / std::sqrt(static_cast<double>(s.n)) : 0.0;
    var += (c * se) * (c * se);
    r.systematic_j += c * cell->mean_uncertainty_j();
  }
  r.random_sigma_j = std::sqrt(var);
  const double half = sigmas * r.random_sigma_j + r.systematic_j;
  r.lo_j = std::max(0.0, r.value_j - half);
  r.hi_j = r.value_j + half;
  return r;
}

std::vector<const study::CellResult*> CellWeights::cells() const {
  std::vector<const study::CellResult*> out;
  for (const auto& [cell, c] : weight_) out.push_back(cell);
  return out;
}

namespace {

std::uint64_t batch_cap(const EstimateBin& bin, const EstimateOptions& options) {
  std::uint64_t cap = options.max_batch == 0 ? ~std::uint64_t{0} : options.max_batch;
  auto it = options.bin_batch_caps.find({bin.input_tokens, bin.output_tokens});
  if (it != options.bin_batch_caps.end()) cap = std::min(cap, it->second);
  return cap;
}

std::string cap_text(std::uint64_t cap) { return cap == ~std::uint64_t{0} ? "none" : std::to_string(cap); }

std::string nearest_text(const CellGrid& grid, const EstimateBin& bin) {
  std::string s;
  for (const auto& n : grid.nearest(static_cast<double>(bin.input_tokens), static_cast<double>(bin.output_tokens)))
    s += (s.empty() ? "" : "; ") + n;
  return s.empty() ? "none" : s;
}

}  // namespace

Result<std::pair<std::uint64_t, Interpolation>> plan_bin(const CellGrid& grid, const EstimateBin& bin,
                                                         const EstimateOptions& options) {
  const std::uint64_t cap = batch_cap(bin, options);
  // A measured cell: the largest batch not above the cap.
  const auto measured = grid.batches_at(bin.input_tokens, bin.output_tokens);
  for (auto it = measured.rbegin(); it != measured.rend(); ++it) {
    if (*it > cap) continue;
    Interpolation r;
    r.batch = *it;
    r.corners.push_back(Corner{grid.find(bin.input_tokens, bin.output_tokens, *it), 1.0});
    r.exact = true;
    return std::pair{*it, r};
  }
  const std::string what =
      fmt::format("bin I*={} O*={} ({} requests)", bin.input_tokens, bin.output_tokens, bin.requests);
  if (options.missing == MissingBins::kRefuse)
    return make_error(Errc::kNotFound, fmt::format("{} has no measured cell at B <= {} (--missing refuse); nearest "
                                                   "measured cells: {}",
                                                   what, cap_text(cap), nearest_text(grid, bin)));
  const auto all = grid.batches();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (*it > cap) continue;
    auto r =
        interpolate_at(grid, *it, static_cast<double>(bin.input_tokens), static_cast<double>(bin.output_tokens), false);
    if (r.ok()) return std::pair{*it, *r};
  }
  return make_error(Errc::kNotFound,
                    fmt::format("{} has no measured cell and lies outside the measured grid at every batch size "
                                "<= {} (interpolation does not extrapolate); nearest measured cells: {}",
                                what, cap_text(cap), nearest_text(grid, bin)));
}

namespace {

std::vector<study::CellKey> keys_of(const Interpolation& r) {
  std::vector<study::CellKey> out;
  for (const auto& c : r.corners) out.push_back(c.cell->key);
  return out;
}

void describe_sources(ConfigEstimate& e, const std::vector<const study::CellResult*>& cells) {
  std::set<std::string> sources;
  for (const auto* c : cells) {
    sources.insert(c->energy_source.empty() ? "unknown" : c->energy_source);
    e.estimated = e.estimated || c->estimated;
    e.simulated = e.simulated || c->simulated;
  }
  if (sources.size() == 1) {
    e.energy_source = *sources.begin();
    return;
  }
  std::string joined;
  for (const auto& s : sources) joined += (joined.empty() ? "" : "+") + s;
  e.energy_source = "mixed: " + joined;
}

void add_price(CellWeights& w, const BatchPrice& p, double scale) {
  for (const auto& [interp, weight] : p.parts) w.add(interp, scale * weight);
}

// The composed estimate (ConfigEstimate::composed) into `w`, with its counts in `e`.
Status add_composed(const CellGrid& grid, const WorkloadBins& bins, const RequestLengths& lengths,
                    const std::vector<std::size_t>& index, const std::vector<Interpolation>& plans, ConfigEstimate& e,
                    BatchComposition composition, CellWeights& w) {
  std::vector<std::vector<std::uint32_t>> in(bins.bins.size()), out(bins.bins.size());
  for (std::size_t r = 0; r < index.size(); ++r) {
    if (index[r] >= bins.bins.size()) continue;
    in[index[r]].push_back(lengths.inputs[r]);
    out[index[r]].push_back(lengths.outputs[r]);
  }
  for (std::size_t b = 0; b < bins.bins.size(); ++b) {
    if (in[b].empty()) continue;
    const std::uint64_t batch = e.bins[b].batch;
    const double n = static_cast<double>(in[b].size());
    auto c = compose_bin(in[b], out[b], batch, composition);
    if (!c.ok()) return c.error();
    // Fractional N/B batches of B at the lengths of a batch of min(N, B) requests.
    const bool whole = c->full_batches > 0;
    auto frac =
        price_batch(grid, batch, whole ? c->full_input : c->partial_input, whole ? c->full_output : c->partial_output);
    std::optional<BatchPrice> full, partial;
    if (whole) {
      if (frac.ok()) full = *frac;
    }
    bool ok = frac.ok() && (whole || c->partial_size > 0);
    if (ok && c->partial_size > 0) {
      auto p = price_batch(grid, c->partial_size, c->partial_input, c->partial_output);
      if (p.ok()) {
        partial = std::move(*p);
      } else {
        ok = false;
      }
    }
    if (!ok) {  // outside the grid at these lengths: the bin's own E_batch, N/B batches
      ++e.composed_fallback_bins;
      w.add(plans[b], n / static_cast<double>(batch));
      e.composed_fractional_j += n / static_cast<double>(batch) * plans[b].energy_batch_j();
      continue;
    }
    e.composed_fractional_j += n / static_cast<double>(batch) * frac->energy_batch_j();
    if (full) {
      add_price(w, *full, static_cast<double>(c->full_batches));
      e.composed_batches += c->full_batches;
    }
    if (partial) {
      add_price(w, *partial, 1.0);
      ++e.composed_batches;
      ++e.composed_partial_batches;
      if (partial->scaled) ++e.composed_partial_scaled;
    }
  }
  return {};
}

}  // namespace

Result<ConfigEstimate> estimate_config(const CellGrid& grid, const std::string& config, const WorkloadBins& bins,
                                       const RequestLengths* lengths, const EstimateOptions& options) {
  if (grid.empty())
    return make_error(Errc::kNotFound,
                      "configuration '" + config + "' has no measured cell (status done) in the store");
  ConfigEstimate e;
  e.config = config;
  CellWeights paper;
  std::vector<Interpolation> plans;
  for (const auto& bin : bins.bins) {
    auto plan = plan_bin(grid, bin, options);
    if (!plan.ok()) return make_error(plan.error().code, "configuration '" + config + "': " + plan.error().message);
    const auto& [batch, interp] = *plan;
    const double n_over_b = static_cast<double>(bin.requests) / static_cast<double>(batch);
    paper.add(interp, n_over_b);
    BinEstimate be;
    be.bin = bin;
    be.batch = batch;
    be.energy_batch_j = interp.energy_batch_j();
    be.energy_j = n_over_b * be.energy_batch_j;
    be.interpolated = !interp.exact;
    be.from = keys_of(interp);
    e.bins.push_back(std::move(be));
    e.requests += bin.requests;
    e.binned_output_tokens += bin.requests * bin.output_tokens;
    plans.push_back(interp);
  }
  e.paper = paper.interval(options.sigmas);
  std::vector<const study::CellResult*> used = paper.cells();

  if (lengths != nullptr) {
    CellWeights corrected;
    const auto index = bin_index_of_requests(bins, *lengths);
    std::uint64_t real_out = 0;
    std::map<std::tuple<std::size_t, std::uint32_t, std::uint32_t>, Interpolation> cache;
    for (std::size_t r = 0; r < index.size(); ++r) {
      const std::size_t b = index[r];
      if (b >= bins.bins.size()) continue;
      const std::uint32_t i = lengths->inputs[r], o = lengths->outputs[r];
      real_out += o;
      const auto key = std::tuple{b, i, o};
      auto it = cache.find(key);
      if (it == cache.end()) {
        auto interp = interpolate_at(grid, e.bins[b].batch, static_cast<double>(i), static_cast<double>(o), true,
                                     LengthSpace::kLinear);
        Interpolation v = interp.ok() ? *interp : plans[b];
        if (!interp.ok()) {  // not inside the grid at the bin's B: the bin's own E_batch
          v.clamped = false;
          v.exact = false;
          v.batch = 0;  // marks "uncorrected"
        }
        it = cache.emplace(key, std::move(v)).first;
      }
      const Interpolation& v = it->second;
      if (v.batch == 0) ++e.corrected_uncorrected;
      if (v.clamped) ++e.corrected_clamped;
      corrected.add(v, 1.0 / static_cast<double>(e.bins[b].batch));
    }
    e.corrected = corrected.interval(options.sigmas);
    e.real_output_tokens = real_out;
    for (const auto* c : corrected.cells())
      if (std::find(used.begin(), used.end(), c) == used.end()) used.push_back(c);
    if (options.composition != BatchComposition::kNone) {
      CellWeights composed;
      auto st = add_composed(grid, bins, *lengths, index, plans, e, options.composition, composed);
      if (!st.ok()) return make_error(st.error().code, "configuration '" + config + "': " + st.error().message);
      e.composed = composed.interval(options.sigmas);
      for (const auto* c : composed.cells())
        if (std::find(used.begin(), used.end(), c) == used.end()) used.push_back(c);
    }
  }
  describe_sources(e, used);
  return e;
}

}  // namespace jouleperf::estimate
