#include "jouleperf/study/sim_validation_run.hpp"

#include <filesystem>

#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::study {

namespace {

Result<std::vector<std::uint64_t>> list_of(const std::string& flag, const char* what) {
  auto spec = workload::parse_edge_spec(flag);
  if (!spec.ok()) return make_error(Errc::kInvalidArgument, std::string("--") + what + ": " + spec.error().message);
  if (spec->kind == workload::EdgeSpec::Kind::kQuantiles)
    return make_error(Errc::kInvalidArgument, std::string("--") + what + ": quantiles are not supported here");
  return workload::resolve_edges(*spec, {});
}

// The requests' lengths; sets the run's workload name and trace.
Result<estimate::RequestLengths> load(const SimValidationOptions& o, SimValidationRun& run) {
  if (!o.workload.empty()) {
    auto w = workload::find_default_workload(o.workload);
    if (!w.ok()) return make_error(Errc::kInvalidArgument, w.error().message);
    run.workload = o.workload;
    run.trace = "embedded:" + o.workload;
    return estimate::lengths_from_default(**w);
  }
  workload::LoadOptions lo;
  auto format = workload::parse_trace_format(o.format);
  if (!format.ok()) return format.error();
  lo.format = *format;
  auto t = workload::load_timed_requests(o.trace, lo);
  if (!t.ok()) return t.error();
  estimate::RequestLengths out;
  for (const auto& r : t->requests) {
    out.inputs.push_back(r.input_tokens);
    out.outputs.push_back(r.output_tokens);
  }
  run.workload = std::filesystem::path(o.trace).stem().string();
  run.trace = o.trace;
  return out;
}

Status check(const SimValidationOptions& o) {
  if (o.engine != "sim")
    return make_error(Errc::kInvalidArgument,
                      "--engine: only sim is validated at full scale (a measured engine runs a sampled validation in "
                      "`jouleperf study`)");
  if (o.trace.empty() == o.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace FILE or --workload NAME (one of them)");
  return {};
}

Result<workload::BinningOptions> binning(const SimValidationOptions& o) {
  auto policy = workload::parse_out_of_range(o.out_of_range);
  if (!policy.ok()) return policy.error();
  auto in_edges = list_of(o.input_edges, "input-edges");
  if (!in_edges.ok()) return in_edges.error();
  auto out_edges = list_of(o.output_edges, "output-edges");
  if (!out_edges.ok()) return out_edges.error();
  workload::BinningOptions bo;
  bo.input_edges = *in_edges;
  bo.output_edges = *out_edges;
  bo.policy = *policy;
  return bo;
}

}  // namespace

Result<SimValidationRun> run_sim_validation(const sim::SimConfig& config, const std::string& name,
                                            const SimValidationOptions& options) {
  if (auto st = check(options); !st) return st.error();
  auto composition = estimate::parse_batch_composition(options.composition);
  if (!composition.ok()) return composition.error();
  if (*composition == estimate::BatchComposition::kNone)
    return make_error(Errc::kInvalidArgument, "--composition: padded or ragged");
  SimValidationRun run;
  run.order = options.order.empty() ? (options.workload.empty() ? "trace" : "shuffle") : options.order;
  auto order = parse_batch_order(run.order);
  if (!order.ok()) return order.error();
  auto bo = binning(options);
  if (!bo.ok()) return bo.error();
  auto batches = list_of(options.batches, "batches");
  if (!batches.ok()) return batches.error();
  auto lengths = load(options, run);
  if (!lengths.ok()) return lengths.error();
  auto bins = estimate::bin_lengths(*lengths, *bo, run.workload, run.trace);
  if (!bins.ok()) return bins.error();
  FullValidationOptions o;
  o.config = name;
  o.estimate.max_batch = options.max_batch;
  o.estimate.composition = *composition;
  o.order = *order;
  o.seed = options.seed;
  auto v = validate_on_simulator(config, *bins, *lengths, *batches, o);
  if (!v.ok()) return v.error();
  run.config = name;
  run.hardware = config.hardware.name;
  run.requests = bins->requests;
  run.bins = bins->bins.size();
  run.excluded = bins->excluded;
  run.v = std::move(*v);
  return run;
}

}  // namespace jouleperf::study
