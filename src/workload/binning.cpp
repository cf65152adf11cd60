#include "jouleperf/workload/binning.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "jouleperf/core/text.hpp"
#include "jouleperf/workload/stats.hpp"

namespace jouleperf::workload {

std::vector<std::uint64_t> default_input_edges() { return {32, 128, 256, 512, 1024, 2048, 4096, 8192}; }
std::vector<std::uint64_t> default_output_edges() { return {8, 16, 32, 64, 128, 256, 512}; }

namespace {

Status check_edges(const std::vector<std::uint64_t>& e, const char* what) {
  if (e.empty()) return make_error(Errc::kInvalidArgument, std::string(what) + " edges are empty");
  for (std::size_t i = 1; i < e.size(); ++i)
    if (e[i] <= e[i - 1])
      return make_error(Errc::kInvalidArgument, std::string(what) + " edges must be strictly increasing (" +
                                                    std::to_string(e[i - 1]) + " then " + std::to_string(e[i]) + ")");
  return {};
}

Result<std::uint64_t> edge_number(std::string_view s, std::string_view spec) {
  auto v = parse_u64(s);
  if (!v.ok())
    return make_error(Errc::kInvalidArgument, "bad edge spec '" + std::string(spec) + "': " + v.error().message);
  return *v;
}

}  // namespace

Result<EdgeSpec> parse_edge_spec(std::string_view text) {
  EdgeSpec spec;
  const std::string_view t = trim(text);
  const auto colon = t.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view kind = t.substr(0, colon);
    const std::string_view rest = t.substr(colon + 1);
    if (kind == "pow2") {
      const auto c2 = rest.find(':');
      if (c2 == std::string_view::npos)
        return make_error(Errc::kInvalidArgument, "bad edge spec '" + std::string(t) + "': use pow2:LO:HI");
      auto lo = edge_number(rest.substr(0, c2), t);
      if (!lo.ok()) return lo.error();
      auto hi = edge_number(rest.substr(c2 + 1), t);
      if (!hi.ok()) return hi.error();
      if (*lo == 0 || *hi < *lo)
        return make_error(Errc::kInvalidArgument, "bad edge spec '" + std::string(t) + "': need 0 < LO <= HI");
      spec.kind = EdgeSpec::Kind::kPow2;
      spec.lo = *lo;
      spec.hi = *hi;
      return spec;
    }
    if (kind == "quantiles" || kind == "q") {
      auto k = edge_number(rest, t);
      if (!k.ok()) return k.error();
      if (*k == 0 || *k > 100000)
        return make_error(Errc::kInvalidArgument, "bad edge spec '" + std::string(t) + "': 1 to 100000 quantile bins");
      spec.kind = EdgeSpec::Kind::kQuantiles;
      spec.quantiles = static_cast<std::size_t>(*k);
      return spec;
    }
    return make_error(Errc::kInvalidArgument,
                      "bad edge spec '" + std::string(t) + "': use a list (32,128,512), pow2:LO:HI or quantiles:K");
  }
  spec.kind = EdgeSpec::Kind::kList;
  std::size_t start = 0;
  for (;;) {
    const auto comma = t.find(',', start);
    auto v = edge_number(t.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start), t);
    if (!v.ok()) return v.error();
    spec.list.push_back(*v);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (auto st = check_edges(spec.list, "bin"); !st.ok()) return st.error();
  return spec;
}

Result<std::vector<std::uint64_t>> resolve_edges(const EdgeSpec& spec, std::span<const std::uint32_t> sorted) {
  std::vector<std::uint64_t> edges;
  switch (spec.kind) {
    case EdgeSpec::Kind::kList: edges = spec.list; break;
    case EdgeSpec::Kind::kPow2:
      for (std::uint64_t p = 1; p != 0 && p <= spec.hi; p <<= 1)
        if (p >= spec.lo) edges.push_back(p);
      if (edges.empty())
        return make_error(Errc::kInvalidArgument,
                          "no power of two between " + std::to_string(spec.lo) + " and " + std::to_string(spec.hi));
      break;
    case EdgeSpec::Kind::kQuantiles:
      if (sorted.empty()) return make_error(Errc::kInvalidArgument, "quantile edges need a trace with requests");
      for (std::size_t j = 1; j <= spec.quantiles; ++j) {
        const double q = static_cast<double>(j) / static_cast<double>(spec.quantiles);
        const auto e = static_cast<std::uint64_t>(std::ceil(quantile_linear(sorted, q)));
        if (edges.empty() || e > edges.back()) edges.push_back(e);
      }
      break;
  }
  if (auto st = check_edges(edges, "bin"); !st.ok()) return st.error();
  return edges;
}

Result<OutOfRange> parse_out_of_range(std::string_view name) {
  if (name == "exclude") return OutOfRange::kExclude;
  if (name == "clamp") return OutOfRange::kClamp;
  if (name == "overflow") return OutOfRange::kOverflow;
  return make_error(Errc::kInvalidArgument,
                    "unknown out-of-range policy '" + std::string(name) + "' (exclude, clamp, overflow)");
}

std::string_view out_of_range_name(OutOfRange policy) {
  switch (policy) {
    case OutOfRange::kExclude: return "exclude";
    case OutOfRange::kClamp: return "clamp";
    case OutOfRange::kOverflow: return "overflow";
  }
  return "unknown";
}

double BinningResult::request_share(std::size_t i, std::size_t o) const {
  return binned == 0 ? 0.0 : static_cast<double>(counts[i][o]) / static_cast<double>(binned);
}

double BinningResult::token_share(std::size_t i, std::size_t o) const {
  const std::uint64_t real = real_input_tokens + real_output_tokens;
  return real == 0 ? 0.0 : static_cast<double>(tokens[i][o]) / static_cast<double>(real);
}

double ks_distance(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) {
  if (a.empty() || b.empty()) return 0.0;
  std::size_t i = 0, j = 0;
  double d = 0.0;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  while (i < a.size() && j < b.size()) {
    const std::uint64_t x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
  }
  return d;
}

namespace {

// Bin index of `len`, or edges.size() when past the last edge.
std::size_t bin_of(const std::vector<std::uint64_t>& edges, std::uint64_t len) {
  return static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), len) - edges.begin());
}

// KS distance between the lengths `real` and their bin edges. The bin map is monotone,
// so mapping the sorted lengths gives the sorted binned sample: one merge, no copy.
double binned_ks(std::vector<std::uint32_t>& real, const std::vector<std::uint64_t>& edges) {
  if (real.empty()) return 0.0;
  std::sort(real.begin(), real.end());
  auto star = [&](std::size_t k) -> std::uint64_t { return edges[std::min(bin_of(edges, real[k]), edges.size() - 1)]; };
  const std::size_t n = real.size();
  std::size_t i = 0, j = 0;
  double d = 0.0;
  while (i < n && j < n) {
    const std::uint64_t x = std::min<std::uint64_t>(real[i], star(j));
    while (i < n && real[i] == x) ++i;
    while (j < n && star(j) == x) ++j;
    d = std::max(d, std::fabs(static_cast<double>(i) - static_cast<double>(j)) / static_cast<double>(n));
  }
  return d;
}

double ratio(std::uint64_t a, std::uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

Result<BinningResult> bin_requests(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs,
                                   const BinningOptions& options) {
  if (inputs.size() != outputs.size())
    return make_error(Errc::kInvalidArgument, "input and output length arrays differ in size");
  if (auto st = check_edges(options.input_edges, "input"); !st.ok()) return st.error();
  if (auto st = check_edges(options.output_edges, "output"); !st.ok()) return st.error();
  BinningResult r;
  r.policy = options.policy;
  r.input_edges = options.input_edges;
  r.output_edges = options.output_edges;
  r.requests = inputs.size();
  const std::size_t ni = r.input_edges.size(), no = r.output_edges.size();
  // With kOverflow, bin ni / no is the overflow bin; its edge is the longest length in it.
  std::uint64_t in_overflow_max = 0, out_overflow_max = 0;
  bool in_over = false, out_over = false;
  std::uint64_t all_tokens = 0;
  // Pass 1: exclusions and the extent of the overflow bins.
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    all_tokens += static_cast<std::uint64_t>(inputs[k]) + outputs[k];
    const bool past_i = bin_of(r.input_edges, inputs[k]) == ni;
    const bool past_o = bin_of(r.output_edges, outputs[k]) == no;
    if (!past_i && !past_o) continue;
    switch (options.policy) {
      case OutOfRange::kExclude:
        ++r.excluded.requests;
        if (past_i) ++r.excluded.by_input;
        if (past_o) ++r.excluded.by_output;
        r.excluded.tokens += static_cast<std::uint64_t>(inputs[k]) + outputs[k];
        break;
      case OutOfRange::kClamp: ++r.clamped; break;
      case OutOfRange::kOverflow:
        if (past_i) {
          in_over = true;
          in_overflow_max = std::max<std::uint64_t>(in_overflow_max, inputs[k]);
        }
        if (past_o) {
          out_over = true;
          out_overflow_max = std::max<std::uint64_t>(out_overflow_max, outputs[k]);
        }
        break;
    }
  }
  if (in_over) {
    r.input_edges.push_back(in_overflow_max);
    r.input_overflow_bin = true;
  }
  if (out_over) {
    r.output_edges.push_back(out_overflow_max);
    r.output_overflow_bin = true;
  }
  // Pass 2: fill the bins. With the overflow edges appended, only kExclude leaves
  // requests past the last edge, and kClamp maps them to the last bin.
  const std::size_t nbi = r.input_edges.size(), nbo = r.output_edges.size();
  r.counts.assign(nbi, std::vector<std::uint64_t>(nbo, 0));
  r.tokens = r.counts;
  std::vector<std::uint32_t> real_in, real_out;
  real_in.reserve(inputs.size() - r.excluded.requests);
  real_out.reserve(inputs.size() - r.excluded.requests);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    std::size_t bi = bin_of(r.input_edges, inputs[k]);
    std::size_t bo = bin_of(r.output_edges, outputs[k]);
    if (bi == nbi || bo == nbo) {
      if (options.policy == OutOfRange::kExclude) continue;
      bi = std::min(bi, nbi - 1);
      bo = std::min(bo, nbo - 1);
    }
    ++r.counts[bi][bo];
    r.tokens[bi][bo] += static_cast<std::uint64_t>(inputs[k]) + outputs[k];
    ++r.binned;
    r.real_input_tokens += inputs[k];
    r.real_output_tokens += outputs[k];
    r.binned_input_tokens += r.input_edges[bi];
    r.binned_output_tokens += r.output_edges[bo];
    real_in.push_back(inputs[k]);
    real_out.push_back(outputs[k]);
  }
  r.excluded.request_share = ratio(r.excluded.requests, r.requests);
  r.excluded.token_share = ratio(r.excluded.tokens, all_tokens);
  r.token_ratio = ratio(r.binned_input_tokens + r.binned_output_tokens, r.real_input_tokens + r.real_output_tokens);
  r.input_token_ratio = ratio(r.binned_input_tokens, r.real_input_tokens);
  r.output_token_ratio = ratio(r.binned_output_tokens, r.real_output_tokens);
  r.ks_input = binned_ks(real_in, r.input_edges);
  r.ks_output = binned_ks(real_out, r.output_edges);
  return r;
}

}  // namespace jouleperf::workload
