#include "jouleperf/workload/trace_binning.hpp"

#include <algorithm>

namespace jouleperf::workload {

Result<TraceBinning> bin_lengths(std::vector<std::uint32_t> inputs, std::vector<std::uint32_t> outputs,
                                 std::vector<TimedRequest> jobs, LoadSummary load, const TraceBinningOptions& options) {
  BinningOptions bo;
  bo.policy = options.policy;
  {
    // Quantile edges need sorted lengths; sort copies only when asked for.
    std::vector<std::uint32_t> sorted;
    auto edges = [&](const EdgeSpec& spec, const std::vector<std::uint32_t>& values) {
      sorted.clear();
      if (spec.kind == EdgeSpec::Kind::kQuantiles) {
        sorted = values;
        std::sort(sorted.begin(), sorted.end());
      }
      return resolve_edges(spec, sorted);
    };
    auto in = edges(options.input_edges, inputs);
    if (!in.ok()) return in.error();
    auto out = edges(options.output_edges, outputs);
    if (!out.ok()) return out.error();
    bo.input_edges = std::move(*in);
    bo.output_edges = std::move(*out);
  }
  auto bins = bin_requests(inputs, outputs, bo);
  if (!bins.ok()) return bins.error();
  TraceBinning out;
  out.load = std::move(load);
  out.bins = std::move(*bins);
  if (options.memory) {
    auto b = batch_size_matrix(*options.memory, out.bins.input_edges, out.bins.output_edges);
    if (!b.ok()) return b.error();
    out.memory = options.memory;
    out.batch_sizes = std::move(*b);
  }
  if (options.service) {
    if (!out.load.has_arrivals)
      return make_error(Errc::kInvalidArgument,
                        out.load.source + " has no arrival times: the occupancy estimate needs them");
    auto c = concurrency_distribution(jobs, *options.service, options.memory ? options.memory->max_batch : 0);
    if (!c.ok()) return c.error();
    out.service = options.service;
    out.concurrency = std::move(*c);
  }
  return out;
}

Result<TraceBinning> bin_trace(const std::string& path, const LoadOptions& load_options,
                               const TraceBinningOptions& options) {
  std::vector<std::uint32_t> inputs, outputs;
  std::vector<TimedRequest> jobs;
  const bool want_jobs = options.service.has_value();
  auto sum = load_trace(path, load_options, [&](const Request& r) {
    const auto i = static_cast<std::uint32_t>(r.input_tokens);  // loaders cap lengths at 2^32 - 1
    const auto o = static_cast<std::uint32_t>(r.output_tokens);
    inputs.push_back(i);
    outputs.push_back(o);
    if (want_jobs && r.arrival_s) jobs.push_back(TimedRequest{*r.arrival_s, i, o});
  });
  if (!sum.ok()) return sum.error();
  return bin_lengths(std::move(inputs), std::move(outputs), std::move(jobs), std::move(*sum), options);
}

}  // namespace jouleperf::workload
