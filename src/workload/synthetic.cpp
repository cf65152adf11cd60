#include "jouleperf/workload/synthetic.hpp"

#include <algorithm>
#include <cmath>

#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/random.hpp"
#include "jouleperf/workload/stats.hpp"

namespace jouleperf::workload {

Result<ArrivalProcess> parse_arrival_process(std::string_view name) {
  if (name == "poisson") return ArrivalProcess::kPoisson;
  if (name == "gamma") return ArrivalProcess::kGamma;
  if (name == "replay") return ArrivalProcess::kReplay;
  return make_error(Errc::kInvalidArgument,
                    "unknown arrival process '" + std::string(name) + "' (poisson, gamma, replay)");
}

Result<LengthModel> parse_length_model(std::string_view name) {
  if (name == "empirical") return LengthModel::kEmpirical;
  if (name == "lognormal") return LengthModel::kLogNormal;
  if (name == "bins") return LengthModel::kBins;
  return make_error(Errc::kInvalidArgument,
                    "unknown length model '" + std::string(name) + "' (empirical, lognormal, bins)");
}

namespace {

// Index drawn with probability weights[k] / sum(weights), by the cumulative sums.
class WeightedIndex {
 public:
  explicit WeightedIndex(std::span<const std::uint64_t> weights) {
    std::uint64_t sum = 0;
    for (auto w : weights) cum_.push_back(sum += w);
  }
  bool empty() const { return cum_.empty() || cum_.back() == 0; }
  std::size_t sample(std::mt19937_64& rng) const {
    const auto target = static_cast<std::uint64_t>(uniform01(rng) * static_cast<double>(cum_.back()));
    return static_cast<std::size_t>(std::upper_bound(cum_.begin(), cum_.end(), target) - cum_.begin());
  }

 private:
  std::vector<std::uint64_t> cum_;
};

Result<std::vector<double>> arrival_times(const SynthesisOptions& o, double own_rate, std::optional<double> own_cv,
                                          std::mt19937_64& rng) {
  const double rate = o.rate_rps.value_or(own_rate);
  switch (o.arrivals) {
    case ArrivalProcess::kPoisson: return poisson_arrivals(rate, o.count, rng);
    case ArrivalProcess::kGamma: {
      const std::optional<double> cv = o.cv ? o.cv : own_cv;
      if (!cv)
        return make_error(Errc::kInvalidArgument, "gamma arrivals need --cv (the source has no inter-arrival CV)");
      return gamma_arrivals(rate, *cv, o.count, rng);
    }
    case ArrivalProcess::kReplay: break;
  }
  return make_error(Errc::kInvalidArgument, "replay needs a trace with arrival times, not an embedded workload");
}

}  // namespace

Result<std::vector<TimedRequest>> synthesize(const DefaultWorkload& w, const SynthesisOptions& o,
                                             std::mt19937_64& rng) {
  if (auto st = check_request_count(o.count, w.name); !st) return st.error();
  auto times = arrival_times(o, w.rate_rps, w.interarrival_cv, rng);
  if (!times.ok()) return times.error();
  std::vector<TimedRequest> out(o.count);
  for (std::size_t k = 0; k < o.count; ++k) out[k].arrival_s = (*times)[k];
  switch (o.lengths) {
    case LengthModel::kEmpirical: {
      auto in = EmpiricalLengths::from_quantiles({w.input_quantiles.begin(), w.input_quantiles.end()});
      if (!in.ok()) return in.error();
      auto outl = EmpiricalLengths::from_quantiles({w.output_quantiles.begin(), w.output_quantiles.end()});
      if (!outl.ok()) return outl.error();
      for (auto& r : out) {
        r.input_tokens = in->sample(rng);
        r.output_tokens = outl->sample(rng);
      }
      break;
    }
    case LengthModel::kLogNormal:
      for (auto& r : out) {
        r.input_tokens = w.input_lognormal.sample(rng);
        r.output_tokens = w.output_lognormal.sample(rng);
      }
      break;
    case LengthModel::kBins: {
      const WeightedIndex cells(w.counts);
      if (cells.empty()) return make_error(Errc::kInvalidArgument, "the workload's bins are empty");
      for (auto& r : out) {
        const std::size_t c = cells.sample(rng);
        r.input_tokens = static_cast<std::uint32_t>(w.input_edges[c / w.output_edges.size()]);
        r.output_tokens = static_cast<std::uint32_t>(w.output_edges[c % w.output_edges.size()]);
      }
      break;
    }
  }
  return out;
}

Result<LoadedTrace> load_timed_requests(const std::string& path, const LoadOptions& options) {
  LoadedTrace t;
  auto sum = load_trace(path, options, [&t](const Request& r) {
    t.requests.push_back(TimedRequest{r.arrival_s.value_or(0.0), static_cast<std::uint32_t>(r.input_tokens),
                                      static_cast<std::uint32_t>(r.output_tokens)});
  });
  if (!sum.ok()) return sum.error();
  t.load = std::move(*sum);
  return t;
}

Result<std::vector<TimedRequest>> synthesize(const LoadedTrace& t, const SynthesisOptions& o, std::mt19937_64& rng) {
  if (auto st = check_request_count(o.count, t.load.source); !st) return st.error();
  if (t.requests.empty()) return make_error(Errc::kInvalidArgument, t.load.source + " has no requests to draw from");
  if (o.arrivals == ArrivalProcess::kReplay) {
    if (!t.load.has_arrivals)
      return make_error(Errc::kInvalidArgument, t.load.source + " has no arrival times to replay");
    auto r = replay(t.requests, o.replay);
    if (!r.ok()) return r.error();
    if (o.count > 0 && r->size() > o.count) r->resize(o.count);
    return r;
  }
  // The trace's own rate and burstiness, as `trace stats` computes them.
  double own_rate = 0.0;
  std::optional<double> own_cv;
  if (t.load.has_arrivals && t.requests.size() >= 2) {
    std::vector<double> a;
    a.reserve(t.requests.size());
    for (const auto& r : t.requests) a.push_back(r.arrival_s);
    std::sort(a.begin(), a.end());
    const double duration = a.back() - a.front();
    if (duration > 0) own_rate = static_cast<double>(a.size()) / duration;
    double mean = 0.0, m2 = 0.0;
    for (std::size_t k = 1; k < a.size(); ++k) {
      const double g = a[k] - a[k - 1], d = g - mean;
      mean += d / static_cast<double>(k);
      m2 += d * (g - mean);
    }
    if (mean > 0) own_cv = std::sqrt(m2 / static_cast<double>(a.size() - 1)) / mean;
  }
  if (!o.rate_rps && !(own_rate > 0))
    return make_error(Errc::kInvalidArgument, t.load.source + " has no arrival rate of its own: give --rate");
  auto times = arrival_times(o, own_rate, own_cv, rng);
  if (!times.ok()) return times.error();
  std::vector<TimedRequest> out(o.count);
  for (std::size_t k = 0; k < o.count; ++k) out[k].arrival_s = (*times)[k];
  switch (o.lengths) {
    case LengthModel::kEmpirical: {
      // Whole requests, so input and output lengths stay paired.
      const std::size_t n = t.requests.size();
      for (auto& r : out) {
        const auto k = std::min(n - 1, static_cast<std::size_t>(uniform01(rng) * static_cast<double>(n)));
        r.input_tokens = t.requests[k].input_tokens;
        r.output_tokens = t.requests[k].output_tokens;
      }
      break;
    }
    case LengthModel::kLogNormal: {
      std::vector<std::uint32_t> in, outl;
      for (const auto& r : t.requests) {
        in.push_back(r.input_tokens);
        outl.push_back(r.output_tokens);
      }
      auto fi = LogNormal::fit(in);
      if (!fi.ok()) return fi.error();
      auto fo = LogNormal::fit(outl);
      if (!fo.ok()) return fo.error();
      for (auto& r : out) {
        r.input_tokens = fi->sample(rng);
        r.output_tokens = fo->sample(rng);
      }
      break;
    }
    case LengthModel::kBins: {
      std::vector<std::uint32_t> in, outl;
      for (const auto& r : t.requests) {
        in.push_back(r.input_tokens);
        outl.push_back(r.output_tokens);
      }
      auto b = bin_requests(in, outl, {});
      if (!b.ok()) return b.error();
      std::vector<std::uint64_t> flat;
      for (const auto& row : b->counts) flat.insert(flat.end(), row.begin(), row.end());
      const WeightedIndex cells(flat);
      if (cells.empty()) return make_error(Errc::kInvalidArgument, "no request of the trace falls in a default bin");
      const std::size_t no = b->output_edges.size();
      for (auto& r : out) {
        const std::size_t c = cells.sample(rng);
        r.input_tokens = static_cast<std::uint32_t>(b->input_edges[c / no]);
        r.output_tokens = static_cast<std::uint32_t>(b->output_edges[c % no]);
      }
      break;
    }
  }
  return out;
}

}  // namespace jouleperf::workload
